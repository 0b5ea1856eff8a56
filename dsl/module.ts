/**
 * Modules and releases: `defineModule()`, the `Module` (metadata, config shape, components,
 * policies, custom definitions) and the `ModuleRelease` (a module with a name, namespace and
 * values), and the compiler that turns a release into canonical CUE files (module.cue,
 * components.cue, release.cue) with the structured data the render needs.
 *
 * Size: over 400 lines because `Module` and `ModuleRelease` compile together (the release's
 * files embed the module's); the release.cue builder is `releaseFile()`, shared with CUE folders.
 */
import * as ast from "../src/core/cue/ast.js";
import { printSourceFile, type PrintedFile } from "../src/core/cue/print.js";
import { quoteString } from "../src/core/cue/quote.js";
import { Component } from "./component.js";
import {
  checkShape,
  fieldAt,
  mapSecrets,
  redactionMarkers,
  shapeDefaultIssues,
  refsFor,
  secretFields,
  secretSource,
  shapeImports,
  shapeSchema,
  shapeToStruct,
  type ConfigShape,
  type Provenance,
  type RefsOf,
  type ValuesOf,
} from "./config.js";
import { OpmError, ValidationError, type Issue, type SourceLocation } from "../src/core/errors.js";
import type { CueRef } from "./parts.js";
import { callSite } from "./source.js";
import { checkComponentRefs, moduleContext, type ModuleContext } from "./context.js";
import { refsIn } from "./refs.js";
import { checkValue } from "../src/core/schema.js";
import { isPolicyUse, policyExpr, type PolicyUse } from "./policy.js";
import { customPackageFile, isCustomDefinition, type CustomDefinition, type CustomTransformer } from "./define.js";

export const CORE_IMPORT = "opm.dev/catalog/core@v1";

/** A generated CUE file (virtual: its name is relative, nothing is written). */
export interface CueSourceFile {
  name: string;
  text: string;
}

export interface ModuleMetadata {
  /** Domain-qualified path, e.g. `example.com/modules`. */
  modulePath: string;
  /** DNS label, e.g. `hello`. */
  name: string;
  /** SemVer, e.g. `0.1.0`. */
  version: string;
  description?: string;
  labels?: Record<string, string>;
}

/**
 * Traits whose transformer reads another trait's spec: an Ingress or HTTPRoute routes to
 * the Service that Expose makes. A component with the first and not the second fails to
 * compile (see {@link CheckedComponents}).
 */
export interface TraitNeeds {
  "opm.dev/catalog/traits/ingress@v1": "opm.dev/catalog/traits/expose@v1";
  "opm.dev/catalog/traits/http-route@v1": "opm.dev/catalog/traits/expose@v1";
}

/** The type a component takes in `components` when it has a trait without the trait that one needs. */
export interface TraitNeedsTrait<T extends string, N extends string> {
  readonly "this component has the trait": T;
  readonly "which needs the trait": N;
}

/**
 * Traits a blueprint cannot take: a DaemonWorkload runs one pod per node and a task runs to
 * completion, so neither can scale (a HorizontalPodAutoscaler targets Deployments and
 * StatefulSets only).
 */
export interface TraitExcludes {
  "opm.dev/catalog/blueprints/daemon-workload@v1": "opm.dev/catalog/traits/scaling@v1";
  "opm.dev/catalog/blueprints/task-workload@v1": "opm.dev/catalog/traits/scaling@v1";
  "opm.dev/catalog/blueprints/scheduled-task-workload@v1": "opm.dev/catalog/traits/scaling@v1";
}

/** The type a component takes in `components` when its blueprint cannot take one of its traits. */
export interface TraitExcluded<B extends string, T extends string> {
  readonly "a component made with": B;
  readonly "cannot take the trait": T;
}

export type Excluded<F extends string> = {
  [B in keyof TraitExcludes & F]: TraitExcludes[B] extends F ? TraitExcluded<B, TraitExcludes[B]> : never;
}[keyof TraitExcludes & F];

export type MissingNeeds<F extends string> = {
  [T in keyof TraitNeeds & F]: TraitNeeds[T] extends F ? never : TraitNeedsTrait<T, TraitNeeds[T]>;
}[keyof TraitNeeds & F];

/**
 * Maps each component whose FQNs are known to itself, or to {@link TraitNeedsTrait} when it
 * lacks a trait one of its traits needs, or to {@link TraitExcluded} when its blueprint cannot
 * take one of its traits: such a component fails to compile.
 */
export type CheckedComponents<R> = {
  [K in keyof R]: R[K] extends Component<infer F>
    ? string extends F
      ? R[K]
      : [MissingNeeds<F> | Excluded<F>] extends [never]
        ? R[K]
        : MissingNeeds<F> | Excluded<F>
    : R[K];
};

export interface ModuleDefinition<S extends ConfigShape, R extends Record<string, Component> = Record<string, Component>> {
  metadata: ModuleMetadata;
  /** What an end user may set: field builders from `config`. */
  config?: S;
  /**
   * The components, built from typed references to the config (`cfg.replicas`) and to the
   * release and the other components (`ctx.release.name`, `ctx.components.db.service.host`).
   */
  components: (cfg: RefsOf<S>, ctx: ModuleContext) => R & CheckedComponents<R>;
  /** Policies the module applies to its own components (see `opm-ts/catalog` policies). */
  policies?: PolicyUse[];
  /** Transformers defined in TypeScript (`defineTransformer`), added to the provider for this module. */
  transformers?: readonly CustomTransformer[];
}

/** What a compiled module declares that the render acts on (so it never searches the CUE text for it). */
export interface CompiledDeclarations {
  /** The module declares `#policies` (policies it applies to its components). */
  policies: boolean;
  /** The module declares `#secrets` (config secrets rendered as Secrets or ExternalSecrets). */
  secrets: boolean;
  /** The module's custom package declares `#Transformers` (transformers defined in TypeScript). */
  transformers: boolean;
}

/** The result of compiling a module or release to CUE. */
export interface Compiled {
  files: CueSourceFile[];
  /** The same files with their headers as data (package, imports, body), in the same order. */
  printed: PrintedFile[];
  /** What the module declares. */
  declares: CompiledDeclarations;
  /** Where each path came from, e.g. `components.web.spec.scaling` → a TypeScript call site. */
  sources: Map<string, SourceLocation>;
  /** Problems found while building (all of them). */
  issues: Issue[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const DOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** The cluster DNS domain a release uses unless it sets another. */
export const DEFAULT_CLUSTER_DOMAIN = "cluster.local";
const MODULE_PATH = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(\/[a-z0-9]([-a-z0-9._]*[a-z0-9])?)*$/;

/** Marks a value `encodedValues` leaves out. */
const OMIT = Symbol("omit");

function dropOmitted(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== OMIT).map(dropOmitted);
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== OMIT)
        .map(([k, x]) => [k, dropOmitted(x)]),
    );
  return v;
}

/** Checks a name against the DNS-1123 label rules; returns an issue or undefined. */
export function checkDnsLabel(value: unknown, path: string, source?: SourceLocation): Issue | undefined {
  if (typeof value === "string" && DNS_LABEL.test(value) && value.length <= 63) return undefined;
  return {
    code: "invalid_name",
    path,
    message: `${JSON.stringify(value)} is not a valid name: use at most 63 lower case letters, digits and '-', starting and ending with a letter or digit`,
    constraint: `=~"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" & strings.MaxRunes(63)`,
    ...(source ? { source } : {}),
  };
}

function cuePackageName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[A-Za-z_]/.test(s) ? s : `m_${s}`;
}

const MODULE = Symbol.for("opm-ts.module");

/** An application: metadata, a config schema and components. Immutable. */
export class Module<S extends ConfigShape = ConfigShape> {
  readonly [MODULE] = true;
  readonly kind = "Module" as const;
  readonly metadata: Readonly<ModuleMetadata>;
  readonly config: S;
  readonly site: SourceLocation | undefined;
  readonly policies: readonly PolicyUse[];
  // Stored without its config type so that Module<S> is assignable to Module (the
  // function's parameter would otherwise make Module invariant in S).
  readonly #components: (cfg: never, ctx: ModuleContext) => Record<string, Component>;
  readonly transformers: readonly CustomTransformer[];
  #built: Record<string, Component> | undefined;

  constructor(def: ModuleDefinition<S>, site?: SourceLocation) {
    this.metadata = Object.freeze({ ...def.metadata });
    this.config = Object.freeze({ ...(def.config ?? ({} as S)) });
    this.#components = def.components as (cfg: never, ctx: ModuleContext) => Record<string, Component>;
    this.transformers = Object.freeze([...(def.transformers ?? [])]);
    this.policies = Object.freeze([...(def.policies ?? [])]);
    for (const p of this.policies) {
      if (!isPolicyUse(p)) throw new OpmError("usage", `module ${def.metadata.name}: policies must be made with policy builders such as NoLatestTag()`);
    }
    this.site = site;
  }

  static is(v: unknown): v is Module {
    return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[MODULE] === true;
  }

  /** `<modulePath>/<name>@v<major>` */
  get fqn(): string {
    return `${this.metadata.modulePath}/${this.metadata.name}@v${this.metadata.version.split(".")[0]}`;
  }

  /** The CUE package name the module compiles to. */
  get packageName(): string {
    return cuePackageName(this.metadata.name);
  }

  /** The import path a release uses for this module's package. */
  get importPath(): string {
    const base = `${this.metadata.modulePath}/${this.metadata.name}`;
    return this.packageName === this.metadata.name ? base : `${base}:${this.packageName}`;
  }

  /** The components, built once from typed config references. */
  components(): Record<string, Component> {
    if (!this.#built) {
      const built = this.#components(refsFor(this.config) as never, moduleContext());
      if (!built || typeof built !== "object") throw new OpmError("usage", `module ${this.metadata.name}: components() must return an object of components`);
      for (const [k, c] of Object.entries(built)) {
        if (!Component.is(c))
          throw new OpmError("usage", `module ${this.metadata.name}: component "${k}" is not a Component (build it with a blueprint or component())`);
      }
      this.#built = built;
    }
    return this.#built;
  }

  /** Creates a release: one deployment of this module with concrete values. */
  release(options: ReleaseOptions<S> = {} as ReleaseOptions<S>): ModuleRelease<S> {
    const site = callSite();
    const values = (options as { values?: Record<string, unknown> }).values ?? {};
    return new ModuleRelease<S>(this, {
      name: options.name ?? this.metadata.name,
      namespace: options.namespace ?? "default",
      ...(options.clusterDomain !== undefined ? { clusterDomain: options.clusterDomain } : {}),
      values,
      provenance: () => site,
      site,
    });
  }

  /** Checks metadata; returns every problem. */
  checkMetadata(): Issue[] {
    const m = this.metadata;
    const at = this.site ? { source: this.site } : {};
    const out: Issue[] = [];
    const name = checkDnsLabel(m.name, "metadata.name", this.site);
    if (name) out.push(name);
    if (typeof m.version !== "string" || !SEMVER.test(m.version)) {
      out.push({
        code: "pattern",
        path: "metadata.version",
        message: `${JSON.stringify(m.version)} is not a semantic version such as 1.2.3`,
        constraint: "SemVer",
        ...at,
      });
    }
    if (typeof m.modulePath !== "string" || !MODULE_PATH.test(m.modulePath)) {
      out.push({
        code: "pattern",
        path: "metadata.modulePath",
        message: `${JSON.stringify(m.modulePath)} is not a module path such as example.com/modules`,
        constraint: "ModulePath",
        ...at,
      });
    }
    out.push(...shapeDefaultIssues(this.config, "config"));
    return out;
  }

  /** Compiles the module (without a release) to canonical CUE files. */
  compile(): Compiled {
    const pkg = this.packageName;
    const sources = new Map<string, SourceLocation>();
    const issues: Issue[] = this.checkMetadata();
    if (this.site) sources.set("metadata", this.site);
    for (const [k, f] of Object.entries(this.config)) if (f.site) sources.set(`config.${k}`, f.site);

    const meta = ast.struct(
      (["modulePath", "name", "version", "description", "labels"] as const)
        .filter((k) => this.metadata[k] !== undefined)
        .map((k) => ast.field(k, ast.fromJSON(this.metadata[k]))),
    );
    const secrets = secretFields({ type: "object", ...shapeSchema(this.config) });
    const policyImports = new Map(this.policies.map((p) => [p.cue.importPath, { path: p.cue.importPath, alias: p.cue.alias }]));
    for (const p of this.policies) issues.push(...p.issues);
    const built = this.components();
    issues.push(...checkComponentRefs(built));
    // Components that refer to the release (ctx.release.name) need #context declared in the package.
    const usesContext = Object.values(built).some((c) => refsIn([c.parts.map((p) => p.spec), c.ownAnnotations]).some((r) => r.root === "#context"));
    const moduleFile = ast.file(
      pkg,
      [{ path: CORE_IMPORT, alias: "core" }, ...shapeImports(this.config).map((p) => ({ path: p })), ...policyImports.values()],
      [
        ast.embed(ast.sel(ast.ident("core"), "#Module")),
        ast.field("metadata", meta),
        ast.field("#config", shapeToStruct(this.config), { doc: "What an end user may set in a release." }),
        ...(this.policies.length
          ? [ast.field("#policies", ast.list(this.policies.map((p) => policyExpr(p))), { doc: "Policies the module applies to its components." })]
          : []),
        ...(secrets.length
          ? [
              ast.field(
                "#secrets",
                // An optional secret a release leaves out renders nothing.
                ast.list(
                  secrets.map((s) =>
                    s.optional
                      ? ast.comprehension(
                          [{ kind: "if", cond: ast.binary("!=", ast.sel(ast.ident("#config"), ...s.path), ast.ident("_|_")) }],
                          ast.struct([ast.embed(ast.sel(ast.ident("#config"), ...s.path))]),
                        )
                      : ast.sel(ast.ident("#config"), ...s.path),
                  ),
                ),
                { doc: "The module's secrets, rendered as Secrets or ExternalSecrets by group." },
              ),
            ]
          : []),
        ...(usesContext
          ? [ast.field("#context", ast.ident("_"), { doc: "The release that deploys the module (name, namespace, cluster domain); the release fills it in." })]
          : []),
      ],
      `${this.metadata.name}: generated by opm-ts from TypeScript.`,
    );

    const imports = new Map<string, CueRef>();
    const comps: ast.Decl[] = [];

    for (const [name, c] of Object.entries(built)) {
      const bad = checkDnsLabel(name, `components.${name}`, c.site);
      if (bad) issues.push(bad);
      const r = c.compile(name);
      for (const i of r.imports) imports.set(i.importPath, i);
      for (const [p, s] of r.sources) sources.set(p, s);
      issues.push(...r.issues);
      comps.push(ast.field(name, r.expr));
    }
    const custom: CustomDefinition[] = Object.values(built).flatMap((c) => c.parts.map((p) => p.definition).filter(isCustomDefinition));
    let customFile: PrintedFile | undefined;
    try {
      customFile = customPackageFile(
        custom,
        this.transformers,
        this.policies.flatMap((p) => (p.custom ? [p.custom] : [])),
      );
    } catch (e) {
      if (!OpmError.is(e)) throw e;
      issues.push({ code: "invalid_definition", path: "definitions", message: e.message, ...(this.site ? { source: this.site } : {}) });
    }
    const componentsFile = ast.file(
      pkg,
      [...imports.values()].map((i) => ({ path: i.importPath, alias: i.alias })),
      [ast.field("#components", ast.struct(comps))],
    );
    const printed = [printSourceFile("module.cue", moduleFile), printSourceFile("components.cue", componentsFile), ...(customFile ? [customFile] : [])];
    return {
      files: printed.map((p) => p.file),
      printed,
      declares: { policies: this.policies.length > 0, secrets: secrets.length > 0, transformers: customFile !== undefined },
      sources,
      issues,
    };
  }

  /** The module as canonical CUE text (all files, each headed by its name). */
  toCue(): string {
    return joinFiles(this.compile().files);
  }
}

/** What a release package file says (see {@link releaseFile}). */
export interface ReleaseFileSpec {
  /** Import path and package name of the module the release deploys. */
  moduleImport: string;
  modulePackage: string;
  /** The release name; without one, the release takes the module's own name. */
  name?: string;
  namespace: string;
  clusterDomain?: string;
  /** The values, as plain JSON data. */
  values: unknown;
  /** A comment above the values. */
  valuesDoc?: string;
  /** The file's doc comment. */
  doc?: string;
}

/**
 * The one builder of a release package file (`release.cue`): `core.#ModuleRelease` with
 * the release's identity, the module and the values. Used for TypeScript releases and for
 * the release of a CUE module folder rendered from the command line.
 */
export function releaseFile(r: ReleaseFileSpec): ast.File {
  const name = r.name !== undefined ? ast.lit(r.name) : ast.sel(ast.ident(r.modulePackage), "metadata", "name");
  return ast.file(
    "release",
    [
      { path: CORE_IMPORT, alias: "core" },
      { path: r.moduleImport, alias: r.modulePackage },
    ],
    [
      ast.embed(
        ast.and(
          ast.sel(ast.ident("core"), "#ModuleRelease"),
          ast.struct([
            ast.field("metadata", ast.struct([ast.field("name", name), ast.field("namespace", ast.lit(r.namespace))])),
            ...(r.clusterDomain !== undefined ? [ast.field("clusterDomain", ast.lit(r.clusterDomain))] : []),
            ast.field("#module", ast.ident(r.modulePackage)),
            ast.field("values", ast.fromJSON(r.values), r.valuesDoc ? { doc: r.valuesDoc } : {}),
          ]),
        ),
      ),
    ],
    r.doc,
  );
}

export function joinFiles(files: CueSourceFile[]): string {
  return files.map((f) => `// --- ${f.name}\n${f.text}`).join("\n");
}

export type ReleaseOptions<S extends ConfigShape> = {
  /** Release name (DNS label); defaults to the module name. */
  name?: string;
  /** Namespace; defaults to `default`. */
  namespace?: string;
  /** The cluster's DNS domain, used in fully qualified Service names; defaults to `cluster.local`. */
  clusterDomain?: string;
  // biome-ignore lint/complexity/noBannedTypes: `{} extends T` asks whether every field of T is optional
} & ({} extends ValuesOf<S> ? { values?: ValuesOf<S> } : { values: ValuesOf<S> });

/** The immutable state of a {@link ModuleRelease}. */
export interface ReleaseState {
  name: string;
  namespace: string;
  /** The cluster's DNS domain (`cluster.local` when not given). */
  clusterDomain?: string;
  values: Record<string, unknown>;
  provenance: Provenance;
  site?: SourceLocation;
  /** Where `name` / `namespace` were given, when not at `site` (e.g. a command-line flag). */
  identitySites?: { name?: SourceLocation; namespace?: SourceLocation; clusterDomain?: SourceLocation };
}

const RELEASE = Symbol.for("opm-ts.release");

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep-merges values: objects merge key by key, anything else is replaced. */
export function mergeValues(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeValues(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

function hasPath(values: Record<string, unknown>, path: readonly string[]): boolean {
  let cur: unknown = values;
  for (const p of path) {
    if (!isPlainObject(cur) && !Array.isArray(cur)) return false;
    cur = (cur as Record<string, unknown>)[p];
    if (cur === undefined) return false;
  }
  return true;
}

/** One deployment of a module: a name, a namespace and values. Immutable. */
export class ModuleRelease<S extends ConfigShape = ConfigShape> {
  readonly [RELEASE] = true;
  readonly kind = "ModuleRelease" as const;
  readonly module: Module<S>;
  readonly #s: ReleaseState;
  constructor(module: Module<S>, state: ReleaseState) {
    this.module = module;
    this.#s = Object.freeze({ ...state });
  }
  static is(v: unknown): v is ModuleRelease {
    return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[RELEASE] === true;
  }
  get name(): string {
    return this.#s.name;
  }
  get namespace(): string {
    return this.#s.namespace;
  }
  /** The cluster's DNS domain. */
  get clusterDomain(): string {
    return this.#s.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
  }
  /** The values this release sets (defaults are applied by the config schema). */
  get values(): Readonly<Record<string, unknown>> {
    return this.#s.values;
  }
  get site(): SourceLocation | undefined {
    return this.#s.site;
  }
  /** Where the value at a path below `values` came from. */
  provenance(path: readonly string[]): SourceLocation | undefined {
    return this.#s.provenance(path);
  }
  /** A copy with another name and/or namespace (`source`: where they were given, for errors). */
  withIdentity(identity: { name?: string; namespace?: string; clusterDomain?: string }, source?: SourceLocation): ModuleRelease<S> {
    const at = source ?? callSite() ?? this.#s.site;
    return new ModuleRelease(this.module, {
      ...this.#s,
      identitySites: {
        ...this.#s.identitySites,
        ...(identity.name !== undefined ? { name: at } : {}),
        ...(identity.namespace !== undefined ? { namespace: at } : {}),
        ...(identity.clusterDomain !== undefined ? { clusterDomain: at } : {}),
      },
      name: identity.name ?? this.#s.name,
      namespace: identity.namespace ?? this.#s.namespace,
      ...(identity.clusterDomain !== undefined ? { clusterDomain: identity.clusterDomain } : {}),
    });
  }
  /** A copy with more values layered on top (deep merge; later wins), e.g. from a values file. */
  withValues(values: Record<string, unknown>, provenance?: Provenance): ModuleRelease<S> {
    const before = this.#s.provenance;
    const site = callSite();
    const here: Provenance = provenance ?? (() => site);
    return new ModuleRelease(this.module, {
      ...this.#s,
      values: mergeValues(this.#s.values, values),
      provenance: (p) => (hasPath(values, p) ? here(p) : before(p)),
    });
  }
  /** Checks the values against the module's config schema; returns every problem. */
  checkValues(): Issue[] {
    return [...checkShape(this.module.config, this.#s.values), ...redactionMarkers({ type: "object", ...shapeSchema(this.module.config) }, this.#s.values)].map(
      (i) => {
        const path = i.path.split(".").slice(1);
        let src: SourceLocation | undefined;
        for (let n = path.length; n >= 0 && !src; n--) src = this.#s.provenance(path.slice(0, n));
        // A missing value points at the field's own declaration (inside nested objects too).
        if (i.code === "required") src = fieldAt(this.module.config, path)?.site ?? this.module.site;
        return src ? { ...i, source: src } : i;
      },
    );
  }
  /**
   * The release's values with every secret written as a `core.#Secret` source. With `redact`,
   * literal secret values are left out (never replaced by a stand-in that could be rendered
   * and applied): their paths are pushed to `omitted`, and a render of the written CUE then
   * needs them again (`--secret`, a values file).
   */
  encodedValues(redact = false, omitted: string[] = []): Record<string, unknown> {
    const mapped = mapSecrets({ type: "object", ...shapeSchema(this.module.config) }, this.#s.values, (v, path) => {
      // A malformed secret is left as given: checkValues() reports it (without its value).
      if (checkValue({ "x-opm-secret": true }, v, "values").length) return undefined;
      const source = secretSource(v);
      if (redact && source.from === "literal") {
        omitted.push(path.join("."));
        return OMIT;
      }
      return { source };
    });
    return dropOmitted(mapped) as Record<string, unknown>;
  }
  /** Every literal secret value this release carries (to keep them out of any output). */
  secretLiterals(): string[] {
    const out: string[] = [];
    mapSecrets({ type: "object", ...shapeSchema(this.module.config) }, this.#s.values, (v) => {
      if (typeof v === "string" && v) out.push(v);
      return undefined;
    });
    return out;
  }
  /**
   * Compiles module and release to canonical CUE files (module.cue, components.cue, release.cue).
   * `redactSecrets` replaces literal secret values with "<redacted>" (for printing).
   */
  compile(options: { redactSecrets?: boolean } = {}): Compiled {
    const m = this.module.compile();
    const issues = [...m.issues, ...this.checkValues()];
    const omitted: string[] = [];
    const sites = this.#s.identitySites ?? {};
    const name = checkDnsLabel(this.name, "release.name", sites.name ?? this.site);
    // A release named after its module repeats the module's bad name: metadata.name reports it.
    const inherited = !sites.name && this.name === this.module.metadata.name && issues.some((i) => i.path === "metadata.name");
    if (name && !inherited) issues.push(name);
    const ns = checkDnsLabel(this.namespace, "release.namespace", sites.namespace ?? this.site);
    if (ns) issues.push(ns);
    if (!DOMAIN.test(this.clusterDomain) || this.clusterDomain.length > 253) {
      issues.push({
        code: "invalid_name",
        path: "release.clusterDomain",
        message: `${JSON.stringify(this.clusterDomain)} is not a DNS domain such as cluster.local`,
        constraint: DOMAIN.source,
        ...((sites.clusterDomain ?? this.site) ? { source: sites.clusterDomain ?? this.site } : {}),
      });
    }
    const values = this.encodedValues(options.redactSecrets, omitted);
    const release = releaseFile({
      moduleImport: this.module.importPath,
      modulePackage: this.module.packageName,
      name: this.name,
      namespace: this.namespace,
      ...(this.#s.clusterDomain !== undefined ? { clusterDomain: this.#s.clusterDomain } : {}),
      values,
      ...(omitted.length ? { valuesDoc: `Literal secrets left out (give them again with --secret or a values file): ${omitted.join(", ")}` } : {}),
      doc: `Release ${quoteString(this.name)} of ${this.module.fqn} in namespace ${quoteString(this.namespace)}.`,
    });
    const sources = new Map(m.sources);
    if (this.site) sources.set("release", this.site);
    const printed = [...m.printed, printSourceFile("release.cue", release)];
    return { files: printed.map((p) => p.file), printed, declares: m.declares, sources, issues };
  }
  /** The release as canonical CUE text; literal secret values are redacted. */
  toCue(): string {
    return joinFiles(this.compile({ redactSecrets: true }).files);
  }
  /** Throws a ValidationError listing every problem, if there are any. */
  validate(): void {
    const issues = this.compile().issues;
    if (issues.length) throw new ValidationError(issues);
  }
}

/** Defines a module. */
// biome-ignore lint/complexity/noBannedTypes: `{}` is the empty config shape (a module without config)
export function defineModule<S extends ConfigShape = {}, R extends Record<string, Component> = Record<string, Component>>(
  def: ModuleDefinition<S, R>,
): Module<S> {
  return new Module(def as ModuleDefinition<S>, callSite());
}
