/**
 * The CUE programs of the staged render (see src/render/staged.ts):
 *
 * - the transformer table of a provider (each transformer's match rules, and the CUE
 *   definition it is declared as), evaluated once and cached;
 * - stage 1: the release resolved to plain data (identity, per component its labels,
 *   resource and trait FQNs, transformer context, matched transformers and its concrete
 *   data as JSON text), through the catalog's own `core.#Render`, with no transformer run;
 * - stage 2: (component, transformer) pairs evaluated on literal data, several pairs to a
 *   program, each pair with a key of its own (the digest of its standalone program);
 * - stage 3: the release's secrets and the policies, on literal components and objects.
 *
 * Every program is linked by {@link linkProgram}, the one place that decides what a
 * program holds (today: the whole packages it reaches, as the reference program does).
 */
import { printExpr } from "../core/cue/print.js";
import { policyExpr, type PolicyUse } from "../../dsl/policy.js";
import { CORE_IMPORT } from "../../dsl/module.js";
import { sha256 } from "../core/hash.js";
import { catalogPackage, link, packageField, type CuePackage } from "./link.js";
import { shake } from "./shake.js";

/** A package a program starts from, and (a hint for tree-shaking) the names it uses. */
export interface ProgramRoot {
  pkg: CuePackage;
  names?: readonly string[];
}

/**
 * Links a program holding only what it uses: the declarations reachable from `roots` (a
 * root without `names` keeps its whole package), across packages (`shake`), then `extra`.
 * `extra` may use only the names the roots list. Packages in `inline` are handed to
 * `extra` rather than emitted (see {@link link}). `stdlib` packages `extra` uses are
 * imported even when no linked declaration imports them.
 */
export function linkProgram(
  roots: readonly ProgramRoot[],
  extra: string | ((inlined: ReadonlyMap<string, string>) => string),
  resolve: (importPath: string) => CuePackage | undefined = () => undefined,
  inline: ReadonlySet<string> = new Set(),
  stdlib: readonly string[] = [],
): string {
  const own = new Map(roots.map((r) => [r.pkg.importPath, r.pkg] as const));
  const { packages } = shake(
    roots.map((r) => ({ importPath: r.pkg.importPath, ...(r.names ? { names: r.names } : {}) })),
    (ip) => own.get(ip) ?? catalogPackage(ip) ?? resolve(ip),
  );
  const source = link(
    roots.map((r) => packages.get(r.pkg.importPath) ?? r.pkg),
    extra,
    resolve,
    inline,
    packages,
  ).source;
  const missing = stdlib.filter((p) => !source.includes(`"${p}"`));
  return missing.length ? `${missing.map((p) => `import "${p}"`).join("\n")}\n\n${source}` : source;
}

/** The match rules of a transformer, as `core.#Render` lists them. */
export interface TransformerSummary {
  requiredLabels: Record<string, string>;
  requiredResources: string[];
  requiredTraits: string[];
  optionalTraits: string[];
}

/** A provider's transformers: their rules, and the expression each pair program starts from. */
export interface TransformerTable {
  /** Rules by transformer FQN, in the provider's order. */
  transformers: Record<string, TransformerSummary>;
  /** The CUE expression of a transformer (its `#transform` is unified with a pair's data), by FQN. */
  expr: (fqn: string) => string;
  /** The package roots a program evaluating the transformer needs. */
  roots: (fqn: string) => ProgramRoot[];
}

/** Where the transformers come from: a provider package, extended by a module's own (package custom, `#Transformers`). */
export interface ProviderInput {
  provider: string;
  /** The module's package of TypeScript-defined definitions, when it declares `#Transformers`. */
  custom?: CuePackage;
}

const TABLE_ENTRY = /\((#[A-Za-z_][A-Za-z0-9_]*)\.metadata\.fqn\)\s*:\s*(#[A-Za-z_][A-Za-z0-9_]*)/g;

/** `#Provider`, extended by the module's transformers as the reference program does. */
function providerExpr(p: ProviderInput): string {
  const P = packageField(p.provider);
  return p.custom ? `(${P}.#Provider & {transformers: {for k, t in ${packageField(p.custom.importPath)}.#Transformers {(k): t}}})` : `${P}.#Provider`;
}

/** The program that computes a provider's transformer table (see {@link transformerTable}). */
export function transformerTableProgram(p: ProviderInput): { source: string; candidates: string[] } {
  const pkg = catalogPackage(p.provider);
  if (!pkg) throw new Error(`unknown provider package ${p.provider}`);
  // The definitions the provider's table names (`(#X.metadata.fqn): #X`); the program
  // checks each against the table, so a name read wrongly here is never used.
  const candidates = [...new Set(pkg.files.flatMap((f) => [...f.body.matchAll(TABLE_ENTRY)].filter((m) => m[1] === m[2]).map((m) => m[1]!)))].sort();
  const P = packageField(p.provider);
  const extra = [
    `out: {`,
    `\ttransformers: {for tn, t in ${providerExpr(p)}.transformers {(tn): {requiredLabels: t.requiredLabels, requiredResources: t.requiredResources, requiredTraits: t.requiredTraits, optionalTraits: t.optionalTraits}}}`,
    `\tdefinitions: {${candidates.map((d) => `${JSON.stringify(d)}: ${P}.${d}.metadata.fqn`).join(", ")}}`,
    `}`,
  ].join("\n");
  const roots: ProgramRoot[] = [{ pkg, names: ["#Provider", ...candidates] }, ...(p.custom ? [{ pkg: p.custom }] : [])];
  return { source: linkProgram(roots, extra, (ip) => (p.custom && ip === "opm.dev/custom@v1" ? p.custom : undefined)), candidates };
}

/** Builds the table from the evaluated {@link transformerTableProgram}. */
export function transformerTable(
  p: ProviderInput,
  value: { transformers: Record<string, TransformerSummary>; definitions: Record<string, string> },
): TransformerTable {
  const pkg = catalogPackage(p.provider)!;
  const P = packageField(p.provider);
  const customFqns = new Set<string>();
  // A module's own transformers go through the extended provider, as in the reference program.
  if (p.custom) for (const f of p.custom.files) for (const m of f.body.matchAll(TABLE_ENTRY)) customFqns.add(m[1]!);
  const byFqn = new Map<string, string>();
  for (const [def, fqn] of Object.entries(value.definitions)) if (!byFqn.has(fqn)) byFqn.set(fqn, def);
  const direct = (fqn: string) => (p.custom ? undefined : byFqn.get(fqn));
  return {
    transformers: value.transformers,
    expr: (fqn) => {
      const def = direct(fqn);
      return def ? `${P}.${def}` : `${providerExpr(p)}.transformers[${JSON.stringify(fqn)}]`;
    },
    roots: (fqn) => {
      const def = direct(fqn);
      return def ? [{ pkg, names: [def] }] : [{ pkg, names: ["#Provider"] }, ...(p.custom ? [{ pkg: p.custom }] : [])];
    },
  };
}

// ---------------------------------------------------------------- stage 1

export interface Stage1Input {
  /** The release package (inlined under `#release`, as in the reference program). */
  release: CuePackage;
  /** Packages the release may import besides the catalog (the module's). */
  resolve: (importPath: string) => CuePackage | undefined;
  /** Component → matching transformers, when the caller matched them already (TypeScript modules). */
  matched?: Record<string, string[]>;
  /** The transformers' rules, for matching in CUE (`core.#Match`) when `matched` is not given. */
  transformers: Record<string, TransformerSummary>;
  /** Export every component's data (policies read it), not only that of matched components. */
  allData: boolean;
  /** Export the module's `#secrets`. */
  secrets: boolean;
}

/** What stage 1 evaluates to. */
export interface Stage1Out {
  release: { name: string; namespace: string; uuid: string };
  module: { name: string; version: string; fqn: string; uuid: string };
  components: Record<
    string,
    {
      labels: Record<string, string>;
      resources: string[];
      traits: string[];
      context: { labels: Record<string, string> } & Record<string, unknown>;
      matched: string[];
    }
  >;
  values: Record<string, unknown>;
  /** Per component, `{metadata, spec}` as JSON text (CUE's `json.Marshal`, so numbers keep their CUE kind). */
  data: Record<string, string>;
  /** The matched (component, transformer) pairs in the reference program's order. */
  pairs: [string, string][];
  secrets?: unknown[];
}

/**
 * Stage 1: `core.#Render` on the release with no transformer to run (every component
 * matched to nothing there), read for its per-component results; matching is given or
 * done by `core.#Match` on the transformers' rules.
 */
export function stage1Program(s: Stage1Input): string {
  const core = packageField(CORE_IMPORT);
  const matched = s.matched
    ? `#matched[cn]`
    : `[for tn, t in #transformers let sum = {labels: c.labels, resources: {for r in c.resources {(r): true}}, traits: {for x in c.traits {(x): true}}} if (${core}.#Match & {#c: sum, #t: t}).ok {tn}]`;
  const extra = (inlined: ReadonlyMap<string, string>) =>
    [
      `let renderOut = ${core}.#Render & {`,
      `\t#release: {\n${inlined.get(s.release.importPath)}\n\t}`,
      `\t#provider: {metadata: name: "staged", transformers: {}}`,
      `\t#matched: {for cn, _ in #release.components {(cn): []}}`,
      `}`,
      s.matched ? `#matched: ${JSON.stringify(s.matched)}` : `#transformers: ${JSON.stringify(s.transformers)}`,
      `out: {`,
      `\trelease: renderOut.release`,
      `\tmodule: renderOut.module`,
      `\tvalues: renderOut.values`,
      `\tcomponents: {for cn, c in renderOut.components {(cn): {labels: c.labels, resources: c.resources, traits: c.traits, context: c.context, matched: ${matched}}}}`,
      `\tdata: {for cn, c in components if ${s.allData ? "true" : "len(c.matched) > 0"} {(cn): json.Marshal(renderOut._data[cn])}}`,
      `\tpairs: [for cn, c in components for tn in c.matched {[cn, tn]}]`,
      ...(s.secrets ? [`\tsecrets: renderOut.#release._unified.#secrets`] : []),
      `}`,
    ].join("\n");
  return linkProgram(
    [{ pkg: s.release }, { pkg: catalogPackage(CORE_IMPORT)!, names: ["#Render", "#Match"] }],
    extra,
    s.resolve,
    new Set([s.release.importPath]),
    ["encoding/json"],
  );
}

// ---------------------------------------------------------------- stage 2

/** One (component, transformer) pair on literal data. */
export interface Pair {
  component: string;
  transformer: string;
  /** `(<transformer>.#transform & {#component: <data>, #context: <context>}).output`, marshalled. */
  expr: string;
  /** The digest of the pair's standalone program (the linked prelude's digest and `expr`). */
  key: string;
}

const preludes = new Map<string, { text: string; digest: string }>();

/** The linked packages a transformer's programs start with, and their digest (memoised by content). */
function prelude(roots: readonly ProgramRoot[]): { text: string; digest: string } {
  const text = linkProgram(roots, "", () => undefined, new Set(), ["encoding/json"]);
  let p = preludes.get(text);
  if (!p) {
    if (preludes.size > 64) preludes.clear();
    p = { text, digest: sha256(text) };
    preludes.set(text, p);
  }
  return p;
}

const preludeByRoots = new WeakMap<object, Map<string, { text: string; digest: string }>>();

/** The pairs of a release, each with its expression and cache key. */
export function stage2Pairs(
  table: TransformerTable,
  pairs: readonly [string, string][],
  data: Record<string, string>,
  contexts: Record<string, unknown>,
): Pair[] {
  const memo = preludeByRoots.get(table) ?? new Map<string, { text: string; digest: string }>();
  preludeByRoots.set(table, memo);
  return pairs.map(([component, transformer]) => {
    let pre = memo.get(transformer);
    if (!pre) {
      pre = prelude(table.roots(transformer));
      memo.set(transformer, pre);
    }
    const expr = `json.Marshal((${table.expr(transformer)}.#transform & {#component: ${data[component]}, #context: ${JSON.stringify(contexts[component])}}).output)`;
    return { component, transformer, expr, key: sha256(`${pre.digest}\n${expr}`) };
  });
}

/** One program evaluating several pairs: `out` lists each pair's output as JSON text, in order. */
export function stage2Program(table: TransformerTable, pairs: readonly Pair[]): string {
  const roots = new Map<string, ProgramRoot>();
  for (const p of pairs) for (const r of table.roots(p.transformer)) roots.set(`${r.pkg.importPath} ${r.names?.join(" ") ?? "*"}`, r);
  return linkProgram([...roots.values()], `out: [\n${pairs.map((p) => `\t${p.expr},`).join("\n")}\n]`, () => undefined, new Set(), ["encoding/json"]);
}

// ---------------------------------------------------------------- stage 3

export interface Stage3Input {
  provider: string;
  /** Policies (the module's, then the platform's) and the package each custom one lives in. */
  policies: readonly { use: PolicyUse; pkg?: CuePackage }[];
  /** Per component: labels, resources, traits, and its data as JSON text. */
  components: Record<string, { labels: Record<string, string>; resources: string[]; traits: string[]; data: string }>;
  /** Each object a transformer made (before labels are stamped), with its component, as JSON text. */
  objects: { component: string; object: string }[];
  /** The module's `#secrets`, when it declares them. */
  secrets?: { list: unknown[]; release: Stage1Out["release"]; module: Stage1Out["module"] };
}

/** Stage 3: `core.#CheckPolicies` on literal components and objects, and the release's secrets. */
export function stage3Program(s: Stage3Input): string {
  const core = packageField(CORE_IMPORT);
  const roots: ProgramRoot[] = [{ pkg: catalogPackage(CORE_IMPORT)!, names: ["#CheckPolicies", "#ReleaseLabels"] }];
  const custom = new Map<string, CuePackage>();
  for (const { use, pkg } of s.policies) {
    if (pkg) custom.set(pkg.importPath, pkg);
    else roots.push({ pkg: catalogPackage(use.cue.importPath)!, names: [use.cue.def] });
  }
  for (const pkg of custom.values()) roots.push({ pkg });
  if (s.secrets) roots.push({ pkg: catalogPackage(s.provider)!, names: ["#ReleaseSecrets"] });
  const exprs = s.policies.map(({ use, pkg }) => printExpr(policyExpr(use, packageField(pkg ? pkg.importPath : use.cue.importPath)), "\t\t"));
  const lines = [`out: {`];
  if (s.policies.length) {
    lines.push(
      `\tviolations: (${core}.#CheckPolicies & {`,
      `\t\t#policies: [${exprs.join(", ")}]`,
      `\t\t#input: {`,
      `\t\t\tcomponents: {`,
      ...Object.entries(s.components).map(
        ([cn, c]) =>
          `\t\t\t\t${JSON.stringify(cn)}: {labels: ${JSON.stringify(c.labels)}, resources: ${JSON.stringify(c.resources)}, traits: ${JSON.stringify(c.traits)}, spec: (${c.data}).spec}`,
      ),
      `\t\t\t}`,
      `\t\t\tobjects: [`,
      ...s.objects.map((o) => `\t\t\t\t{component: ${JSON.stringify(o.component)}, object: ${o.object}},`),
      `\t\t\t]`,
      `\t\t}`,
      `\t}).violations`,
    );
  }
  if (s.secrets) {
    const rel = JSON.stringify(s.secrets.release);
    lines.push(
      `\tsecrets: (${packageField(s.provider)}.#ReleaseSecrets & {`,
      `\t\t#secrets: ${JSON.stringify(s.secrets.list)}`,
      `\t\t#release: ${rel}`,
      `\t\t#labels: (${core}.#ReleaseLabels & {#release: ${rel}, #module: ${JSON.stringify(s.secrets.module)}}).out`,
      `\t}).output`,
    );
  }
  lines.push(`}`);
  return linkProgram(roots, lines.join("\n"), (ip) => custom.get(ip));
}
