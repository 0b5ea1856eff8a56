import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { checkLayers, importGraph, importsOf, type Edge } from "./support/layers.js";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

describe("layers", () => {
  test("no import goes up the stack or across into a sibling it should not use", () => {
    const edges = importGraph(root);
    // The graph is real: the entry barrel re-exports the authoring surface, render uses the engine.
    expect(edges.some((e) => e.from === "src/index.ts" && e.to.startsWith("dsl/"))).toBe(true);
    expect(edges.some((e) => e.from.startsWith("src/render/") && e.to.startsWith("src/engine/"))).toBe(true);
    expect(checkLayers(edges).map((v) => v.message)).toEqual([]);
  });

  test("the rules catch each kind of violation (a synthetic graph)", () => {
    const edges: Edge[] = [
      { from: "src/core/errors.ts", to: "dsl/module.js", line: 1 }, // core imports nothing of ours
      { from: "dsl/module.ts", to: "src/render/render.js", line: 2 }, // dsl only builds on core
      { from: "src/engine/engine.ts", to: "dsl/errors.js", line: 3 }, // the engine does not use dsl
      { from: "src/render/render.ts", to: "src/apply/apply.js", line: 4 }, // up the stack
      { from: "src/testing/index.ts", to: "src/cli/main.js", line: 5 }, // across into a sibling
      { from: "src/render/render.ts", to: "@kubernetes/client-node", line: 6 }, // only apply talks to Kubernetes
      { from: "dsl/define.ts", to: "codegen/emit.js", line: 7 }, // nothing in src/ or dsl/ imports codegen/
      { from: "src/index.ts", to: "src/apply/index.js", line: 8 }, // the root entry must not load the apply layer
      // allowed
      { from: "src/cli/main.ts", to: "src/apply/index.js", line: 9 },
      { from: "src/apply/client.ts", to: "@kubernetes/client-node", line: 10 },
      { from: "src/program/match.ts", to: "dsl/module.js", line: 11 },
      { from: "dsl/config.ts", to: "src/core/cue/ast.js", line: 12 },
      { from: "src/render/serialize.ts", to: "yaml", line: 13 },
    ];
    const lines = checkLayers(edges).map((v) => v.line);
    expect(lines).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const msg = checkLayers([edges[3]!])[0]!.message;
    expect(msg).toBe("src/render/render.ts:4: render imports src/apply/apply.js (apply), a layer above it; render may use core, dsl, engine, program");
  });

  test("reads every form of import", () => {
    const text = [
      'import { a } from "./a.js";',
      'import type { B } from "../b.js";',
      'export * from "./c.js";',
      'export { d } from "./d.js";',
      'import "./e.js";',
      'const f = await import("./f.js");',
      "import {\n  g,\n  h,\n} from './g.js';",
    ].join("\n");
    expect(importsOf(text)).toEqual([
      { spec: "./a.js", line: 1 },
      { spec: "../b.js", line: 2 },
      { spec: "./c.js", line: 3 },
      { spec: "./d.js", line: 4 },
      { spec: "./e.js", line: 5 },
      { spec: "./f.js", line: 6 },
      { spec: "./g.js", line: 10 },
    ]);
  });
});
