/**
 * `npm run codegen` (writes) and `npm run codegen:check` (fails when the checked-in
 * output differs): reads the catalog through the engine and emits typed builders into
 * `dsl/generated/`, one file per catalog package.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Engine } from "../src/engine/engine.js";
import { catalogPackages, readIndex, readSchemas } from "../src/program/catalog-index.js";
import { codegenInput, emitIndex, emitPackage } from "./emit.js";
import { fileBase } from "./names.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const OUT_DIR = path.join(root, "dsl", "generated");

/** Generates every file: file name → text. */
export async function generate(engine: Engine): Promise<Map<string, string>> {
  const packages = catalogPackages();
  const index = await readIndex(engine, packages);
  const wanted = new Set([...index.resources, ...index.traits, ...index.blueprints].map((e) => e.package));
  const schemas = await readSchemas(engine, packages, (p) => wanted.has(p.importPath) || p.importPath.endsWith("/core@v1"));
  const input = codegenInput(index, schemas);
  const files = new Map<string, string>();
  for (const pkg of [...wanted].sort()) {
    const text = emitPackage(pkg, input);
    if (text) files.set(`${fileBase(pkg)}.ts`, text);
  }
  files.set("index.ts", emitIndex([...files.keys()].map((f) => f.replace(/\.ts$/, ""))));
  return files;
}

async function run(check: boolean): Promise<number> {
  const engine = new Engine({ timeoutMs: 120_000 });
  try {
    const files = await generate(engine);
    const existing = existsSync(OUT_DIR) ? readdirSync(OUT_DIR).filter((f) => f.endsWith(".ts")) : [];
    const stale = existing.filter((f) => !files.has(f));
    const changed = [...files].filter(([name, text]) => !existsSync(path.join(OUT_DIR, name)) || readFileSync(path.join(OUT_DIR, name), "utf8") !== text).map(([n]) => n);
    if (check) {
      if (changed.length || stale.length) {
        process.stderr.write(`codegen:check: dsl/generated is out of date (${[...changed.map((c) => `changed ${c}`), ...stale.map((s) => `stale ${s}`)].join(", ")}); run npm run codegen\n`);
        return 1;
      }
      process.stderr.write(`codegen:check: dsl/generated is up to date (${files.size} files)\n`);
      return 0;
    }
    mkdirSync(OUT_DIR, { recursive: true });
    for (const s of stale) rmSync(path.join(OUT_DIR, s));
    for (const [name, text] of files) writeFileSync(path.join(OUT_DIR, name), text);
    process.stderr.write(`codegen: wrote ${files.size} files to dsl/generated (${changed.length} changed, ${stale.length} removed)\n`);
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
