import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import * as ast from "../../dsl/cue/ast.js";
import { printFile } from "../../dsl/cue/print.js";
import { EngineError, RenderError, ValidationError, type Issue, type SourceLocation } from "../../dsl/errors.js";
import type { Provenance } from "../../dsl/config.js";
import { CORE_IMPORT, Module, ModuleRelease, type CueSourceFile } from "../../dsl/module.js";
import { defaultEngine, type Engine } from "../engine/engine.js";
import { catalogPackage, defaultAlias, link, packageField, parseHeader, readCueDir, type CuePackage, type ParsedFile } from "../engine/link.js";
import { canonicalObject, redact, sha256, stableJson, toJson, toYaml } from "./serialize.js";
import { kindWeight, type K8sObject, type ReleaseInfo, type RenderResult, type Violation } from "./types.js";

export const KUBERNETES_PROVIDER = "opm.dev/catalog/providers/kubernetes@v1";

export interface RenderOptions {
  /** The engine to evaluate with (default: the process-wide engine). */
  engine?: Engine;
  /** Provider package import path (default: the Kubernetes provider). */
  provider?: string;
  /** Timings of the last render are written here when given. */
  stats?: RenderStats;
}

export interface RenderStats {
  compileMs: number;
  linkMs: number;
  evalMs: number;
  postMs: number;
  programBytes: number;
}

/** A module written in CUE (a folder of .cue files), with release settings. */
export interface CueModuleInput {
  kind: "CueModule";
  /** Display name of the folder. */
  dir: string;
  files: CueSourceFile[];
  name?: string;
  namespace?: string;
  values?: Record<string, unknown>;
  provenance?: Provenance;
}

const CLUSTER_SCOPED = new Set([
  "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume", "StorageClass",
  "PriorityClass", "IngressClass", "RuntimeClass", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
  "APIService", "CSIDriver", "ClusterIssuer", "GatewayClass", "ClusterSecretStore",
]);

export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind);
}

/** Reads a folder of CUE files as a module (and, if present, its release package). */
export function loadCueModule(dir: string, release: Omit<CueModuleInput, "kind" | "dir" | "files"> = {}): CueModuleInput {
  if (!statSync(dir).isDirectory()) throw new ValidationError([{ code: "io", path: "", message: `${dir} is not a folder of .cue files` }]);
  const display = path.relative(process.cwd(), dir) || ".";
  const files = readCueDir(dir, display);
  if (!files.length) throw new ValidationError([{ code: "io", path: "", message: `${display} holds no .cue files (${readdirSync(dir).length} other entries)` }]);
  return { kind: "CueModule", dir: display, files, ...release };
}

interface Prepared {
  files: CueSourceFile[];
  sources: Map<string, SourceLocation>;
  provenance: Provenance;
  configSite: (field: string) => SourceLocation | undefined;
}

function prepare(input: ModuleRelease | Module | CueModuleInput): Prepared {
  if (Module.is(input)) input = input.release();
  if (ModuleRelease.is(input)) {
    const rel = input;
    const compiled = rel.compile();
    if (compiled.issues.length) throw new ValidationError(compiled.issues);
    return {
      files: compiled.files,
      sources: compiled.sources,
      provenance: (p) => rel.provenance(p),
      configSite: (f) => rel.module.config[f]?.site,
    };
  }
  const parsed = input.files.map((f) => parseHeader(f));
  const hasRelease = parsed.some((f) => f.package === "release");
  const files = [...input.files];
  if (!hasRelease) {
    const mods = [...new Set(parsed.map((f) => f.package))];
    if (mods.length !== 1) {
      throw new ValidationError([{ code: "io", path: "", message: `${input.dir}: expected one module package, found ${mods.join(", ") || "none"}` }]);
    }
    files.push({ name: path.join(input.dir, "release.cue (from the command line)"), text: releaseFileText(mods[0]!, input) });
  } else if (input.values && Object.keys(input.values).length) {
    files.push({ name: path.join(input.dir, "values (from the command line)"), text: printFile(ast.file("release", [], [ast.field("values", ast.fromJSON(input.values))])) });
  }
  const prov = input.provenance ?? (() => undefined);
  return { files, sources: new Map(), provenance: prov, configSite: () => undefined };
}

function releaseFileText(modulePackage: string, input: CueModuleInput): string {
  return printFile(
    ast.file(
      "release",
      [
        { path: CORE_IMPORT, alias: "core" },
        { path: `local/${modulePackage}`, alias: modulePackage },
      ],
      [
        ast.embed(
          ast.and(
            ast.sel(ast.ident("core"), "#ModuleRelease"),
            ast.struct([
              ast.field(
                "metadata",
                ast.struct([
                  ...(input.name ? [ast.field("name", ast.lit(input.name))] : []),
                  ast.field("namespace", ast.lit(input.namespace ?? "default")),
                ]),
              ),
              ...(input.name ? [] : [ast.field("metadata", ast.struct([ast.field("name", ast.sel(ast.ident(modulePackage), "metadata", "name"))]))]),
              ast.field("#module", ast.ident(modulePackage)),
              ast.field("values", ast.fromJSON(input.values ?? {})),
            ]),
          ),
        ),
      ],
    ),
  );
}

/** What `core.#Render` evaluates to (see catalog/core/transformer.cue). */
interface RenderOut {
  release: ReleaseInfo extends infer R ? Omit<R & object, "module"> : never;
  module: ReleaseInfo["module"];
  components: Record<
    string,
    {
      labels: Record<string, string>;
      resources: string[];
      traits: string[];
      context: { labels: Record<string, string> };
      /** Names of the transformers that match the component. */
      matched: string[];
    }
  >;
  transformers: Record<string, { requiredLabels: Record<string, string>; requiredResources: string[]; requiredTraits: string[]; optionalTraits: string[] }>;
  values: Record<string, unknown>;
  /** One entry per matched (component, transformer) pair. */
  objects: { component: string; transformer: string; output: K8sObject[] }[];
}

/** Groups parsed files by package and builds the linked program for the release. */
export function buildProgram(files: CueSourceFile[], provider = KUBERNETES_PROVIDER): { source: string; packages: CuePackage[] } {
  const parsed = files.map((f) => parseHeader(f));
  const byPkg = new Map<string, ParsedFile[]>();
  for (const f of parsed) byPkg.set(f.package, [...(byPkg.get(f.package) ?? []), f]);
  const releaseFiles = byPkg.get("release");
  if (!releaseFiles) throw new ValidationError([{ code: "io", path: "", message: "no release package (package release) among the CUE files" }]);
  const local = new Map<string, CuePackage>();
  for (const [name, fs] of byPkg) local.set(name, { importPath: `local/${name}`, name, files: fs });
  const resolve = (importPath: string): CuePackage | undefined => {
    const wanted = importPath.includes(":") ? importPath.split(":")[1]! : defaultAlias(importPath).replace(/[^A-Za-z0-9_]/g, "_");
    return local.get(wanted) ?? (local.size === 2 ? [...local.values()].find((p) => p.name !== "release") : undefined);
  };
  const releasePkg = local.get("release")!;
  const providerPkg = catalogPackage(provider);
  if (!providerPkg) throw new ValidationError([{ code: "io", path: "", message: `unknown provider package ${provider}` }]);
  const core = packageField(CORE_IMPORT);
  // The release package is placed inside `#release` rather than linked as a field of
  // its own: it is then evaluated once (see docs/performance.md).
  const extra = (inlined: ReadonlyMap<string, string>) =>
    `out: ${core}.#Render & {\n\t#release: {\n${inlined.get(releasePkg.importPath)}\n\t}\n\t#provider: ${packageField(provider)}.#Provider\n}`;
  const { source } = link([releasePkg, providerPkg], extra, resolve, new Set([releasePkg.importPath]));
  return { source, packages: [...local.values()] };
}

/** Maps an engine path such as `_pkg_local_release._unified.#config.replicas` to a user-facing path. */
export function userPath(enginePath: string): string {
  const segs = enginePath.split(".").filter((s) => !s.startsWith("_pkg_") && s !== "out" && s !== "_unified" && s !== "#release" && s !== "_release");
  const joined = segs.join(".");
  const cfg = joined.indexOf("#config");
  if (cfg >= 0) return "values" + joined.slice(cfg + "#config".length);
  for (const anchor of ["#components.", "components."]) {
    const i = joined.indexOf(anchor);
    if (i >= 0) return "components." + joined.slice(i + anchor.length);
  }
  return joined.replace(/^#module\./, "");
}

function locate(p: Prepared, userP: string): SourceLocation | undefined {
  if (userP.startsWith("values.")) {
    const segs = userP.split(".").slice(1);
    for (let n = segs.length; n > 0; n--) {
      const s = p.provenance(segs.slice(0, n));
      if (s) return s;
    }
    return p.configSite(segs[0]!);
  }
  let best: string | undefined;
  for (const k of p.sources.keys()) if ((userP === k || userP.startsWith(k + ".")) && (!best || k.length > best.length)) best = k;
  return best ? p.sources.get(best) : undefined;
}

function explain(message: string): string {
  if (/errors in empty disjunction/.test(message)) return "the value satisfies none of the allowed alternatives (wrong type or out of bounds)";
  if (/incomplete value/.test(message)) return message.replace(/^.*incomplete value/, "no concrete value was given for") + " (a required value is missing)";
  return message;
}

function mapEngineError(p: Prepared, e: EngineError): never {
  const issues: Issue[] = e.issues.map((i) => {
    const path = userPath(i.path);
    const source = locate(p, path);
    const code: Issue["code"] = /field not allowed/.test(i.message) ? "unknown_field" : /incomplete value/.test(i.message) ? "required" : /out of bound|invalid value/.test(i.message) ? "out_of_range" : /conflicting values/.test(i.message) ? "conflict" : "engine";
    return { code, path, message: explain(i.message), ...(source ? { source } : {}) };
  });
  throw new ValidationError(issues, `${issues.length} error${issues.length === 1 ? "" : "s"} from CUE evaluation`);
}

/** What a component lacks for a transformer (the same rules as `core.#Match`). */
function missingFor(c: RenderOut["components"][string], t: RenderOut["transformers"][string]): string[] {
  return [
    ...Object.entries(t.requiredLabels).filter(([k, v]) => c.labels[k] !== v).map(([k, v]) => `label ${k}=${v}`),
    ...t.requiredResources.filter((r) => !c.resources.includes(r)).map((r) => `resource ${r}`),
    ...t.requiredTraits.filter((r) => !c.traits.includes(r)).map((r) => `trait ${r}`),
  ];
}

function nearest(c: RenderOut["components"][string], transformers: RenderOut["transformers"]): string {
  const ranked = Object.entries(transformers)
    .map(([tn, t]) => ({ tn, missing: missingFor(c, t) }))
    .sort((a, b) => a.missing.length - b.missing.length || a.tn.localeCompare(b.tn));
  return ranked.slice(0, 3).map((r) => `${r.tn} needs ${r.missing.join(", ")}`).join("; ");
}

function postProcess(out: RenderOut, p: Prepared): { objects: K8sObject[]; issues: Issue[] } {
  const issues: Issue[] = [];
  for (const [cn, c] of Object.entries(out.components)) {
    const matched = c.matched;
    const source = locate(p, `components.${cn}`);
    const at = source ? { source } : {};
    if (!matched.length) {
      issues.push({ code: "unmatched_component", path: `components.${cn}`, message: `no transformer matches component "${cn}" (labels: ${JSON.stringify(c.labels)}; resources: ${c.resources.join(", ") || "none"}; traits: ${c.traits.join(", ") || "none"}). Closest: ${nearest(c, out.transformers)}`, ...at });
      continue;
    }
    for (const t of c.traits) {
      const handled = matched.some((tn) => out.transformers[tn]!.requiredTraits.includes(t) || out.transformers[tn]!.optionalTraits.includes(t));
      if (!handled) issues.push({ code: "unhandled_trait", path: `components.${cn}`, message: `trait ${t} on component "${cn}" is not handled by any matching transformer (${matched.join(", ")})`, ...at });
    }
  }
  const seen = new Map<string, string>();
  const objects: K8sObject[] = [];
  for (const { component, object } of out.objects.flatMap((e) => e.output.map((object) => ({ component: e.component, object })))) {
    const labels = out.components[component]!.context.labels;
    const o: K8sObject = { ...object, metadata: { ...object.metadata, labels: { ...(object.metadata.labels ?? {}), ...labels } } };
    if (!isClusterScoped(o.kind) && !o.metadata.namespace) o.metadata.namespace = out.release.namespace;
    const key = `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
    const prev = seen.get(key);
    if (prev !== undefined) {
      issues.push({ code: "conflict", path: `components.${component}`, message: `${o.kind} ${o.metadata.name} is rendered twice (by components "${prev}" and "${component}")` });
      continue;
    }
    seen.set(key, component);
    objects.push(canonicalObject(o));
  }
  objects.sort(compareObjects);
  return { objects, issues };
}

/** Kind weight, then namespace, then name, then kind and apiVersion. */
export function compareObjects(a: K8sObject, b: K8sObject): number {
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return (
    kindWeight(a.kind) - kindWeight(b.kind) ||
    cmp(a.metadata.namespace ?? "", b.metadata.namespace ?? "") ||
    cmp(a.metadata.name, b.metadata.name) ||
    cmp(a.kind, b.kind) ||
    cmp(a.apiVersion, b.apiVersion)
  );
}

/**
 * Renders a release (or a module with a default release, or a CUE module folder) into
 * Kubernetes objects: compile to CUE, link with the catalog, evaluate, match
 * transformers, stamp labels, sort and serialise.
 */
export async function render(input: ModuleRelease | Module | CueModuleInput, options: RenderOptions = {}): Promise<RenderResult> {
  const t0 = performance.now();
  const engine = options.engine ?? defaultEngine();
  // Load the evaluator while the module compiles and links (it answers errors on eval).
  engine.start().catch(() => undefined);
  const prepared = prepare(input);
  const t1 = performance.now();
  const { source } = buildProgram(prepared.files, options.provider);
  const t2 = performance.now();
  let out: RenderOut;
  try {
    out = (await engine.eval<{ out: RenderOut }>(source)).out;
  } catch (e) {
    if (EngineError.is(e) && e.code === "E_ENGINE") mapEngineError(prepared, e);
    throw e;
  }
  const t3 = performance.now();
  const { objects, issues } = postProcess(out, prepared);
  if (issues.length) throw new RenderError(issues, `cannot render release ${out.release.name}`);
  const release: ReleaseInfo = { ...out.release, module: out.module };
  const violations: Violation[] = [];
  const result: RenderResult = {
    release,
    objects,
    digest: sha256(stableJson(objects)),
    valuesDigest: sha256(stableJson(out.values)),
    violations,
    yaml: (o = {}) => toYaml(o.showSecrets ? objects : objects.map(redact)),
    json: (o = {}) => toJson(o.showSecrets ? objects : objects.map(redact)),
  };
  if (options.stats) {
    Object.assign(options.stats, { compileMs: t1 - t0, linkMs: t2 - t1, evalMs: t3 - t2, postMs: performance.now() - t3, programBytes: source.length });
  }
  return result;
}

/** The CUE files a release compiles to (module.cue, components.cue, release.cue). */
export function toCueFiles(input: ModuleRelease | Module): CueSourceFile[] {
  const rel = Module.is(input) ? input.release() : input;
  const compiled = rel.compile();
  if (compiled.issues.length) throw new ValidationError(compiled.issues);
  return compiled.files;
}
