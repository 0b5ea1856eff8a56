import { describe, expect, it } from "vitest";
import { printExpr } from "../../src/core/cue/print.js";
import { checkShape, config, refsFor, shapeDefaultIssues } from "../../dsl/config.js";
import { isRef, toExpr } from "../../dsl/refs.js";

describe("config fields compile to CUE", () => {
  it.each([
    ["string", config.string(), "string"],
    ["string default", config.string().default("nginx"), 'string | *"nginx"'],
    ["regex", config.string().regex(/^a+$/), 'string & =~#"^a+$"#'],
    ["int bounds default", config.int().min(1).max(20).default(2), "int & >=1 & <=20 | *2"],
    ["number", config.number().min(0.5), "number & >=0.5"],
    ["bool default", config.bool().default(false), "bool | *false"],
    ["enum default", config.enum(["a", "b"]).default("b"), '"a" | *"b"'],
    ["list", config.list(config.int()).default([1]), "[...int] | *[1]"],
    ["list bounds", config.list(config.string()).minItems(1), "[...string] & list.MinItems(1)"],
    ["map", config.map(config.string()), "{\n\t[string]: string\n}"],
    ["object", config.object({ a: config.int().default(1) }), "{\n\ta: int | *1\n}"],
    ["maxLength", config.string().maxLength(5), "string & strings.MaxRunes(5)"],
  ])("%s", (_n, field, want) => {
    expect(printExpr(field.toCue())).toBe(want);
  });

  it("reports an invalid default with the field's path (when the shape is compiled)", () => {
    const shape = { a: config.int().min(1).default(0), b: config.enum(["a"]).default("z" as "a"), c: config.object({ d: config.int().default(1).max(0) }) };
    const issues = shapeDefaultIssues(shape, "config");
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ["config.a", "invalid default: 0 is less than the minimum 1"],
      ["config.b", expect.stringMatching(/^invalid default: .*not one of "a"/)],
      ["config.c.d", "invalid default: 1 is greater than the maximum 0"],
    ]);
  });
});

describe("checking values", () => {
  const shape = {
    image: config.string(),
    replicas: config.int().min(1).max(10).default(2),
    size: config.enum(["s", "m"]).default("s"),
    host: config.dnsLabel().default("db"),
    mem: config.quantity().default("1Gi"),
    db: config.object({ port: config.int().default(5432), user: config.string() }),
    tags: config.list(config.string()).maxItems(2).default([]),
    labels: config.map(config.string()).default({}),
  };

  it("accepts good values", () => {
    expect(checkShape(shape, { image: "x", db: { user: "u" } })).toEqual([]);
  });

  it("reports every problem at once, with path, message and constraint", () => {
    const issues = checkShape(shape, {
      replicas: -1,
      size: "xl",
      host: "Not_A_Label",
      mem: "lots",
      db: { port: "5432", extra: 1 },
      tags: ["a", 2, "c"],
      labels: { a: 1 },
      imagee: "typo",
    });
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
    expect(byPath["values.replicas"]).toMatchObject({ code: "out_of_range", constraint: ">=1", message: "-1 is less than the minimum 1" });
    expect(byPath["values.size"]).toMatchObject({ code: "enum", message: '"xl" is not one of "s" | "m"' });
    expect(byPath["values.host"]).toMatchObject({ code: "pattern", message: expect.stringContaining("a DNS label") });
    expect(byPath["values.mem"]).toMatchObject({ code: "pattern", message: expect.stringContaining("a Kubernetes quantity") });
    expect(byPath["values.db.port"]).toMatchObject({ code: "invalid_type", message: 'expected int, got "5432"' });
    expect(byPath["values.db.extra"]).toMatchObject({ code: "unknown_field" });
    expect(byPath["values.db.user"]).toMatchObject({ code: "required" });
    expect(byPath["values.tags"]).toMatchObject({ code: "out_of_range", constraint: "list.MaxItems(2)" });
    expect(byPath["values.tags.1"]).toMatchObject({ code: "invalid_type" });
    expect(byPath["values.labels.a"]).toMatchObject({ code: "invalid_type" });
    expect(byPath["values.imagee"]).toMatchObject({ code: "unknown_field", message: expect.stringContaining('did you mean "image"') });
    expect(byPath["values.image"]).toMatchObject({ code: "required" });
    expect(issues).toHaveLength(12);
  });
});

describe("typed references", () => {
  const refs = refsFor({ image: config.string(), db: config.object({ host: config.string() }) });
  it("compile to #config paths, nested objects included", () => {
    expect(isRef(refs.image)).toBe(true);
    expect(printExpr(toExpr(refs.image))).toBe("#config.image");
    expect(printExpr(toExpr(refs.db.host))).toBe("#config.db.host");
  });
  it("become CUE interpolation inside template strings", () => {
    expect(printExpr(toExpr(`${refs.image}:latest`))).toBe('"\\(#config.image):latest"');
    expect(printExpr(toExpr({ url: `postgres://${refs.db.host}/app` }))).toBe('{\n\turl: "postgres://\\(#config.db.host)/app"\n}');
  });
  it("refuse arithmetic and JSON with a clear message", () => {
    expect(() => (refs.image as unknown as number) * 2).toThrow(/config\.image: cfg\.image is a reference that a release fills in later/);
    expect(() => JSON.stringify({ x: refs.image })).toThrow(/symbolic and has no JSON value/);
  });
});
