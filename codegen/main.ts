/**
 * `npm run codegen` (writes) and `npm run codegen:check` (fails when the checked-in
 * output differs): reads the catalog through the engine and emits typed builders into
 * `dsl/generated/`, one file per catalog package, and the tables of docs/catalog.md.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Engine } from "../src/engine/engine.js";
import type { CuePackage } from "../src/program/link.js";
import { catalogPackages, readIndex, readSchemas, specSchema } from "../src/program/catalog-index.js";
import { catalogTables, updateCatalogDoc } from "./catalog-doc.js";
import { emitAll } from "./emit.js";
import { codegenInput, paramsDefinition } from "./plan.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const OUT_DIR = path.join(root, "dsl", "generated");
/** The catalog reference; its tables are generated (between the markers of catalog-doc.ts). */
export const CATALOG_DOC = path.join(root, "docs", "catalog.md");

/** What codegen generates from a set of packages. */
export interface Generated {
  /** `dsl/generated/` files: file name → text. */
  files: Map<string, string>;
  /** The tables of docs/catalog.md (between its markers). */
  catalogTables: string;
}

/**
 * Reads the packages through the engine and generates the builders and the catalog tables.
 * `packages` defaults to the catalog; a test passes a fixture catalog (its packages and the
 * core package they import).
 */
export async function generateAll(engine: Engine, packages: CuePackage[] = catalogPackages()): Promise<Generated> {
  const index = await readIndex(engine, packages);
  const wanted = new Set([...index.resources, ...index.traits, ...index.blueprints].map((e) => e.package));
  const params = new Set(index.policies.map((e) => `${e.package} ${paramsDefinition(e.definition)}`));
  const schemas = await readSchemas(
    engine,
    packages,
    (p, d) => wanted.has(p.importPath) || p.importPath.endsWith("/core@v1") || params.has(`${p.importPath} ${d}`),
  );
  const files = emitAll(
    codegenInput(
      index,
      schemas,
      packages.map((p) => p.importPath),
    ),
  );
  return { files, catalogTables: catalogTables(index, (e) => specSchema(schemas, e)) };
}

/** Generates every `dsl/generated/` file: file name → text. */
export async function generate(engine: Engine, packages: CuePackage[] = catalogPackages()): Promise<Map<string, string>> {
  return (await generateAll(engine, packages)).files;
}

async function run(check: boolean): Promise<number> {
  const engine = new Engine({ timeoutMs: 120_000 });
  try {
    const { files, catalogTables: tables } = await generateAll(engine);
    const existing = existsSync(OUT_DIR) ? readdirSync(OUT_DIR).filter((f) => f.endsWith(".ts")) : [];
    const stale = existing.filter((f) => !files.has(f));
    const changed = [...files]
      .filter(([name, text]) => !existsSync(path.join(OUT_DIR, name)) || readFileSync(path.join(OUT_DIR, name), "utf8") !== text)
      .map(([n]) => n);
    const doc = readFileSync(CATALOG_DOC, "utf8");
    const newDoc = updateCatalogDoc(doc, tables);
    if (check) {
      const problems = [
        ...changed.map((c) => `changed dsl/generated/${c}`),
        ...stale.map((s) => `stale dsl/generated/${s}`),
        ...(newDoc !== doc ? ["changed docs/catalog.md"] : []),
      ];
      if (problems.length) {
        process.stderr.write(`codegen:check: generated code is out of date (${problems.join(", ")}); run npm run codegen\n`);
        return 1;
      }
      process.stderr.write(`codegen:check: dsl/generated (${files.size} files) and docs/catalog.md are up to date\n`);
      return 0;
    }
    mkdirSync(OUT_DIR, { recursive: true });
    for (const s of stale) rmSync(path.join(OUT_DIR, s));
    for (const [name, text] of files) writeFileSync(path.join(OUT_DIR, name), text);
    if (newDoc !== doc) writeFileSync(CATALOG_DOC, newDoc);
    process.stderr.write(
      `codegen: wrote ${files.size} files to dsl/generated (${changed.length} changed, ${stale.length} removed) and the tables of docs/catalog.md (${newDoc !== doc ? "changed" : "unchanged"})\n`,
    );
    return 0;
  } finally {
    await engine.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  run(process.argv.includes("--check")).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`codegen failed: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
