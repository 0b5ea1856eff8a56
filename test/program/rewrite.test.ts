import { describe, expect, it } from "vitest";
import { rewriteImports } from "../../src/program/rewrite.js";
import { topLevelFieldText } from "../../src/program/config-schema.js";

describe("rewriteImports", () => {
  const aliases = new Map([["core", "_pkg_core"]]);
  it("rewrites references and leaves labels, selectors, comments and strings alone", () => {
    const body = [
      "// core.#Module in a comment",
      "core.#Module & {",
      '\tcore: "core.#Label in a string"',
      "\tx: y.core",
      '\tname: "\\(core.#Name)-x"',
      "\tlist: [...core.#T]",
      "\tcore?: int",
      "\t#module: core",
      '\traw: #"core \\(core.#X)"#',
      "}",
    ].join("\n");
    expect(rewriteImports(body, aliases)).toBe(
      [
        "// core.#Module in a comment",
        "_pkg_core.#Module & {",
        '\tcore: "core.#Label in a string"',
        "\tx: y.core",
        '\tname: "\\(_pkg_core.#Name)-x"',
        "\tlist: [..._pkg_core.#T]",
        "\tcore?: int",
        "\t#module: _pkg_core",
        '\traw: #"core \\(core.#X)"#',
        "}",
      ].join("\n"),
    );
  });
  it("leaves text it cannot read as it is", () => {
    expect(rewriteImports('x: core.#A & "open', aliases)).toBe('x: core.#A & "open');
  });
});

describe("topLevelFieldText", () => {
  it("finds a top-level field's value, not a nested one", () => {
    const body = 'a: {\n\t#config: "nested"\n}\n#config: {\n\tx: int // c\n}\nb: 1\n';
    expect(topLevelFieldText(body, "#config")).toBe("{\n\tx: int // c\n}");
    expect(topLevelFieldText(body, "#missing")).toBeUndefined();
  });
});
