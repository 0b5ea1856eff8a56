/** Step 0 of codegen: names. Definition names to TypeScript identifiers and file names. */
import type { CatalogEntry } from "../src/program/catalog-index.js";

/** `stateless-workload` → `StatelessWorkload`; `http-route` → `HttpRoute`; `env-from` → `EnvFrom`. */
export function pascalCase(name: string): string {
  const s = name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

/**
 * `opm.dev/catalog/traits@v1` → `traits`; `opm.dev/catalog/providers/kubernetes@v1` →
 * `providers-kubernetes`; outside the catalog the domain is left out
 * (`example.com/widgets/traits@v1` → `widgets-traits`).
 */
export function fileBase(importPath: string): string {
  return importPath
    .replace(/^opm\.dev\/catalog\//, "")
    .replace(/^[^/]*\.[^/]*\/(?=.)/, "")
    .replace(/@v\d+$/, "")
    .replace(/[^A-Za-z0-9]+/g, "-");
}

/** The CUE import alias used in emitted CUE for a package: its last path element. */
export function cueAlias(importPath: string): string {
  return importPath
    .replace(/@v\d+$/, "")
    .split("/")
    .pop()!
    .replace(/[^A-Za-z0-9_]/g, "_");
}

const KIND_SUFFIX = { resource: "Resource", trait: "Trait", blueprint: "Blueprint", transformer: "Transformer", policy: "Policy" } as const;

/**
 * Builder names for every entry: PascalCase of the definition name, as users know them
 * (`Container`, `Scaling`, `StatelessWorkload`). When two entries would share a name
 * (e.g. a resource and a trait both named `role`), both get their kind as a suffix.
 */
export function builderNames(entries: readonly CatalogEntry[]): Map<string, string> {
  const byName = new Map<string, CatalogEntry[]>();
  for (const e of entries) {
    const n = pascalCase(e.name);
    byName.set(n, [...(byName.get(n) ?? []), e]);
  }
  const out = new Map<string, string>();
  for (const [n, es] of byName) {
    for (const e of es) out.set(e.fqn, es.length > 1 ? n + KIND_SUFFIX[e.kind] : n);
  }
  return out;
}
