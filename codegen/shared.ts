/**
 * Step 1b of codegen: shared schemas. A catalog definition that specs reach through a `$ref`
 * (`#ContainerSpec`, `#Probe`, `#EnvVar`, `core.#Secret`, ...) is emitted once as a named
 * definition and referred to by name everywhere it is used, as cdk8s-cli's `import`
 * (json2jsii) does: its TypeScript type in the generated file of the package that owns it,
 * its embedded validation schema in `schemas.ts`.
 *
 * Only structured schemas are named (objects with fields, maps, unions of objects); a
 * scalar such as `#Quantity` stays inline, where its pattern documents the field. A
 * reference is named only while the schema at the site is exactly the shared one (nothing
 * but a description or a default added), so naming never changes a type.
 */
import type { JsonSchema } from "../src/program/catalog-index.js";
import { pascalCase } from "./names.js";
import type { RefName } from "./schema.js";

/** One shared schema, emitted once. */
export interface SharedSchema {
  /** Its OpenAPI name, e.g. `pkg_opm_dev_catalog_resources_v1.ContainerSpec`. */
  ref: string;
  /** Import path of the package that declares it. */
  importPath: string;
  /** Its TypeScript type name, e.g. `ContainerSpec`. */
  name: string;
  /** The resolved schema (nested shared schemas marked with `x-opm-ref`). */
  schema: JsonSchema;
}

/** True for a schema worth naming: an object with fields, a map, or a union of objects. */
export function structured(s: JsonSchema): boolean {
  if (s.properties && Object.keys(s.properties).length) return true;
  if (typeof s.additionalProperties === "object") return true;
  return (s.oneOf ?? s.anyOf ?? []).some((b) => b.type === "object" || b.properties !== undefined);
}

const ANNOTATIONS = new Set(["description", "default", "x-opm-derived-default", "x-opm-ref"]);

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (typeof v === "object" && v !== null) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

/** True when two schemas differ at most in their own annotations (description, default). */
export function sameShape(a: JsonSchema, b: JsonSchema): boolean {
  const strip = (s: JsonSchema) => Object.fromEntries(Object.entries(s).filter(([k]) => !ANNOTATIONS.has(k)));
  return canonical(strip(a)) === canonical(strip(b));
}

/** The schema without its own `x-opm-ref` (what a named definition declares). */
export function unmarked(s: JsonSchema): JsonSchema {
  const { "x-opm-ref": _m, ...rest } = s;
  return rest;
}

/**
 * The shared schemas of one generation. `lookup` resolves an OpenAPI name to its schema and
 * its owning package. Usage is recorded while walking (`ref`); `freeze` then gives every
 * used schema its final name (`reserved` names are taken by builders, spec types and
 * tables; a clash gets the owning package as a prefix).
 */
export class SharedSchemas {
  readonly #lookup: (ref: string) => { importPath: string; schema: JsonSchema } | undefined;
  readonly #found = new Map<string, { importPath: string; schema: JsonSchema } | null>();
  readonly #used = new Set<string>();
  #names: Map<string, string> | undefined;
  /**
   * The shared schemas whose embedded validation schema is emitted once (in `schemas.ts`):
   * those used in more than one place; one used once is inlined where it is used.
   */
  embedded: ReadonlySet<string> = new Set();

  constructor(lookup: (ref: string) => { importPath: string; schema: JsonSchema } | undefined) {
    this.#lookup = lookup;
  }

  #get(ref: string): { importPath: string; schema: JsonSchema } | undefined {
    if (!this.#found.has(ref)) {
      const hit = this.#lookup(ref);
      this.#found.set(ref, hit && structured(hit.schema) ? { importPath: hit.importPath, schema: unmarked(hit.schema) } : null);
    }
    return this.#found.get(ref) ?? undefined;
  }

  /** The shared schema a node is, if it is one (recording it as used). */
  find(s: JsonSchema): SharedSchema | undefined {
    const ref = s["x-opm-ref"];
    const hit = ref ? this.#get(ref) : undefined;
    if (!ref || !hit || !sameShape(s, hit.schema)) return undefined;
    if (!this.#names) this.#used.add(ref);
    return { ref, ...hit, name: this.#names?.get(ref) ?? baseName(ref) };
  }

  /**
   * The `RefName` for schema walks: names shared schemas; `use` is told about each one
   * (for imports). Before `freeze`, walks only record usage.
   */
  refName(use: (shared: SharedSchema) => string = (sh) => sh.name): RefName {
    return (s) => {
      const shared = this.find(s);
      return shared ? use(shared) : undefined;
    };
  }

  /** Every used shared schema, reached from the used ones too (`walk` visits a schema). */
  close(walk: (s: JsonSchema) => void): void {
    const done = new Set<string>();
    for (;;) {
      const next = [...this.#used].filter((r) => !done.has(r)).sort();
      if (!next.length) return;
      for (const r of next) {
        done.add(r);
        walk(this.#get(r)!.schema);
      }
    }
  }

  /** Fixes the names of the used schemas; walks after this no longer add any. */
  freeze(reserved: ReadonlySet<string>, claimed: ReadonlyMap<string, string>, filePrefix: (importPath: string) => string): void {
    const refs = [...this.#used].sort();
    const count = new Map<string, number>();
    for (const r of refs) count.set(baseName(r), (count.get(baseName(r)) ?? 0) + 1);
    const names = new Map<string, string>();
    for (const r of refs) {
      const base = baseName(r);
      const clash = count.get(base)! > 1 || (reserved.has(base) && claimed.get(base) !== r);
      names.set(r, clash ? pascalCase(filePrefix(this.#get(r)!.importPath)) + base : base);
    }
    this.#names = names;
  }

  /** The used shared schemas, by name. */
  all(): SharedSchema[] {
    return [...this.#used]
      .map((ref) => ({ ref, ...this.#get(ref)!, name: this.#names?.get(ref) ?? baseName(ref) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}

/** `pkg_opm_dev_catalog_resources_v1.ContainerSpec` → `ContainerSpec`; `pkg_x.Foo.bar` → `FooBar`. */
export function baseName(ref: string): string {
  return ref
    .split(".")
    .slice(1)
    .map((p) => pascalCase(p))
    .join("");
}
