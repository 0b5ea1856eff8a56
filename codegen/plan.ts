/**
 * Step 2 of codegen, first half: what to emit. The input every emitter reads (the catalog index,
 * spec and parameter schemas, shared schemas), the builder names, which shared schemas are
 * emitted and where, and which packages get a generated file.
 */
import { specSchema, type CatalogEntry, type CatalogIndex, type JsonSchema, type SchemaSet } from "../src/program/catalog-index.js";
import { packageField } from "../src/program/link.js";
import { builderNames, fileBase } from "./names.js";
import { embeddedSchema, schemaToType } from "./schema.js";
import { SharedSchemas } from "./shared.js";

/** Everything emission needs to know about the catalog. */
export interface CodegenInput {
  index: CatalogIndex;
  /** The spec schema (resolved, shared schemas marked) of a resource or trait. */
  spec(entry: CatalogEntry): JsonSchema | undefined;
  /** The shared schemas specs refer to. */
  shared: SharedSchemas;
  /** The parameter schema (resolved) of a policy: `#XParams` beside `#XPolicy`, if any. */
  params(entry: CatalogEntry): JsonSchema | undefined;
}

/** `#MinReplicasPolicy` → `#MinReplicasParams`: where a policy's `#params` are declared. */
export function paramsDefinition(policyDefinition: string): string {
  return policyDefinition.replace(/Policy$/, "Params");
}

/** `packages`: the import paths of the packages the schemas were read from. */
export function codegenInput(index: CatalogIndex, set: SchemaSet, packages: readonly string[]): CodegenInput {
  const byField = new Map(packages.map((p) => [packageField(p).replace(/^_/, ""), p]));
  const shared = new SharedSchemas((ref) => {
    const raw = set.schemas[ref];
    const importPath = byField.get(ref.split(".")[0]!);
    return raw && importPath ? { importPath, schema: set.resolve(raw, { markRefs: true }) } : undefined;
  });
  const params = (e: CatalogEntry) => {
    const s = set.get(e.package, paramsDefinition(e.definition));
    return s ? set.resolve(s) : undefined;
  };
  return { index, spec: (e) => specSchema(set, e, { markRefs: true }), shared, params };
}

/** The name of the exported FQN table of a file: `traits` → `traitsFqn`. */
export function fqnTableName(file: string): string {
  return file.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()) + "Fqn";
}

/** Every definition with a builder, by FQN, and their builder names. */
export function definitions(index: CatalogIndex): { all: Map<string, CatalogEntry>; names: Map<string, string> } {
  const all = new Map([...index.resources, ...index.traits, ...index.blueprints].map((e) => [e.fqn, e]));
  return { all, names: builderNames([...all.values()]) };
}

/**
 * Decides which shared schemas are emitted and fixes their names. Walks every spec the way
 * emission does (so exactly the schemas emission will refer to are recorded), then the
 * shared schemas themselves. Must run once before `emitPackage` and `emitSchemas`.
 */
export function planShared(input: CodegenInput): void {
  const { shared } = input;
  const { all, names } = definitions(input.index);
  const record = shared.refName();
  const embeddedUses = new Map<string, number>();
  const countEmbedded = shared.refName((sh) => {
    embeddedUses.set(sh.ref, (embeddedUses.get(sh.ref) ?? 0) + 1);
    return sh.name;
  });
  const walk = (s: JsonSchema) => {
    schemaToType(s, record);
    embeddedSchema(s, countEmbedded);
  };
  const reserved = new Set(["FQN"]);
  const claimed = new Map<string, string>();
  for (const e of [...all.values()].filter((x) => x.mixin)) {
    const name = names.get(e.fqn)!;
    for (const n of [name, `${name}Spec`, `${name}Definition`, fqnTableName(fileBase(e.package))]) reserved.add(n);
    if (e.kind === "blueprint") continue;
    const schema = input.spec(e);
    if (!schema) continue;
    walk(schema);
    const own = shared.find(schema);
    if (own && own.name === `${name}Spec` && own.importPath === e.package) claimed.set(own.name, own.ref);
  }
  shared.close(walk);
  shared.freeze(reserved, claimed, fileBase);
  shared.embedded = new Set([...embeddedUses].filter(([, n]) => n > 1).map(([ref]) => ref));
}

/** The packages that get a generated file: those with builders or shared schemas. */
export function generatedPackages(input: CodegenInput): string[] {
  const { all } = definitions(input.index);
  return [...new Set([...[...all.values()].filter((e) => e.mixin).map((e) => e.package), ...input.shared.all().map((s) => s.importPath)])].sort();
}
