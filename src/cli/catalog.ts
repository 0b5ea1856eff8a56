/**
 * `opm catalog`: lists what the catalog offers (resources, traits, blueprints,
 * transformers, policies), read through the engine at run time; `opm catalog <fqn>`
 * shows one entry with its JSON schema and an example.
 */
import { OpmError } from "../core/errors.js";
import { defaultEngine } from "../engine/engine.js";
import { exampleOf } from "../program/schema-example.js";
import { catalogPackages, readIndex, readSchemas, specSchema, type CatalogEntry, type CatalogIndex, type JsonSchema } from "../program/catalog-index.js";
import type { IO } from "./main.js";

const GROUPS = ["resources", "traits", "blueprints", "transformers", "policies"] as const;

/** The JSON form of an entry: fqn and description first, internals left out. */
function entryJson(e: CatalogEntry): Record<string, unknown> {
  const { fqn, description, kind: _k, package: _p, definition: _d, mixin: _m, ...rest } = e;
  return { fqn, description, ...rest };
}

function listText(index: CatalogIndex): string {
  const lines: string[] = [];
  for (const g of GROUPS) {
    const es = index[g];
    lines.push(`${g[0]!.toUpperCase()}${g.slice(1)} (${es.length})`);
    const width = Math.max(0, ...es.map((e) => e.fqn.length)) + 2;
    for (const e of es) lines.push(`  ${e.fqn.padEnd(width)}${e.description}`);
    if (!es.length) lines.push("  (none)");
    lines.push("");
  }
  return lines.join("\n");
}

/** Schema of a blueprint: one property per composed resource and trait. */
function blueprintSchema(e: CatalogEntry, all: CatalogEntry[], spec: (e: CatalogEntry) => JsonSchema | undefined): JsonSchema {
  const props: Record<string, JsonSchema> = {};
  for (const fqn of [...(e.composedResources ?? []), ...(e.composedTraits ?? [])]) {
    const c = all.find((x) => x.fqn === fqn);
    const s = c && spec(c);
    if (c?.specKey && s) props[c.specKey] = s;
  }
  return { type: "object", properties: props, required: Object.keys(props) };
}

/** `HttpRoute`, `http-route`, `#HttpRoute`, `#HttpRouteTrait` → `httproute` (and `httproutetrait`). */
function loose(name: string): string {
  return name
    .replace(/^#/, "")
    .replace(/[^A-Za-z0-9]/g, "")
    .toLowerCase();
}

/**
 * The catalog entry a user names: its FQN (with or without the version), its name in any
 * case or spelling (`expose`, `Expose`, `http-route`, `HttpRoute`), its CUE mixin or
 * definition (`#Expose`, `#ExposeTrait`). A name two entries share is a usage error listing them.
 */
export function findEntry(all: readonly CatalogEntry[], query: string): CatalogEntry {
  const exact = all.find((e) => e.fqn === query) ?? all.find((e) => e.fqn.replace(/@v\d+$/, "") === query);
  if (exact) return exact;
  const q = loose(query);
  const keys = (e: CatalogEntry) =>
    [
      e.name,
      e.definition,
      ...(e.mixin ? [e.mixin] : []),
      e.fqn
        .replace(/@v\d+$/, "")
        .split("/")
        .pop()!,
    ].map(loose);
  const hits = all.filter((e) => keys(e).includes(q));
  if (hits.length === 1) return hits[0]!;
  if (hits.length > 1)
    throw new OpmError("usage", `${JSON.stringify(query)} names ${hits.length} catalog entries: ${hits.map((e) => e.fqn).join(", ")}; give the FQN`);
  const near = all.filter((e) => e.fqn.toLowerCase().includes(query.toLowerCase().replace(/^#/, ""))).map((e) => e.fqn);
  throw new OpmError(
    "usage",
    `no catalog entry ${JSON.stringify(query)}${near.length ? ` (did you mean ${near.join(", ")}?)` : ""}; run "opm catalog" to list them`,
  );
}

async function catalogCommand(positionals: string[], format: string, io: IO): Promise<number> {
  if (format !== "text" && format !== "json" && format !== "yaml") throw new OpmError("usage", `-o must be text, json or yaml, not ${JSON.stringify(format)}`);
  const engine = defaultEngine();
  const packages = catalogPackages();
  const index = await readIndex(engine, packages);
  const fqn = positionals[0];
  if (!fqn) {
    if (format === "text") io.out(listText(index));
    else {
      const doc = Object.fromEntries(GROUPS.map((g) => [g, index[g].map(entryJson)]));
      io.out(format === "json" ? JSON.stringify(doc, null, 2) + "\n" : (await import("yaml")).stringify(doc));
    }
    return 0;
  }
  const all = GROUPS.flatMap((g) => index[g]);
  const entry = findEntry(all, fqn);
  let schema: JsonSchema | undefined;
  if (entry.kind === "resource" || entry.kind === "trait" || entry.kind === "blueprint") {
    const set = await readSchemas(engine, packages, (p) => !p.importPath.includes("/providers/"));
    const spec = (e: CatalogEntry) => specSchema(set, e);
    schema = entry.kind === "blueprint" ? blueprintSchema(entry, all, spec) : spec(entry);
  }
  const doc = {
    kind: entry.kind,
    ...entryJson(entry),
    ...(entry.mixin ? { cue: `${entry.mixin} in ${entry.package}` } : { cue: `${entry.definition} in ${entry.package}` }),
    ...(schema ? { schema, example: entry.specKey ? { [entry.specKey]: exampleOf(schema) } : exampleOf(schema) } : {}),
  };
  if (format === "json") io.out(JSON.stringify(doc, null, 2) + "\n");
  else io.out((await import("yaml")).stringify(doc));
  return 0;
}

/** The `opm catalog` command (registered in main.ts). */
export const catalogCmd = {
  summary: "List the catalog's resources, traits, blueprints, transformers and policies",
  usage: "opm catalog [<fqn>] [-o text|json|yaml]",
  options: { output: { type: "string" as const, short: "o" } },
  help: {
    "<fqn>":
      "show one entry (its FQN, its name in any case such as expose or Expose, or its CUE definition such as #Expose) with its JSON schema and an example",
    "-o, --output text|json|yaml": "output format (default: text for the list, yaml for one entry)",
  },
  async run({ positionals, values }: { positionals: string[]; values: Record<string, unknown> }, io: IO): Promise<number> {
    return catalogCommand(positionals, (values.output as string | undefined) ?? (positionals[0] ? "yaml" : "text"), io);
  },
};
