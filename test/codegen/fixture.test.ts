/**
 * Codegen of a tiny fixture catalog (test/codegen/fixture-catalog: one resource, one trait
 * whose spec uses a shared shape twice, one blueprint, two policies), checked against the committed
 * snapshot test/codegen/fixture-catalog/generated.snap. A change to the generated code fails
 * here until the snapshot is updated on purpose (`npx vitest run test/codegen/fixture.test.ts -u`)
 * and the diff reviewed. The real catalog's output (dsl/generated) is guarded by
 * `npm run codegen:check`.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateAll } from "../../codegen/main.js";
import { updateCatalogDoc } from "../../codegen/catalog-doc.js";
import { HEADER } from "../../codegen/print.js";
import { Engine } from "../../src/engine/engine.js";
import { catalogPackage, parseHeader, readCueDir, type CuePackage } from "../../src/program/link.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");

/** The fixture packages (`fixture.test/<dir>@v1`) and the core package they import. */
function fixturePackages(): CuePackage[] {
  const own = ["resources", "traits", "blueprints", "policies"].map((dir) => {
    const files = readCueDir(path.join(here, "fixture-catalog", dir), `fixture-catalog/${dir}`).map(parseHeader);
    return { importPath: `fixture.test/${dir}@v1`, name: files[0]!.package, files };
  });
  return [catalogPackage("opm.dev/catalog/core@v1")!, ...own];
}

/** All generated files as one text, each under a `// ==== <file> ====` line. */
function snapshotText(files: Map<string, string>): string {
  return [...files].map(([name, text]) => `// ==== ${name} ====\n${text}`).join("\n");
}

/** Type-checks the generated files as if they were in dsl/generated (served from memory). */
function typeErrors(files: Map<string, string>): string[] {
  const dir = path.join(root, "dsl", "__fixture_generated__");
  const virtual = new Map([...files].map(([name, text]) => [path.join(dir, name), text]));
  // The project's own compiler options (tsconfig.json).
  const config = ts.getParsedCommandLineOfConfigFile(path.join(root, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const options = { ...config.options, noEmit: true };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile, directoryExists } = host;
  host.directoryExists = (d) => d === dir || directoryExists!.call(host, d);
  host.fileExists = (f) => virtual.has(f) || fileExists.call(host, f);
  host.readFile = (f) => virtual.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, ...rest) => (virtual.has(f) ? ts.createSourceFile(f, virtual.get(f)!, lang) : getSourceFile.call(host, f, lang, ...rest));
  const program = ts.createProgram([...virtual.keys()], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file ? path.relative(root, d.file.fileName) : ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
}

const engine = new Engine({ timeoutMs: 120_000 });
let files: Map<string, string>;
let tables: string;
beforeAll(async () => {
  ({ files, catalogTables: tables } = await generateAll(engine, fixturePackages()));
}, 120_000);
afterAll(() => engine.close());

describe("codegen of the fixture catalog", () => {
  it("matches the committed snapshot", async () => {
    // Without the committed file, vitest would write it and pass: require it.
    expect(existsSync(path.join(here, "fixture-catalog", "generated.snap"))).toBe(true);
    await expect(snapshotText(files)).toMatchFileSnapshot("./fixture-catalog/generated.snap");
  });

  it("emits one file per package, the shared types, the shared schemas and the index, each with the header", () => {
    expect([...files.keys()]).toEqual(["blueprints.ts", "index.ts", "policies.ts", "resources.ts", "schemas.ts", "traits.ts"]);
    for (const text of files.values()) expect(text.startsWith(`// ${HEADER}\n`)).toBe(true);
  });

  it("declares the shape the trait uses twice once, and refers to it by name", () => {
    const traits = files.get("traits.ts")!;
    expect(traits.match(/^export interface Check \{/gm)).toHaveLength(1);
    expect(traits).toContain("startup?: Check;");
    expect(traits).toContain("liveness?: Check;");
    expect(traits.match(/\bport: \{/g)).toBeNull();
    const schemas = files.get("schemas.ts")!;
    expect(schemas.match(/^export const CheckSchema: JsonSchema = \{/gm)).toHaveLength(1);
    expect(traits.match(/: CheckSchema\b/g)).toHaveLength(2);
  });

  it("generates policy parameter types and builders from #XParams", () => {
    const policies = files.get("policies.ts")!;
    expect(policies).toMatch(/export type MaxCopiesParams = \{[\s\S]*?max\?: number;[\s\S]*?owners: string\[\];\n\};/);
    expect(policies).toContain("export function MaxCopies(params: MaxCopiesParams, options: PolicyOptions = {}): PolicyUse {");
    expect(policies).toContain("export function Pinned(options: PolicyOptions = {}): PolicyUse {");
    // [string, ...string] keeps its meaning: at least one item.
    expect(policies).toMatch(/owners: \{\n\s+type: "array",\n\s+minItems: 1,/);
    expect(policies).toContain('description: "Widgets run at most max copies."');
  });

  it("generates the catalog tables of docs/catalog.md", () => {
    expect(tables).toContain("| `Widget` | `fixture.test/resources/widget@v1` | `widget` | A widget to run. | `image`, `copies?`, `ports?` | — |");
    expect(tables).toContain(
      "| `Checks` | `fixture.test/traits/checks@v1` | `checks` | Startup and liveness checks of a widget. | `startup?`, `liveness?` | — |",
    );
    expect(tables).toContain("| `CheckedWidget` | `fixture.test/blueprints/checked-widget@v1` | Widget, Checks | `widget` | A widget with its checks. |");
    expect(tables).toContain("| `MaxCopies` | `fixture.test/policies/max-copies@v1` | `max`, `owners` | Widgets run at most max copies. |");
    const doc = updateCatalogDoc(`intro\n${tables.split("\n")[0]}\nold\n${tables.split("\n").at(-1)}\noutro\n`, tables);
    expect(doc).toBe(`intro\n${tables}\noutro\n`);
    expect(() => updateCatalogDoc("no markers", tables)).toThrow("docs/catalog.md: the markers of the generated tables are missing");
  });

  it("generates code that type-checks", () => {
    expect(typeErrors(files)).toEqual([]);
  }, 60_000);
});
