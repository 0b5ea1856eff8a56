/**
 * Reads the CUE catalog through the engine: an index of every definition (evaluated)
 * and the JSON schemas of resource and trait specs (the engine's OpenAPI export).
 *
 * Conventions the reader relies on (see docs/codegen.md):
 * - a definition is a top-level `#XResource`, `#XTrait`, `#XBlueprint`, `#XTransformer`
 *   or `#XPolicy` in a catalog package; its mixin, when the package has one, is `#X`;
 * - resources and traits declare `#specKey` and `#spec: <specKey>: <schema>`;
 * - blueprints list `composedResources` and `composedTraits`.
 *
 * Size: over 400 lines because the index and the schema reader share the OpenAPI program and
 * its preparation of the catalog text (on the lexer's tokens); both read one catalog at a time.
 */
import * as ast from "../core/cue/ast.js";
import { codeTokens, topLevelDecls, tokenize, type Token } from "../core/cue/lexer.js";
import { printDeclList, printImportBlock } from "../core/cue/print.js";
import { catalogPackage, catalogPackagePaths, link, packageField, type CuePackage } from "./link.js";
import { rewriteImports } from "./rewrite.js";
import { isStdlib } from "./link.js";
import type { Engine } from "../engine/engine.js";
import type { JsonSchema } from "../core/schema.js";
import { EngineError } from "../core/errors.js";

export type EntryKind = "resource" | "trait" | "blueprint" | "transformer" | "policy";

/** One catalog definition as the index describes it. */
export interface CatalogEntry {
  kind: EntryKind;
  fqn: string;
  name: string;
  description: string;
  /** Import path of the CUE package, e.g. `opm.dev/catalog/traits@v1`. */
  package: string;
  /** The definition, e.g. `#ScalingTrait`. */
  definition: string;
  /** The mixin a component embeds, e.g. `#Scaling` (resources, traits, blueprints). */
  mixin?: string;
  /** Resources and traits: the spec field they add. */
  specKey?: string;
  /** Traits: resource FQNs the trait applies to. */
  appliesTo?: string[];
  /** Blueprints. */
  composedResources?: string[];
  composedTraits?: string[];
  workloadType?: string;
  /** Transformers. */
  requiredLabels?: Record<string, string>;
  requiredResources?: string[];
  optionalResources?: string[];
  requiredTraits?: string[];
  optionalTraits?: string[];
  /** Policies: anything else the definition declares is kept as is. */
  [extra: string]: unknown;
}

export interface CatalogIndex {
  resources: CatalogEntry[];
  traits: CatalogEntry[];
  blueprints: CatalogEntry[];
  transformers: CatalogEntry[];
  policies: CatalogEntry[];
}

const SUFFIX: [string, EntryKind][] = [
  ["Resource", "resource"],
  ["Trait", "trait"],
  ["Blueprint", "blueprint"],
  ["Transformer", "transformer"],
  ["Policy", "policy"],
];

/** A top-level declaration of a package file, with its leading comments. */
export interface Decl {
  name: string;
  text: string;
}

/**
 * The named top-level fields of a package body (read with the one CUE lexer), each with
 * the comments directly above it.
 */
export function splitDecls(body: string, name?: string): Decl[] {
  return topLevelDecls(body, name)
    .filter((d) => d.kind === "field" && d.label !== undefined)
    .map((d) => ({ name: d.label!, text: d.text }));
}

/** Every definition name declared at the top level of a package. */
export function packageDefinitions(pkg: CuePackage): string[] {
  return pkg.files.flatMap((f) => splitDecls(f.body, f.file.name).map((d) => d.name)).filter((n) => n.startsWith("#"));
}

/** Catalog packages other than core, by import path. */
export function catalogPackages(): CuePackage[] {
  return catalogPackagePaths()
    .map((p) => catalogPackage(p)!)
    .filter(Boolean);
}

interface IndexTarget {
  pkg: CuePackage;
  def: string;
  kind: EntryKind;
  mixin?: string;
}

function targets(pkgs: CuePackage[]): IndexTarget[] {
  const out: IndexTarget[] = [];
  for (const pkg of pkgs) {
    const defs = new Set(packageDefinitions(pkg));
    for (const def of [...defs].sort()) {
      for (const [suffix, kind] of SUFFIX) {
        if (!def.endsWith(suffix) || def === "#" + suffix) continue;
        // Policies live in policy packages (a trait mixin such as #RestartPolicy is not one).
        if (kind === "policy" && !/\/policies(@|\/|$)/.test(pkg.importPath)) continue;
        const mixin = def.slice(0, -suffix.length);
        out.push({ pkg, def, kind, ...(defs.has(mixin) && kind !== "transformer" && kind !== "policy" ? { mixin } : {}) });
      }
    }
  }
  return out;
}

/**
 * Evaluates the index of every definition in the catalog. `packages` defaults to every
 * catalog package; extra packages (e.g. author-defined ones) may be added.
 */
export async function readIndex(engine: Engine, packages: CuePackage[] = catalogPackages()): Promise<CatalogIndex> {
  const ts = targets(packages);
  const fields = ts.map((t, i) => {
    const ref = (...names: string[]) => ast.sel(ast.ident(packageField(t.pkg.importPath)), t.def, ...names);
    const copy = (...names: string[]) => names.map((n) => ast.field(n, ref(n)));
    const extra: Record<EntryKind, ast.Decl[]> = {
      resource: [ast.field("specKey", ref("#specKey"))],
      trait: [ast.field("specKey", ref("#specKey")), ...copy("appliesTo")],
      blueprint: [
        ...copy("composedResources", "composedTraits"),
        ast.comprehension([{ kind: "if", cond: ast.binary("!=", ref("workloadType"), ast.ident("_|_")) }], ast.struct(copy("workloadType"))),
      ],
      transformer: copy("requiredLabels", "requiredResources", "optionalResources", "requiredTraits", "optionalTraits"),
      policy: [
        ast.field(
          "params",
          ast.list([ast.comprehension([{ kind: "for", key: "k", value: "_", source: ref("#params") }], ast.struct([ast.embed(ast.ident("k"))]))]),
        ),
      ],
    };
    return ast.field(String(i), ast.struct([...copy("kind", "metadata"), ...extra[t.kind]]));
  });
  const { source } = link(packages, printDeclList([ast.field("index", ast.struct(fields))]), (p) => packages.find((x) => x.importPath === p));
  const raw = (
    await engine.eval<{ index: Record<string, Record<string, unknown> & { metadata: { fqn: string; name: string; description?: string } }> }>(source)
  ).index;
  const index: CatalogIndex = { resources: [], traits: [], blueprints: [], transformers: [], policies: [] };
  ts.forEach((t, i) => {
    const r = raw[String(i)]!;
    const { kind: _k, metadata, ...rest } = r;
    const entry: CatalogEntry = {
      kind: t.kind,
      fqn: metadata.fqn,
      name: metadata.name,
      description: metadata.description ?? "",
      package: t.pkg.importPath,
      definition: t.def,
      ...(t.mixin ? { mixin: t.mixin } : {}),
      ...rest,
    };
    const group = ({ resource: "resources", trait: "traits", blueprint: "blueprints", transformer: "transformers", policy: "policies" } as const)[t.kind];
    index[group].push(entry);
  });
  for (const list of Object.values(index) as CatalogEntry[][]) list.sort((a, b) => a.fqn.localeCompare(b.fqn));
  return index;
}

// ---------------------------------------------------------------- schemas

/** A JSON schema (the subset the engine's OpenAPI export produces). */
export type { JsonSchema };

/** The exported name of a definition: `#pkg_<field>.#Def.#sub` → `pkg_<field>.Def.sub`. */
function exportName(importPath: string, path: string): string {
  return `${packageField(importPath).replace(/^_/, "")}.${path.replace(/#/g, "")}`;
}

/**
 * Rewrites pattern constraints whose key is not `string` (e.g. `[Name=#PortName]: {...}`)
 * to `[Name=string]` so the OpenAPI export keeps their value schema as
 * `additionalProperties` (it drops patterns with other key constraints). Key
 * constraints are still enforced by CUE at render time.
 */
export function widenPatternKeys(text: string): string {
  const t = codeTokens(tokenize(text));
  const edits: Edit[] = [];
  for (let i = 0; i < t.length; i++) {
    if (t[i]!.text !== "[") continue;
    // `[` (alias `=`)? key `]` `:`, the key on one line, without strings or brackets.
    let k = i + 1;
    if (t[k]?.kind === "ident" && t[k + 1]?.text === "=") k += 2;
    let j = k;
    while (j < t.length && t[j]!.text !== "]" && t[j]!.text !== "[" && t[j]!.kind !== "string" && !t[j]!.kind.startsWith("interp") && !(j > k && t[j]!.nl)) j++;
    if (j === k || t[j]?.text !== "]" || t[j + 1]?.text !== ":" || t[j]!.nl) continue;
    const key = t.slice(k, j);
    if ((key.length === 1 && (key[0]!.text === "string" || /^\d+$/.test(key[0]!.text))) || key[0]!.text === "...") continue;
    edits.push({ start: key[0]!.start, end: key[key.length - 1]!.end, text: "string" });
    i = j;
  }
  return applyEdits(text, edits);
}

/** A replacement of `text.slice(start, end)`. */
interface Edit {
  start: number;
  end: number;
  text: string;
}

/** Applies non-overlapping edits (in any order) to a text. */
function applyEdits(text: string, edits: readonly Edit[]): string {
  let out = "";
  let at = 0;
  for (const e of [...edits].sort((a, b) => a.start - b.start)) {
    out += text.slice(at, e.start) + e.text;
    at = e.end;
  }
  return out + text.slice(at);
}

/** The end index (exclusive) of a selector chain `a.b.#c` starting at token `i`, or `i` when none. */
function chainEnd(t: readonly Token[], i: number): number {
  if (t[i]?.kind !== "ident") return i;
  let j = i + 1;
  while (t[j]?.text === "." && t[j + 1]?.kind === "ident" && t[j]!.start === t[j - 1]!.end && t[j + 1]!.start === t[j]!.end) j += 2;
  return j;
}

const NON_EMPTY = "opm_non_empty_list";

/**
 * The OpenAPI export fails on a non-empty list `[T, ...T]`; it is wrapped as
 * `{opm_non_empty_list: [...T]}`, which the schema reader turns back into `[...T]` with
 * `minItems: 1`.
 */
export function markNonEmptyLists(text: string): string {
  const t = codeTokens(tokenize(text));
  const edits: Edit[] = [];
  for (let i = 0; i < t.length; i++) {
    if (t[i]!.text !== "[") continue;
    const a = chainEnd(t, i + 1);
    if (a === i + 1 || t[a]?.text !== "," || t[a + 1]?.text !== "...") continue;
    const b = chainEnd(t, a + 2);
    const first = text.slice(t[i + 1]!.start, t[a - 1]!.end);
    if (b === a + 2 || t[b]?.text !== "]" || text.slice(t[a + 2]!.start, t[b - 1]!.end) !== first) continue;
    edits.push({ start: t[i]!.start, end: t[b]!.end, text: `{${NON_EMPTY}: [...${first}]}` });
    i = b;
  }
  return applyEdits(text, edits);
}

const DERIVED = "__opm_derived_default__";

/**
 * A default taken from another field (`int | *targetPort`) is lost by the OpenAPI
 * export; it is replaced by a marker string the schema reader recognises (the field
 * then has a default the author may rely on).
 */
export function markDerivedDefaults(text: string): string {
  const all = tokenize(text);
  const t = codeTokens(all);
  const edits: Edit[] = [];
  for (let i = 0; i + 2 < t.length; i++) {
    if (t[i]!.text !== "|" || t[i + 1]!.text !== "*" || t[i + 2]!.kind !== "ident") continue;
    const end = chainEnd(t, i + 2);
    const id = text.slice(t[i + 2]!.start, t[end - 1]!.end);
    // The default must end the value: a newline, a comment, `,`, `}`, `)`, `]` or the end follows.
    const next = all.find((x) => x.start >= t[end - 1]!.end);
    const ends = !next || next.nl || next.kind === "comment" || [",", "}", ")", "]"].includes(next.text);
    if (!ends || id.includes("#") || ["true", "false", "null"].includes(id)) continue;
    edits.push({ start: t[i + 2]!.start, end: t[end - 1]!.end, text: `"${DERIVED}"` });
  }
  return applyEdits(text, edits);
}

/**
 * The OpenAPI program: every package twice: once as the usual hidden field `_pkg_X`
 * (complete) and once as a definition `#pkg_X` holding the declarations the OpenAPI
 * export can handle. The export only covers definitions, and a reference into a hidden
 * field would come out as a broken `$ref`; references to exportable declarations are
 * therefore pointed at `#pkg_X`, the rest at `_pkg_X`.
 */
function openapiProgram(pkgs: CuePackage[], excluded: Map<string, Set<string>>): string {
  const parts: string[] = [];
  const stdlib = new Map<string, string>();
  const byPath = new Map(pkgs.map((p) => [p.importPath, p]));
  for (const pkg of pkgs) {
    for (const f of pkg.files) for (const imp of f.imports) if (isStdlib(imp.path)) stdlib.set(imp.alias, imp.path);
  }
  // The full hidden copies, linked as the engine links them.
  const { source } = link(pkgs, "", (p) => byPath.get(p));
  const body = source.replace(/^import \([\s\S]*?\n\)\n*/, "");
  parts.push(body);
  for (const pkg of pkgs) {
    const hidden = packageField(pkg.importPath);
    const visible = "#" + hidden.slice(1);
    const ex = excluded.get(pkg.importPath) ?? new Set<string>();
    const decls: string[] = [];
    for (const f of pkg.files) {
      // Same-package references to excluded declarations go to the hidden copy.
      const local = new Map<string, string>([...ex].map((d) => [d, `${hidden}.${d}`]));
      const aliases = new Map<string, string>();
      for (const imp of f.imports) {
        if (isStdlib(imp.path)) continue;
        aliases.set(imp.alias, packageField(imp.path));
      }
      for (const d of splitDecls(f.body, f.file.name)) {
        if (ex.has(d.name) || !d.name.startsWith("#")) continue;
        let text = rewriteImports(markNonEmptyLists(markDerivedDefaults(widenPatternKeys(d.text))), local);
        text = rewriteImports(text, aliases);
        // Cross-package references to exportable declarations use the definition copy.
        const tokens = codeTokens(tokenize(text));
        const edits: Edit[] = [];
        for (let i = 0; i + 2 < tokens.length; i++) {
          const [x, dot, def] = [tokens[i]!, tokens[i + 1]!, tokens[i + 2]!];
          if (x.kind !== "ident" || !x.text.startsWith("_pkg_") || dot.text !== "." || def.kind !== "ident" || !def.text.startsWith("#")) continue;
          const target = pkgs.find((p) => packageField(p.importPath) === x.text);
          if (!target || excluded.get(target.importPath)?.has(def.text)) continue;
          edits.push({ start: x.start, end: x.end, text: `#${x.text.slice(1)}` });
        }
        text = applyEdits(text, edits);
        decls.push(text);
      }
    }
    parts.push(printDeclList([ast.field(visible, ast.struct([ast.embed(ast.raw(decls.join("\n\n")))]))]));
  }
  const imports = stdlib.size ? printImportBlock([...stdlib].sort(([a], [b]) => a.localeCompare(b)).map(([alias, p]) => ({ alias, path: p }))) + "\n\n" : "";
  return imports + parts.join("\n\n") + "\n";
}

export interface SchemaSet {
  /** Every exported schema by its OpenAPI name. */
  schemas: Record<string, JsonSchema>;
  /** The schema of a definition's path (e.g. `#ScalingTrait.#spec`) in a package, if exported. */
  get(importPath: string, path: string): JsonSchema | undefined;
  /**
   * Resolves `$ref`s (recursively inlined; a broken or cyclic reference becomes `{}`).
   * With `markRefs`, a schema inlined from a `$ref` carries `x-opm-ref`: the name it came from.
   */
  resolve(schema: JsonSchema, options?: { markRefs?: boolean }): JsonSchema;
}

/**
 * Exports the schemas of the given packages (with their dependencies) through the
 * engine. Declarations the export cannot handle (e.g. an interpolation over non-concrete
 * values, as in `#DefinitionMetadata.fqn`) are excluded one by one and retried.
 */
export async function readSchemas(
  engine: Engine,
  packages: CuePackage[] = catalogPackages(),
  exportOnly?: (pkg: CuePackage, definition: string) => boolean,
): Promise<SchemaSet> {
  const excluded = new Map<string, Set<string>>();
  for (const p of packages) {
    const out = exportOnly ? packageDefinitions(p).filter((d) => !exportOnly(p, d)) : [];
    if (out.length) excluded.set(p.importPath, new Set(out));
  }
  let doc: { components?: { schemas?: Record<string, JsonSchema> } } | undefined;
  for (let attempt = 0; attempt < 500; attempt++) {
    try {
      doc = await engine.openapi(openapiProgram(packages, excluded));
      break;
    } catch (e) {
      if (!EngineError.is(e)) throw e;
      const text = e.issues.map((i) => `${i.path}: ${i.message}`).join("\n");
      const m = /#pkg_([A-Za-z0-9_]+)\.(#[A-Za-z0-9_]+)/.exec(text);
      const pkg = m && packages.find((p) => packageField(p.importPath) === "_pkg_" + m[1]);
      if (!m || !pkg || excluded.get(pkg.importPath)?.has(m[2]!)) {
        // Policy packages hold checks (comprehensions over `_`) the exporter cannot walk;
        // their parameter schemas are not needed for specs: leave them out and retry.
        const policyPkgs = packages.filter((p) => /\/policies@/.test(p.importPath) && excluded.get(p.importPath)?.size !== packageDefinitions(p).length);
        if (!policyPkgs.length) throw e;
        for (const p of policyPkgs) excluded.set(p.importPath, new Set(packageDefinitions(p)));
        continue;
      }
      excluded.set(pkg.importPath, new Set([...(excluded.get(pkg.importPath) ?? []), m[2]!]));
    }
  }
  const schemas = doc?.components?.schemas ?? {};
  let markRefs = false;
  const resolve = (s: JsonSchema, seen: string[] = []): JsonSchema => {
    if (s.$ref) {
      const name = s.$ref.replace("#/components/schemas/", "");
      const target = schemas[name];
      if (!target || seen.includes(name)) return {};
      const { $ref: _r, ...rest } = s;
      const inner = resolve(target, [...seen, name]);
      const merged = Object.keys(rest).length ? mergeAll([resolve(rest as JsonSchema, seen), inner]) : inner;
      // Named only while nothing but annotations was added to the referenced schema.
      const annotationsOnly = Object.keys(rest).every((k) => k === "description" || k === "default");
      const { "x-opm-ref": _m, ...unmarked } = merged;
      return markRefs && annotationsOnly ? { ...unmarked, "x-opm-ref": name } : unmarked;
    }
    const out: JsonSchema = { ...s };
    if (s.properties) out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, resolve(v, seen)]));
    if (s.items && !Array.isArray(s.items)) out.items = resolve(s.items, seen);
    if (Array.isArray(s.items)) out.items = {};
    if (s.additionalProperties && typeof s.additionalProperties === "object") out.additionalProperties = resolve(s.additionalProperties, seen);
    for (const k of ["oneOf", "anyOf"] as const) if (s[k]) out[k] = s[k]!.map((x) => resolve(x, seen));
    if (s.allOf) {
      const { allOf, ...rest } = out;
      const { "x-opm-ref": _m, ...merged } = mergeAll([rest, ...allOf!.map((x) => resolve(x, seen))]);
      return merged;
    }
    return normalizeDerivedDefault(out);
  };
  return {
    schemas,
    get: (importPath, path) => schemas[exportName(importPath, path)],
    resolve: (s, options) => {
      markRefs = options?.markRefs === true;
      try {
        return resolve(s);
      } finally {
        markRefs = false;
      }
    },
  };
}

/**
 * `int & >=1 & <=65535 | *targetPort` (a default taken from another field) is exported
 * as `oneOf: [{not: {anyOf: [B]}}, B]`; it means "B, with a default", so it becomes B
 * marked with `x-opm-derived-default`.
 */
function normalizeDerivedDefault(s: JsonSchema): JsonSchema {
  const nonEmpty = s.properties?.[NON_EMPTY];
  if (nonEmpty && Object.keys(s.properties!).length === 1) {
    const { properties: _p, required: _r, type: _t, ...rest } = s;
    return { ...rest, ...nonEmpty, minItems: Math.max(1, nonEmpty.minItems ?? 0) };
  }
  const branches = s.oneOf ?? s.anyOf;
  const isMarker = (b: JsonSchema) => (b.enum?.length === 1 && b.enum[0] === DERIVED) || (b["x-opm-derived-default"] === true && Object.keys(b).length === 1);
  if (branches?.some(isMarker)) {
    const rest = branches.filter((b) => !isMarker(b));
    const { oneOf: _o, anyOf: _a, default: _d, ...base } = s;
    const merged = rest.length === 1 ? mergeAll([base, rest[0]!]) : { ...base, oneOf: rest };
    if (merged.type === "string" && rest.every((b) => b.type && b.type !== "string")) delete merged.type;
    return { ...merged, ...(rest.length === 1 && rest[0]!.type ? { type: rest[0]!.type } : {}), "x-opm-derived-default": true };
  }
  if (s.enum?.length === 1 && s.enum[0] === DERIVED) {
    const { enum: _e, default: _d, ...base } = s;
    return { ...base, "x-opm-derived-default": true };
  }
  if (s.oneOf?.length !== 2) return s;
  const neg = s.oneOf.find((x) => x.not);
  const pos = s.oneOf.find((x) => !x.not);
  if (!neg || !pos) return s;
  const { oneOf: _o, ...rest } = s;
  return { ...rest, ...pos, "x-opm-derived-default": true };
}

/** Merges schemas of an `allOf` (properties and required are combined; later wins). */
export function mergeAll(list: JsonSchema[]): JsonSchema {
  const out: JsonSchema = {};
  for (const s of list) {
    const { properties, required, ...rest } = s;
    Object.assign(out, rest);
    if (properties) out.properties = { ...(out.properties ?? {}), ...properties };
    if (required) out.required = [...new Set([...(out.required ?? []), ...required])];
  }
  return out;
}

/** The schema of a resource's or trait's spec (the value under its spec key), resolved. */
export function specSchema(set: SchemaSet, entry: CatalogEntry, options?: { markRefs?: boolean }): JsonSchema | undefined {
  if (!entry.specKey) return undefined;
  const spec = set.get(entry.package, `${entry.definition}.#spec`);
  const field = spec?.properties?.[entry.specKey];
  return field ? set.resolve(field, options) : undefined;
}
