import { describe, expect, it } from "vitest";
import * as ast from "../../src/core/cue/ast.js";
import { printExpr, printFile } from "../../src/core/cue/print.js";
import { isIdentifier, quoteLabel, quoteString } from "../../src/core/cue/quote.js";

describe("quoting", () => {
  it.each([
    ["plain", '"plain"'],
    ['say "hi"', '"say \\"hi\\""'],
    ["back\\slash", '"back\\\\slash"'],
    ["line\nbreak\ttab", '"line\\nbreak\\ttab"'],
    ["\u0001", '"\\u0001"'],
    ["ünïcödé", '"ünïcödé"'],
  ])("quoteString(%j) = %s", (input, want) => {
    expect(quoteString(input)).toBe(want);
  });

  it.each([
    ["name", "name"],
    ["#Def", "#Def"],
    ["_hidden", "_hidden"],
    ["app.kubernetes.io/name", '"app.kubernetes.io/name"'],
    ["with-dash", '"with-dash"'],
    ["1abc", '"1abc"'],
    ["if", '"if"'],
    ["for", '"for"'],
  ])("quoteLabel(%j) = %s", (input, want) => {
    expect(quoteLabel(input)).toBe(want);
    expect(isIdentifier(input)).toBe(want === input);
  });
});

describe("printExpr", () => {
  const cases: [string, ast.Expr, string][] = [
    ["int literal", ast.lit(3), "3"],
    ["float literal", ast.float(1.5), "1.5"],
    ["whole float keeps its point", ast.float(2), "2.0"],
    ["null", ast.lit(null), "null"],
    ["bool", ast.lit(true), "true"],
    ["default disjunction", ast.or(ast.and(ast.ident("int"), ast.unary(">=", ast.lit(1))), ast.unary("*", ast.lit(2))), "int & >=1 | *2"],
    ["parenthesised lower precedence", ast.and(ast.or(ast.lit(1), ast.lit(2)), ast.ident("int")), "(1 | 2) & int"],
    ["selector chain quotes labels", ast.sel(ast.ident("#config"), "db", "my-host"), '#config.db."my-host"'],
    ["interpolation", ast.interp(["a-", ast.sel(ast.ident("#config"), "x"), '"q"']), '"a-\\(#config.x)\\"q\\""'],
    ["empty struct", ast.struct([]), "{}"],
    ["empty list", ast.list([]), "[]"],
    ["open list", ast.list([], ast.ident("string")), "[...string]"],
    ["short list on one line", ast.list([ast.lit(1), ast.lit("a")]), '[1, "a"]'],
    ["call", ast.call(ast.sel(ast.ident("strings"), "MaxRunes"), ast.lit(63)), "strings.MaxRunes(63)"],
  ];
  it.each(cases)("%s", (_name, expr, want) => {
    expect(printExpr(expr)).toBe(want);
  });

  it("prints structs one field per line with tabs, aligned, and collapses single-field chains", () => {
    const e = ast.struct([
      ast.field("a", ast.lit(1)),
      ast.field("long-name", ast.lit(2)),
      ast.field("nested", ast.struct([ast.field("only", ast.struct([ast.field("leaf", ast.lit(true))]))])),
      ast.field("opt", ast.ident("string"), { optional: true, doc: "An optional field." }),
    ]);
    expect(printExpr(e)).toBe(
      ["{", "\ta:           1", '\t"long-name": 2', "\tnested:      only: leaf: true", "\t// An optional field.", "\topt?: string", "}"].join("\n"),
    );
  });

  it("breaks long lists over lines", () => {
    const e = ast.list(Array.from({ length: 12 }, (_, i) => ast.lit(`item-number-${i}`)));
    const out = printExpr(e);
    expect(out.split("\n")).toHaveLength(14);
    expect(out.split("\n")[1]).toBe('\t"item-number-0",');
  });

  it("converts JSON values, keeping key order", () => {
    expect(printExpr(ast.fromJSON({ b: 1, a: [true, null], "x-y": { z: "s" } }))).toBe(
      ["{", "\tb:     1", "\ta:     [true, null]", '\t"x-y": z: "s"', "}"].join("\n"),
    );
    expect(() => ast.fromJSON(Number.NaN)).toThrow(/cannot express NaN/);
  });
});

describe("printFile", () => {
  it("prints doc, package, sorted imports and blank-line separated declarations", () => {
    const f = ast.file(
      "demo",
      [{ path: "strings" }, { path: "opm.dev/catalog/core@v1", alias: "core" }],
      [ast.embed(ast.sel(ast.ident("core"), "#Module")), ast.field("x", ast.lit(1))],
      "A demo file.",
    );
    expect(printFile(f)).toBe(
      ["// A demo file.", "", "package demo", "", "import (", '\tcore "opm.dev/catalog/core@v1"', '\t"strings"', ")", "", "core.#Module", "", "x: 1", ""].join(
        "\n",
      ),
    );
  });

  it("prints a single import on one line", () => {
    expect(printFile(ast.file("p", [{ path: "list" }], []))).toBe('package p\n\nimport "list"\n');
  });
});
