import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { importModuleFile } from "../src/cli/load.js";
import { loadCueModule, render, toCueFiles } from "../src/render/render.js";
import { ModuleRelease } from "../dsl/module.js";

/**
 * Every example renders twice to the same bytes, parses as Kubernetes objects, equals its
 * reviewed golden file, and renders identically from the CUE it compiles to.
 * Set UPDATE_GOLDEN=1 to rewrite golden files (then review the diff).
 */
const examples = readdirSync("examples").filter((d) => existsSync(path.join("examples", d, "module.ts")));
const cueExamples = readdirSync("examples").filter(
  (d) => !existsSync(path.join("examples", d, "module.ts")) && readdirSync(path.join("examples", d)).some((f) => f.endsWith(".cue")),
);

function checkGolden(name: string, yaml: string) {
  const file = path.join("test", "golden", `${name}.yaml`);
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, yaml);
  expect(existsSync(file), `golden file ${file} is missing: run with UPDATE_GOLDEN=1 and review it`).toBe(true);
  expect(yaml).toBe(readFileSync(file, "utf8"));
}

function checkObjects(yaml: string) {
  const docs = parseAllDocuments(yaml).map((d) => d.toJS());
  expect(docs.length).toBeGreaterThan(0);
  for (const d of docs) {
    expect(typeof d.apiVersion).toBe("string");
    expect(typeof d.kind).toBe("string");
    expect(d.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
  }
}

describe.each(examples)("example %s", (name) => {
  it("builds twice to the same bytes, matching its golden file", async () => {
    const m = await importModuleFile(path.join("examples", name, "module.ts"));
    const a = (await render(m)).yaml();
    const b = (await render(m)).yaml();
    expect(a).toBe(b);
    checkObjects(a);
    checkGolden(name, a);
  });

  it("renders the same from the CUE it compiles to", async () => {
    const m = await importModuleFile(path.join("examples", name, "module.ts"));
    const rel = ModuleRelease.is(m) ? m : m.release();
    const dir = mkdtempSync(path.join(tmpdir(), `opm-${name}-`));
    for (const f of toCueFiles(rel)) writeFileSync(path.join(dir, f.name), f.text);
    expect((await render(loadCueModule(dir))).yaml()).toBe((await render(rel)).yaml());
  });
});

describe.each(cueExamples)("CUE example %s", (name) => {
  it("builds twice to the same bytes, matching its golden file", async () => {
    const a = (await render(loadCueModule(path.join("examples", name)))).yaml();
    expect((await render(loadCueModule(path.join("examples", name)))).yaml()).toBe(a);
    checkObjects(a);
    checkGolden(name, a);
  });
});
