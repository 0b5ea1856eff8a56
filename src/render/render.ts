/**
 * The render pipeline: prepare the input (values checked, secrets collected), build the one
 * CUE program, evaluate it, map engine errors back to the author's source, post-process
 * (labels, namespaces, duplicates, key checks, sort), apply policies and build the result.
 * Ordering lives in order.ts, violations in violations.ts, object checks in object-checks.ts.
 *
 * Size: over 400 lines while the stages above still share the `Prepared` input; each stage
 * is a separate function so that they can move to files of their own (and run staged).
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import * as ast from "../core/cue/ast.js";
import { codeTokens, tokenize } from "../core/cue/lexer.js";
import { printDeclList, printSourceFile, type PrintedFile } from "../core/cue/print.js";
import { policyExpr, type PolicyUse } from "../../dsl/policy.js";
import { EngineError, OpmError, PolicyError, RenderError, ValidationError, type Issue, type SourceLocation } from "../core/errors.js";
import type { Provenance } from "../../dsl/config.js";
import { CORE_IMPORT, Module, type ModuleRelease, releaseFile, type CueSourceFile } from "../../dsl/module.js";
import { CUSTOM_PACKAGE } from "../../dsl/define.js";
import { defaultEngine, type Engine, type EvalStats } from "../engine/engine.js";
import { catalogPackage, defaultAlias, link, packageField, parseHeader, readCueDir, type CuePackage, type ParsedFile } from "../program/link.js";
import { cueConfigSchema } from "../program/config-schema.js";
import { readProgramInput, type ProgramInput } from "../program/input.js";
import { overrideReleaseIdentity } from "./release-identity.js";
import { checkObjectSizes, checkValuesSize } from "./limits.js";
import { matchRelease, nearestTransformers, transformerRules } from "../program/match.js";
import { checkObjects } from "./object-checks.js";
import { withheldSecrets } from "./withheld.js";
import { authorTerms, DIAGNOSE_MATCHED, diagnoseField, diagnoseTransformers, isolatedField, renderOut, type DiagnoseMode } from "./diagnose.js";
import { componentFields, MAX_LEAVES, probeFields, releaseValueIssues, type FieldNode } from "./all-errors.js";
import { checkValue } from "../core/schema.js";
import { fieldAt, mapSecrets, redactionMarkers, secretSource } from "../../dsl/config.js";
import { canonicalObject, forOutput, stableJson, toJsonList, toYaml } from "./serialize.js";
import { sha256 } from "../core/hash.js";
import { scrubText, secretValuesOf } from "../core/redact.js";
import { cleanViolation, compareViolations, violationIssue, violationPath } from "./violations.js";
import { compareObjects, isClusterScoped } from "./order.js";
import { renderStaged, type StageStats } from "./staged.js";
import type { K8sObject, ReleaseInfo, RenderResult, Violation } from "./types.js";

export { violationIssue, violationPath };
export { compareObjects, isClusterScoped };

export const KUBERNETES_PROVIDER = "opm.dev/catalog/providers/kubernetes@v1";
const PLATFORM_IMPORT = "opm.dev/platform@v1";

export interface RenderOptions {
  /** The engine to evaluate with (default: the process-wide engine). */
  engine?: Engine;
  /** Provider package import path (default: the Kubernetes provider). */
  provider?: string;
  /** Timings of the last render are written here when given. */
  stats?: RenderStats;
  /** Platform-wide policies, checked besides the module's own. */
  policies?: readonly PolicyUse[];
  /** Time limit of the CUE evaluation in ms (default: the engine's, 30 000 or `OPM_EVAL_TIMEOUT`). */
  evalTimeoutMs?: number;
  /**
   * `false` evaluates without the engine's result cache (neither read nor written).
   * Default: cached, unless `OPM_RENDER_CACHE=off`; a release holding secret values is
   * cached in memory only, never on disk.
   */
  cache?: boolean;
  /**
   * `"staged"` (the default) evaluates the release in stages (see render/staged.ts);
   * `"reference"` evaluates the single whole program. `OPM_RENDER=reference` sets the
   * default. Both give byte-identical results.
   */
  mode?: RenderMode;
}

/** How a release is evaluated: in stages, or as the single reference program. */
export type RenderMode = "staged" | "reference";

/** The render mode when not given: `OPM_RENDER` (`staged` or `reference`), else staged. */
export function defaultRenderMode(): RenderMode {
  const env = process.env.OPM_RENDER;
  if (env === "reference" || env === "staged") return env;
  if (env) throw new OpmError("usage", `OPM_RENDER=${JSON.stringify(env)} is not a render mode: use staged or reference`);
  return "staged";
}

export interface RenderStats {
  compileMs: number;
  linkMs: number;
  evalMs: number;
  postMs: number;
  programBytes: number;
  /** Whether the evaluation was answered from the result cache. */
  cached?: boolean;
  /** How the release was evaluated (`reference` also when the staged render handed over to it). */
  mode?: RenderMode;
  /** Set when the staged render handed over to the reference program (an error to report, or a CUE module's policies). */
  fallback?: boolean;
  /** Stage figures of a staged render. */
  stages?: StageStats;
}

/** A module written in CUE (a folder of .cue files), with release settings. */
export interface CueModuleInput {
  kind: "CueModule";
  /** Display name of the folder. */
  dir: string;
  files: CueSourceFile[];
  name?: string;
  namespace?: string;
  /** The cluster's DNS domain (default `cluster.local`). */
  clusterDomain?: string;
  values?: Record<string, unknown>;
  provenance?: Provenance;
}

/** Reads a folder of CUE files as a module (and, if present, its release package). */
export function loadCueModule(dir: string, release: Omit<CueModuleInput, "kind" | "dir" | "files"> = {}): CueModuleInput {
  if (!statSync(dir).isDirectory()) throw new ValidationError([{ code: "io", path: "", message: `${dir} is not a folder of .cue files` }]);
  const display = path.relative(process.cwd(), dir) || ".";
  const files = readCueDir(dir, display);
  if (!files.length)
    throw new ValidationError([{ code: "io", path: "", message: `${display} holds no .cue files (${readdirSync(dir).length} other entries)` }]);
  return { kind: "CueModule", dir: display, files, ...release };
}

export interface Prepared {
  files: CueSourceFile[];
  sources: Map<string, SourceLocation>;
  provenance: Provenance;
  configSite: (path: string) => SourceLocation | undefined;
  /** Literal secret values, kept out of every message. */
  secrets: string[];
  /** The TypeScript release, when the input was one. */
  release?: ModuleRelease<any>;
  /** The files with their headers read, and what they declare (handed over by the compiler, or read once). */
  program: ProgramInput;
}

function isCueModuleInput(v: unknown): v is CueModuleInput {
  return (v as CueModuleInput)?.kind === "CueModule";
}

async function prepare(input: ModuleRelease<any> | Module<any> | CueModuleInput, engine: Engine): Promise<Prepared> {
  if (!isCueModuleInput(input)) {
    const rel: ModuleRelease<any> = Module.is(input) ? (input as Module<any>).release() : (input as ModuleRelease<any>);
    const tooLarge = checkValuesSize(rel.values as Record<string, unknown>, (p) => rel.provenance(p));
    if (tooLarge.length) throw new ValidationError(tooLarge);
    const compiled = rel.compile();
    if (compiled.issues.length) throw new ValidationError(compiled.issues);
    return {
      files: compiled.files,
      sources: compiled.sources,
      provenance: (p) => rel.provenance(p),
      configSite: (f) => fieldAt(rel.module.config, f.split("."))?.site,
      secrets: rel.secretLiterals(),
      release: rel,
      program: { files: compiled.printed, declares: compiled.declares },
    };
  }
  const parsed = input.files.map((f) => parseHeader(f));
  // One module package (plus, optionally, package release and TypeScript-defined parts).
  const modules = [...new Set(parsed.map((f) => f.package))].filter((p) => p !== "release" && p !== CUSTOM_PACKAGE).sort();
  if (modules.length !== 1) {
    const which = modules
      .map(
        (m) =>
          `package ${m} (${parsed
            .filter((f) => f.package === m)
            .map((f) => path.basename(f.file.name))
            .sort()
            .join(", ")})`,
      )
      .join(", ");
    throw new ValidationError([
      {
        code: "io",
        path: "",
        message: `${input.dir}: a module folder holds the .cue files of one module package (and optionally a package release); found ${modules.length ? which : "no module package"}. Move the other files out of the folder, or give them one package name`,
      },
    ]);
  }
  const secrets: string[] = [];
  const hasRelease = parsed.some((f) => f.package === "release");
  const prov = input.provenance ?? (() => undefined);
  // Secrets the written release left out must be given again; a redaction marker is never a value.
  const withheld = withheldSecrets(input.files, input.values);
  if (withheld.length) throw new ValidationError(withheld);
  const tooLarge = checkValuesSize(input.values ?? {}, prov);
  if (tooLarge.length) throw new ValidationError(tooLarge);
  if (input.values && Object.keys(input.values).length) {
    // Check the values against the module's #config schema first, reporting every problem.
    const exported = await cueConfigSchema(
      engine,
      parsed.filter((f) => f.package !== "release"),
    );
    const schema = exported;
    if (schema) {
      const issues = [...checkValue(schema, input.values, "values"), ...redactionMarkers(schema, input.values)].map((i) => {
        const segs = i.path.split(".").slice(1);
        let source: SourceLocation | undefined;
        for (let n = segs.length; n > 0 && !source; n--) source = prov(segs.slice(0, n));
        return source ? { ...i, source } : i;
      });
      if (issues.length) throw new ValidationError(issues);
      // Secrets given in values files become `core.#Secret` sources; their literals are kept out of messages.
      const values = mapSecrets(schema, input.values, (v) => {
        if (typeof v === "string") secrets.push(v);
        return { source: secretSource(v) };
      }) as Record<string, unknown>;
      input = { ...input, values };
    }
  }
  // Flags win: --name / -n / --cluster-domain replace the release package's own name / namespace / cluster domain.
  const releaseFiles = new Set(parsed.filter((f) => f.package === "release").map((f) => f.file));
  const identity = { name: input.name, namespace: input.namespace, clusterDomain: input.clusterDomain };
  const files = hasRelease
    ? overrideReleaseIdentity(input.files, (f) => releaseFiles.has(f), identity, path.join(input.dir, "release identity (from the command line)"))
    : [...input.files];
  const generated: PrintedFile[] = [];
  if (!hasRelease) {
    generated.push(printSourceFile(path.join(input.dir, "release.cue (from the command line)"), releaseFileAst(modules[0]!, input)));
  } else if (input.values && Object.keys(input.values).length) {
    generated.push(
      printSourceFile(path.join(input.dir, "values (from the command line)"), ast.file("release", [], [ast.field("values", ast.fromJSON(input.values))])),
    );
  }
  // Files read above are not read again (a release file whose identity was replaced is).
  const read = new Map<CueSourceFile, ParsedFile>(parsed.map((f) => [f.file, f]));
  const program = readProgramInput([...files.map((f) => read.get(f) ?? f), ...generated], CUSTOM_PACKAGE);
  return { files: [...files, ...generated.map((g) => g.file)], sources: new Map(), provenance: prov, configSite: () => undefined, secrets, program };
}

function releaseFileAst(modulePackage: string, input: CueModuleInput): ast.File {
  return releaseFile({
    moduleImport: `local/${modulePackage}`,
    modulePackage,
    ...(input.name !== undefined ? { name: input.name } : {}),
    namespace: input.namespace ?? "default",
    ...(input.clusterDomain ? { clusterDomain: input.clusterDomain } : {}),
    values: input.values ?? {},
  });
}

/** What `core.#Render` evaluates to (see catalog/core/transformer.cue). */
export interface RenderOut {
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

/** The release's own packages (by package name), how its imports resolve, and the release package. */
export function localPackages(parsed: readonly ParsedFile[]): {
  local: Map<string, CuePackage>;
  resolve: (importPath: string) => CuePackage | undefined;
  releasePkg: CuePackage;
} {
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
  return { local, resolve, releasePkg: local.get("release")! };
}

/** The package of platform policies defined in TypeScript, if any. */
export function platformPackage(policies: readonly PolicyUse[]): CuePackage | undefined {
  const platformCustom = [...new Map(policies.flatMap((p) => (p.custom ? [[p.custom.fqn, p.custom] as const] : []))).values()];
  return platformCustom.length
    ? {
        importPath: PLATFORM_IMPORT,
        name: "platform",
        files: [
          printSourceFile(
            "platform policies (from TypeScript)",
            ast.file(
              "platform",
              [{ path: CORE_IMPORT, alias: "core" }, ...[...new Set(platformCustom.flatMap((c) => c.imports))].map((p) => ({ path: p }))],
              platformCustom.map((c) => c.decl),
            ),
          ),
        ],
      }
    : undefined;
}

/**
 * Groups parsed files by package and builds the linked program for the release. `files`
 * are the compiler's files with their headers and declarations (a {@link ProgramInput}),
 * or CUE files to read first.
 */
export function buildProgram(
  files: CueSourceFile[] | ProgramInput,
  provider = KUBERNETES_PROVIDER,
  policies: readonly PolicyUse[] = [],
  matched?: Record<string, string[]>,
  diagnose?: DiagnoseMode,
): { source: string; packages: CuePackage[] } {
  const input = Array.isArray(files) ? readProgramInput(files, CUSTOM_PACKAGE) : files;
  const { local, resolve, releasePkg } = localPackages(input.files);
  const providerPkg = catalogPackage(provider);
  if (!providerPkg) throw new ValidationError([{ code: "io", path: "", message: `unknown provider package ${provider}` }]);
  const core = packageField(CORE_IMPORT);
  const coreRef = (name: string) => ast.sel(ast.ident(core), name);
  // Transformers defined in TypeScript (package custom, `#Transformers`) extend the provider.
  const custom = local.get(CUSTOM_PACKAGE);
  const providerExpr = (): ast.Expr => {
    const base = ast.sel(ast.ident(packageField(provider)), "#Provider");
    if (!custom || !input.declares.transformers) return base;
    const each = ast.comprehension(
      [{ kind: "for", key: "k", value: "t", source: ast.sel(ast.ident(packageField(custom.importPath)), "#Transformers") }],
      ast.struct([ast.field({ dynamic: ast.ident("k") }, ast.ident("t"))]),
    );
    return ast.and(base, ast.struct([ast.field("transformers", ast.struct([each]))]));
  };
  const roots = [releasePkg, providerPkg, ...(custom ? [custom] : [])];
  // Platform policies defined in TypeScript live in a package of their own.
  const platformPkg = platformPackage(policies);
  if (platformPkg) roots.push(platformPkg);
  for (const p of policies) {
    if (p.custom) continue;
    const pkg = catalogPackage(p.cue.importPath);
    if (!pkg) throw new ValidationError([{ code: "io", path: "", message: `unknown policy package ${p.cue.importPath}` }]);
    if (!roots.includes(pkg)) roots.push(pkg);
  }
  // Only modules that declare them pay for policy checks and release secrets.
  const checkPolicies = policies.length > 0 || input.declares.policies;
  const releaseSecrets = input.declares.secrets;
  const platform = policies.map((p) => policyExpr(p, packageField(p.custom ? PLATFORM_IMPORT : p.cue.importPath)));
  const out = (...names: string[]) => ast.sel(ast.ident("out"), ...names);
  const rel = (...names: string[]) => out("#release", ...names);
  const forIn = (value: string, source: ast.Expr, body: ast.Struct, key?: string): ast.Comprehension =>
    ast.comprehension([{ kind: "for", ...(key ? { key } : {}), value, source }], body);
  // The release package is placed inside `#release` rather than linked as a field of
  // its own: it is then evaluated once (see docs/performance.md).
  const extra = (inlined: ReadonlyMap<string, string>): string => {
    const renderBody = ast.struct([
      ast.field("#release", ast.struct([ast.embed(ast.raw(inlined.get(releasePkg.importPath)!))])),
      ast.field("#provider", providerExpr()),
      ...(diagnose ? [ast.field("#matched", DIAGNOSE_MATCHED)] : matched ? [ast.field("#matched", ast.fromJSON(matched))] : []),
    ]);
    // An expression probe reads the release alone: it does not run the transformers.
    const renderExpr = diagnose?.kind === "expr" ? renderBody : ast.and(coreRef("#Render"), renderBody);
    const decls: ast.Decl[] = [diagnose ? ast.letDecl("renderOut", renderExpr) : ast.field("out", renderExpr)];
    if (diagnose) decls.push(...diagnoseField(diagnose, core));
    if (checkPolicies && !diagnose) {
      const policyList = ast.list([forIn("p", rel("_unified", "#policies"), ast.struct([ast.embed(ast.ident("p"))])), ...platform]);
      const objects = ast.comprehension(
        [
          { kind: "for", value: "o", source: out("objects") },
          { kind: "for", value: "x", source: ast.sel(ast.ident("o"), "output") },
        ],
        ast.struct([ast.field("component", ast.sel(ast.ident("o"), "component")), ast.field("object", ast.ident("x"))]),
      );
      const check = ast.and(
        coreRef("#CheckPolicies"),
        ast.struct([
          ast.field("#policies", policyList),
          ast.field(
            "#input",
            ast.struct([
              ast.field(
                "components",
                ast.sel(ast.paren(ast.and(coreRef("#PolicyComponents"), ast.struct([ast.field("#components", rel("components"))]))), "out"),
              ),
              ast.field("objects", ast.list([objects])),
            ]),
          ),
        ]),
      );
      decls.push(ast.field("violations", ast.sel(ast.paren(check), "violations")));
    }
    if (releaseSecrets && !diagnose) {
      const labels = ast.sel(
        ast.paren(ast.and(coreRef("#ReleaseLabels"), ast.struct([ast.field("#release", out("release")), ast.field("#module", out("module"))]))),
        "out",
      );
      const secrets = ast.and(
        ast.sel(ast.ident(packageField(provider)), "#ReleaseSecrets"),
        ast.struct([ast.field("#secrets", rel("_unified", "#secrets")), ast.field("#release", out("release")), ast.field("#labels", labels)]),
      );
      decls.push(ast.field("secrets", ast.sel(ast.paren(secrets), "output")));
    }
    return printDeclList(decls);
  };
  // In a diagnosis the module's packages are `let`s: their errors fail only what reads them.
  const { source } = link(roots, extra, resolve, new Set([releasePkg.importPath]), new Map(), diagnose ? (p) => p.startsWith("local/") : undefined);
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
    return p.configSite(segs.join("."));
  }
  let best: string | undefined;
  for (const k of p.sources.keys()) if ((userP === k || userP.startsWith(k + ".")) && (!best || k.length > best.length)) best = k;
  return best ? p.sources.get(best) : undefined;
}

function explain(message: string): string {
  if (/errors in empty disjunction/.test(message)) return "the value satisfies none of the allowed alternatives (wrong type or out of bounds)";
  if (/structural cycle/.test(message))
    return "a structural cycle: this value contains itself without end (a definition that refers to itself, directly or through others)";
  if (/incomplete cause disjunction|cycle/.test(message))
    return `no concrete value can be computed (${message.replace(/ \(and \d+ more errors?\)$/, "")}): a value that depends on itself, directly or through others, or a required value that is missing`;
  if (/incomplete value/.test(message)) return message.replace(/^.*incomplete value/, "no concrete value was given for") + " (a required value is missing)";
  return message;
}

function scrubError(e: EngineError, secrets: readonly string[]): EngineError {
  if (!secrets.length) return e;
  return new EngineError(
    e.issues.map((i) => ({ ...i, message: scrubText(i.message, secrets) })),
    scrubText(e.message.split("\n")[0]!, secrets),
  );
}

function mapEngineError(p: Prepared, e: EngineError, policies: readonly PolicyUse[] = []): never {
  const issues = mapEngineIssues(p, e.issues, policies);
  throw new ValidationError(issues, `${issues.length} error${issues.length === 1 ? "" : "s"} from CUE evaluation`);
}

function mapEngineIssues(p: Prepared, engineIssues: readonly Issue[], policies: readonly PolicyUse[] = []): Issue[] {
  // A policy's own CUE failing is reported as that policy's problem.
  const byDef = new Map([...policies, ...(p.release?.module.policies ?? [])].map((u) => [u.cue.def, u] as const));
  return engineIssues.map((i) => {
    const def = /(#[A-Za-z0-9]+Policy)\b/.exec(i.path)?.[1];
    const use = def ? byDef.get(def) : undefined;
    if (use) {
      const rest = i.path.slice(i.path.indexOf(def!) + def!.length).replace(/^\./, "");
      return {
        code: "engine",
        path: `policies.${use.fqn}${rest ? "." + rest : ""}`,
        message: `policy ${use.fqn} failed to compile: ${scrubText(i.message, p.secrets)}`,
        ...(use.site ? { source: use.site } : {}),
      };
    }
    const author = authorTerms(userPath(i.path), i.message);
    const path = author?.path ?? userPath(i.path);
    const source = locate(p, path);
    const code: Issue["code"] =
      author?.code ??
      (/field not allowed/.test(i.message)
        ? "unknown_field"
        : /incomplete value/.test(i.message)
          ? "required"
          : /out of bound|invalid value/.test(i.message)
            ? "out_of_range"
            : /conflicting values/.test(i.message)
              ? "conflict"
              : "engine");
    return {
      code,
      path,
      message: scrubText(author?.message ?? explain(i.message), p.secrets),
      ...(author?.constraint ? { constraint: author.constraint } : {}),
      ...(source ? { source } : {}),
    };
  });
}

/** Every error of a failed evaluation, each in the author's terms (see all-errors.ts). */
async function allErrors(
  p: Prepared,
  engine: Engine,
  provider: string,
  platform: readonly PolicyUse[],
  matched: Record<string, string[]> | undefined,
  _first: EngineError,
): Promise<Issue[]> {
  const parsed = p.files.map((f) => parseHeader(f));
  const program = (decls: readonly ast.Decl[]) => buildProgram(p.files, provider, platform, undefined, { kind: "expr", field: decls }).source;
  const issues: Issue[] = [];
  // A CUE module's own release may set values its #config refuses: checked like a values file.
  const components = componentFields(parsed.filter((f) => f.package !== "release"));
  const ownRelease = !p.release && parsed.some((f) => f.package === "release");
  const probed = await probeFields({
    engine,
    program,
    components,
    label: "the diagnosis of a failed render",
    ...(ownRelease ? { checkValues: () => releaseValueIssues(engine, parsed, program) } : {}),
  });
  issues.push(...probed.values);
  const declared = new Map<string, SourceLocation>();
  const index = (n: FieldNode): void => {
    declared.set(n.path.join("."), n.source);
    for (const c of n.children) index(c);
  };
  components.forEach(index);
  const seen = new Set<string>();
  for (const f of probed.errors) {
    const [i] = mapEngineIssues(p, [{ code: "engine", path: f.path, message: f.message }], platform);
    if (seen.has(`${i!.path}\n${i!.message}`)) continue;
    seen.add(`${i!.path}\n${i!.message}`);
    const at = declared.get(i!.path) ?? f.source;
    issues.push({ ...i!, ...(!i!.source && at ? { source: at } : {}) });
  }
  if (probed.unread.length)
    issues.push({
      code: "engine",
      path: "components",
      message: `${probed.unread.length} more failing field${probed.unread.length === 1 ? "" : "s"} not evaluated one by one (at most ${MAX_LEAVES} are): ${probed.unread.join(", ")}`,
    });
  // Transformers are checked too, each component rendered alone; a component with failing
  // fields is given the fields of its spec that evaluate. An error that is a component's own
  // field failing, or a field left out, is not the transformer's.
  const specs: Record<string, ast.Expr | undefined> = {};
  const json = (fn: string, x: ast.Expr) => ast.call(ast.sel(ast.ident("json"), fn), x);
  const plain = (x: ast.Expr) => json("Unmarshal", json("Marshal", x));
  for (const c of components) {
    const cn = c.path[1]!;
    const keys = probed.specKeys[cn];
    const spec = ast.sel(ast.index(renderOut("#release", "_unified", "#components"), ast.lit(cn)), "spec");
    // A key is a regular field even when it reads like a definition or a hidden field.
    const label = (k: string) => (/^[#_]/.test(k) ? { dynamic: ast.lit(k) } : k);
    specs[cn] = keys ? ast.struct(keys.passing.map((k) => ast.field(label(k), plain(ast.index(spec, ast.lit(k)))))) : plain(spec);
  }
  const notTheirs = (cn: string, message: string, at: string) =>
    (issues.length > 0 && /#components\./.test(at)) || (probed.specKeys[cn]?.failing ?? []).some((k) => message.startsWith(`undefined field: ${k}`));
  const core = packageField(CORE_IMPORT);
  const isolated = components.length
    ? await diagnose(p, engine, provider, platform, matched, notTheirs, (mode) => ({
        kind: "expr",
        field: mode.kind === "expr" ? mode.field : isolatedField(mode, core, specs, matched),
      }))
    : undefined;
  const found = isolated?.length || issues.length ? isolated : await diagnose(p, engine, provider, platform, matched, notTheirs);
  const messages = new Set(issues.map((i) => i.message));
  issues.push(...(found ?? []).filter((i) => !messages.has(i.message)));
  return issues;
}

const specKeysMemo = new Map<string, Set<string>>();

/** The spec keys a provider's transformers read (`#component.spec.<key>`), from the lexer's tokens. */
function specKeysRead(provider: string): Set<string> {
  let keys = specKeysMemo.get(provider);
  if (keys) return keys;
  keys = new Set<string>();
  for (const f of catalogPackage(provider)?.files ?? []) {
    const t = codeTokens(tokenize(f.body, f.file.name));
    for (let i = 0; i + 4 < t.length; i++) {
      if (t[i]!.text === "#component" && t[i + 1]!.text === "." && t[i + 2]!.text === "spec" && t[i + 3]!.text === "." && t[i + 4]!.kind === "ident")
        keys.add(t[i + 4]!.text);
    }
  }
  specKeysMemo.set(provider, keys);
  return keys;
}

/** Which transformers broke which components, each with the author's line (see diagnose.ts). */
async function diagnose(
  p: Prepared,
  engine: Engine,
  provider: string,
  platform: readonly PolicyUse[],
  matched?: Record<string, string[]>,
  ignore?: (component: string, message: string, enginePath: string) => boolean,
  mode: (m: DiagnoseMode) => DiagnoseMode = (m) => m,
): Promise<Issue[] | undefined> {
  const rules = await transformerRules(engine, provider).catch(() => undefined);
  const specRead = specKeysRead(provider);
  return diagnoseTransformers({
    engine,
    matched,
    ...(ignore ? { ignore } : {}),
    componentField: (enginePath, message) => mapEngineIssues(p, [{ code: "engine", path: enginePath, message }], platform)[0],
    program: (m) => buildProgram(p.program, provider, platform, undefined, mode(m)).source,
    site: (cn, tn) => {
      const needs = rules?.[tn]?.requiredTraits ?? [];
      const part = p.release?.module.components()[cn]?.parts.find((x) => needs.includes(x.fqn));
      const key = part && Object.keys(part.spec)[0];
      const path = key ? `components.${cn}.spec.${key}` : `components.${cn}`;
      const source = part?.site ?? locate(p, path);
      return { path, ...(source ? { source } : {}) };
    },
    readsSpec: (_tn, key) => specRead.has(key),
  });
}

function postProcess(out: RenderOut, p: Prepared, releaseObjects: K8sObject[] = []): { objects: K8sObject[]; issues: Issue[] } {
  const issues: Issue[] = [];
  for (const [cn, c] of Object.entries(out.components)) {
    const matched = c.matched;
    const source = locate(p, `components.${cn}`);
    const at = source ? { source } : {};
    if (!matched.length) {
      issues.push({
        code: "unmatched_component",
        path: `components.${cn}`,
        message: `no transformer matches component "${cn}" (labels: ${JSON.stringify(c.labels)}; resources: ${c.resources.join(", ") || "none"}; traits: ${c.traits.join(", ") || "none"}). Closest: ${nearestTransformers(c, out.transformers)}`,
        ...at,
      });
      continue;
    }
    for (const t of c.traits) {
      const handled = matched.some((tn) => out.transformers[tn]!.requiredTraits.includes(t) || out.transformers[tn]!.optionalTraits.includes(t));
      if (!handled)
        issues.push({
          code: "unhandled_trait",
          path: `components.${cn}`,
          message: `trait ${t} on component "${cn}" is not handled by any matching transformer (${matched.join(", ")})`,
          ...at,
        });
    }
  }
  const seen = new Map<string, string>();
  const objects: K8sObject[] = [];
  const made: { component: string; object: K8sObject }[] = [];
  const all = [
    ...out.objects.flatMap((e) => e.output.map((object) => ({ component: e.component, object }))),
    ...releaseObjects.map((object) => ({ component: "", object })),
  ];
  for (const { component, object } of all) {
    const labels = component ? out.components[component]!.context.labels : {};
    const o: K8sObject = { ...object, metadata: { ...object.metadata, labels: { ...(object.metadata.labels ?? {}), ...labels } } };
    if (!isClusterScoped(o.kind) && !o.metadata.namespace) o.metadata.namespace = out.release.namespace;
    const key = `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
    const prev = seen.get(key);
    if (prev !== undefined) {
      const source = locate(p, `components.${component}`);
      issues.push({
        code: "conflict",
        path: `components.${component}`,
        message: `${o.kind} ${o.metadata.namespace ? o.metadata.namespace + "/" : ""}${o.metadata.name} is rendered twice (by components "${prev}" and "${component}")`,
        ...(source ? { source } : {}),
      });
      continue;
    }
    seen.set(key, component);
    made.push({ component, object: o });
    objects.push(canonicalObject(o));
  }
  issues.push(...checkObjects(made, (c) => locate(p, `components.${c}`)));
  objects.sort(compareObjects);
  issues.push(...missingKeys(objects, p));
  return { objects, issues };
}

/** Pod specs inside a workload object (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod). */
function podSpecs(o: K8sObject): Record<string, any>[] {
  const spec = (o as Record<string, any>).spec;
  if (!spec) return [];
  if (spec.jobTemplate?.spec?.template?.spec) return [spec.jobTemplate.spec.template.spec];
  if (spec.template?.spec) return [spec.template.spec];
  return o.kind === "Pod" ? [spec] : [];
}

/**
 * References by key to a ConfigMap or Secret this release renders must name a key it has
 * (a typo would otherwise only show when the pod fails to start). Key names are listed;
 * values never are.
 */
function missingKeys(objects: K8sObject[], p: Prepared): Issue[] {
  const keys = new Map<string, Set<string>>();
  for (const o of objects) {
    if (o.kind !== "Secret" && o.kind !== "ConfigMap") continue;
    const r = o as Record<string, any>;
    keys.set(
      `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`,
      new Set([...Object.keys(r.data ?? {}), ...Object.keys(r.stringData ?? {}), ...Object.keys(r.binaryData ?? {})]),
    );
  }
  const issues: Issue[] = [];
  for (const o of objects) {
    const component = o.metadata.labels?.["component.opmodel.dev/name"] ?? "";
    const check = (kind: "Secret" | "ConfigMap", name: string, key: string, optional: boolean | undefined, where: string) => {
      const have = keys.get(`${kind}/${o.metadata.namespace ?? ""}/${name}`);
      if (!have || have.has(key) || optional) return;
      const source = locate(p, `components.${component}`);
      issues.push({
        code: "missing_key",
        path: `components.${component}`,
        message: `${where} of ${o.kind}/${o.metadata.name} refers to key "${key}" of ${kind} ${name}, which has ${have.size ? `the keys ${[...have].sort().join(", ")}` : "no keys"}`,
        ...(source ? { source } : {}),
      });
    };
    for (const pod of podSpecs(o)) {
      for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
        for (const e of c.env ?? []) {
          const s = e.valueFrom?.secretKeyRef;
          if (s) check("Secret", s.name, s.key, s.optional, `env ${e.name} of container ${c.name}`);
          const m = e.valueFrom?.configMapKeyRef;
          if (m) check("ConfigMap", m.name, m.key, m.optional, `env ${e.name} of container ${c.name}`);
        }
      }
      for (const v of pod.volumes ?? []) {
        for (const item of v.secret?.items ?? []) check("Secret", v.secret.secretName, item.key, v.secret.optional, `volume ${v.name}`);
        for (const item of v.configMap?.items ?? []) check("ConfigMap", v.configMap.name, item.key, v.configMap.optional, `volume ${v.name}`);
      }
    }
  }
  return issues;
}

/**
 * Renders a release (or a module with a default release, or a CUE module folder) into
 * Kubernetes objects: compile to CUE, link with the catalog, evaluate, match
 * transformers, stamp labels, sort and serialise.
 */
export async function render(input: ModuleRelease<any> | Module<any> | CueModuleInput, options: RenderOptions = {}): Promise<RenderResult> {
  const t0 = performance.now();
  const engine = options.engine ?? defaultEngine();
  // Uncached, load the evaluator while the module compiles and links (it answers errors on
  // eval); cached, the evaluator is started only if the program is not in the cache.
  if (options.cache === false || !engine.cache || process.env.OPM_RENDER_CACHE === "off") engine.start().catch(() => undefined);
  const prepared = await prepare(input, engine);
  const t1 = performance.now();
  const platform = options.policies ?? [];
  const policyIssues = platform.flatMap((p) => p.issues);
  if (policyIssues.length) throw new ValidationError(policyIssues);
  // For a TypeScript release, match transformers here (the same rules, without evaluating
  // every component/transformer pair in CUE).
  const provider = options.provider ?? KUBERNETES_PROVIDER;
  // The reference program (built here for the reference render, and by a staged render only
  // when it hands over; a staged render matches with its own table of the same rules).
  let matched: Record<string, string[]> | undefined;
  let source = "";
  const build = async () => {
    matched =
      prepared.release && !prepared.release.module.transformers.length ? matchRelease(prepared.release, await transformerRules(engine, provider)) : undefined;
    source = buildProgram(prepared.program, provider, platform, matched).source;
  };
  const mode = options.mode ?? defaultRenderMode();
  if (mode === "reference") await build();
  const t2 = performance.now();
  let out: RenderOut;
  let found: Violation[];
  let releaseObjects: K8sObject[];
  const evalStats: EvalStats = { evalMs: 0 };
  const cache = options.cache === false ? false : prepared.secrets.length ? "memory" : true;
  const releaseLabel = prepared.release?.name ?? (input as CueModuleInput).name ?? `of ${(input as CueModuleInput).dir}`;
  const staged =
    mode === "staged"
      ? await renderStaged({
          prepared,
          engine,
          provider,
          platform,
          cache,
          label: releaseLabel,
          ...(options.evalTimeoutMs ? { timeoutMs: options.evalTimeoutMs } : {}),
        }).catch((e: unknown) => {
          throw EngineError.is(e) ? scrubError(e, prepared.secrets) : e;
        })
      : undefined;
  if (staged) {
    ({ out, releaseObjects } = staged);
    found = staged.violations;
  } else
    try {
      if (!source) await build();
      const value = await engine.eval<{ out: RenderOut; violations: Violation[]; secrets: K8sObject[] }>(source, {
        label: `release ${releaseLabel}`,
        cache,
        stats: evalStats,
        ...(options.evalTimeoutMs ? { timeoutMs: options.evalTimeoutMs } : {}),
      });
      out = value.out;
      releaseObjects = value.secrets ?? [];
      found = value.violations ?? [];
    } catch (e) {
      if (EngineError.is(e) && e.code === "engine") {
        // The diagnosis failing (a timeout, a crash) leaves the evaluator's own error to report.
        const found = await allErrors(prepared, engine, provider, platform, matched, e).catch(() => [] as Issue[]);
        if (found.length)
          throw new ValidationError(
            found.map((i) => ({ ...i, message: scrubText(i.message, prepared.secrets) })),
            `${found.length} error${found.length === 1 ? "" : "s"} from CUE evaluation`,
          );
      }
      if (EngineError.is(e) && e.code === "engine") mapEngineError(prepared, e, platform);
      if (EngineError.is(e)) throw scrubError(e, prepared.secrets);
      throw e;
    }
  const t3 = performance.now();
  const { objects, issues } = postProcess(out, prepared, releaseObjects);
  issues.push(...checkObjectSizes(objects));
  if (issues.length)
    throw new RenderError(
      issues.map((i) => ({ ...i, message: scrubText(i.message, prepared.secrets) })),
      `cannot render release ${out.release.name}`,
    );
  const release: ReleaseInfo = { ...out.release, module: out.module };
  // No secret in any message: a policy may quote a value (a user's policy included), so every
  // literal secret the render knows (the release's, and those of the Secrets it renders) is scrubbed.
  const known = [...prepared.secrets, ...secretValuesOf(objects, 6)];
  const violations = found
    .map((v) => cleanViolation({ ...v, message: scrubText(v.message, known), ...(v.path ? { path: scrubText(v.path, known) } : {}) }))
    .sort(compareViolations);
  const blocking = violations.filter((v) => v.severity === "block");
  if (blocking.length) {
    throw new PolicyError(
      blocking.map(violationIssue),
      `release ${release.name} is blocked by ${blocking.length} policy violation${blocking.length === 1 ? "" : "s"}`,
      violations.filter((v) => v.severity === "warn").map(violationIssue),
    );
  }
  const result: RenderResult = {
    release,
    objects,
    digest: sha256(stableJson(objects)),
    valuesDigest: sha256(stableJson(out.values)),
    violations,
    yaml: (o = {}) => toYaml(forOutput(objects, o)),
    json: (o = {}) => toJsonList(forOutput(objects, o)),
  };
  if (options.stats) {
    Object.assign(options.stats, {
      compileMs: t1 - t0,
      linkMs: t2 - t1,
      evalMs: t3 - t2,
      postMs: performance.now() - t3,
      programBytes: staged ? staged.programBytes : source.length,
      cached: staged ? staged.cached : Boolean(evalStats.cached),
      mode: staged ? "staged" : "reference",
      fallback: mode === "staged" && !staged,
      ...(staged ? { stages: staged.stages } : {}),
    });
  }
  return result;
}

/** The CUE files a release compiles to (module.cue, components.cue, release.cue). */
export function toCueFiles(input: ModuleRelease<any> | Module<any>, options: { redactSecrets?: boolean } = {}): CueSourceFile[] {
  const rel: ModuleRelease<any> = Module.is(input) ? (input as Module<any>).release() : (input as ModuleRelease<any>);
  const compiled = rel.compile(options);
  if (compiled.issues.length) throw new ValidationError(compiled.issues);
  return compiled.files;
}
