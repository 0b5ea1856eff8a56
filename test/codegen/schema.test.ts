import { describe, expect, it } from "vitest";
import ts from "typescript";
import { embeddedSchema, fieldDocLines, jsonToExpression, omittable, printNode, schemaToType, withDoc } from "../../codegen/schema.js";
import { builderNames, cueAlias, fileBase, pascalCase } from "../../codegen/names.js";
import { baseName, sameShape, SharedSchemas, structured } from "../../codegen/shared.js";
import { emitPolicies } from "../../codegen/emit-policies.js";
import type { CodegenInput } from "../../codegen/plan.js";
import { markDerivedDefaults, splitDecls, widenPatternKeys, type CatalogEntry, type JsonSchema } from "../../src/program/catalog-index.js";

describe("schema → TypeScript type", () => {
  const cases: [string, JsonSchema, string][] = [
    ["string", { type: "string" }, "string"],
    ["integer", { type: "integer", minimum: 1 }, "number"],
    ["boolean", { type: "boolean" }, "boolean"],
    ["enum", { type: "string", enum: ["A", "B"] }, '"A" | "B"'],
    ["single enum", { type: "string", enum: ["only"] }, '"only"'],
    ["array of enums", { type: "array", items: { type: "string", enum: ["x", "y"] } }, '("x" | "y")[]'],
    ["map", { type: "object", additionalProperties: { type: "integer" } }, "{\n    [name: string]: number;\n}"],
    ["open struct", { type: "object" }, "{\n    [name: string]: unknown;\n}"],
    ["top", {}, "unknown"],
    [
      "required and default",
      { type: "object", required: ["a", "b"], properties: { a: { type: "string" }, b: { type: "integer", default: 1 } } },
      "{\n    a: string;\n    /**\n     * @defaultValue `1`\n     */\n    b?: number;\n}",
    ],
    ["not required", { type: "object", properties: { "x-y": { type: "string" } } }, '{\n    "x-y"?: string;\n}'],
    [
      "oneOf",
      {
        type: "object",
        oneOf: [
          { required: ["a"], properties: { a: { type: "string" } } },
          { required: ["b"], properties: { b: { type: "integer" } } },
        ],
      },
      "{\n    a: string;\n} | {\n    b: number;\n}",
    ],
  ];
  it.each(cases)("%s", (_name, schema, want) => {
    expect(printNode(schemaToType(schema))).toBe(want);
  });
});

describe("optionality", () => {
  it.each<[string, JsonSchema, boolean]>([
    ["plain", { type: "string" }, false],
    ["default", { type: "string", default: "x" }, true],
    ["derived default", { type: "integer", "x-opm-derived-default": true }, true],
    ["struct of defaults", { type: "object", required: ["a"], properties: { a: { type: "integer", default: 1 } } }, true],
    ["struct with a required field", { type: "object", required: ["a"], properties: { a: { type: "integer" } } }, false],
    ["map", { type: "object", additionalProperties: { type: "string" } }, false],
  ])("%s", (_n, s, want) => expect(omittable(s)).toBe(want));
});

describe("TSDoc", () => {
  it("renders description, bounds, pattern and default", () => {
    expect(fieldDocLines({ description: "Number of replicas.", type: "integer", minimum: 0, maximum: 10, default: 1 })).toEqual([
      "Number of replicas.",
      "Bounds: >= 0, <= 10 (checked when the builder is called).",
      "@defaultValue `1`",
    ]);
    expect(fieldDocLines({ type: "string", pattern: "^a*/b$" })).toEqual(["Pattern: `^a*/b$` (checked when the builder is called)."]);
  });
  it("escapes comment terminators", () => {
    const node = withDoc(ts.factory.createTypeAliasDeclaration(undefined, "T", undefined, ts.factory.createKeywordTypeNode(ts.SyntaxKind.StringKeyword)), [
      "matches a*/b",
    ]);
    expect(printNode(node)).toBe("/** matches a*\\/b */\ntype T = string;");
  });
});

describe("embedded schema", () => {
  it("keeps validation keywords and lists only the fields an author must set", () => {
    expect(
      embeddedSchema({
        type: "object",
        description: "d",
        required: ["a", "b"],
        properties: { a: { type: "string", pattern: "^x" }, b: { type: "integer", default: 1, maximum: 3 } },
      }),
    ).toEqual({
      type: "object",
      properties: { a: { type: "string", pattern: "^x" }, b: { type: "integer", maximum: 3 } },
      required: ["a"],
    });
  });
});

describe("names", () => {
  it.each([
    ["container", "Container"],
    ["stateless-workload", "StatelessWorkload"],
    ["http-route", "HttpRoute"],
    ["env_from", "EnvFrom"],
    ["3scale", "_3scale"],
  ])("pascalCase(%s) = %s", (a, b) => expect(pascalCase(a)).toBe(b));
  it("file and alias names", () => {
    expect(fileBase("opm.dev/catalog/traits@v1")).toBe("traits");
    expect(fileBase("opm.dev/catalog/providers/kubernetes@v1")).toBe("providers-kubernetes");
    expect(fileBase("example.com/widgets/traits@v1")).toBe("widgets-traits");
    expect(fileBase("fixture.test/traits@v1")).toBe("traits");
    expect(cueAlias("opm.dev/catalog/providers/kubernetes@v1")).toBe("kubernetes");
  });
  it("disambiguates names shared by two kinds", () => {
    const e = (kind: CatalogEntry["kind"], name: string) => ({ kind, name, fqn: `x/${kind}/${name}@v1` }) as CatalogEntry;
    const names = builderNames([e("resource", "role"), e("trait", "role"), e("trait", "scaling")]);
    expect([...names.values()]).toEqual(["RoleResource", "RoleTrait", "Scaling"]);
  });
});

describe("catalog source preparation for the OpenAPI export", () => {
  it("widens pattern keys", () => {
    expect(widenPatternKeys("ports?: [Name=#PortName]: {")).toBe("ports?: [Name=string]: {");
    expect(widenPatternKeys("x: [string]: int")).toBe("x: [string]: int");
    expect(widenPatternKeys("l: [...string]")).toBe("l: [...string]");
  });
  it("marks defaults taken from another field", () => {
    expect(markDerivedDefaults("exposedPort: int & >=1 | *targetPort")).toBe('exposedPort: int & >=1 | *"__opm_derived_default__"');
    expect(markDerivedDefaults("b: bool | *false")).toBe("b: bool | *false");
    expect(markDerivedDefaults('t: *"TCP" | "UDP"')).toBe('t: *"TCP" | "UDP"');
  });
  it("splits top-level declarations with their comments", () => {
    const decls = splitDecls("// A is a.\n#A: {\n\tx: int\n}\n\n// B.\n#B: string\n");
    expect(decls.map((d) => d.name)).toEqual(["#A", "#B"]);
    expect(decls[0]!.text).toBe("// A is a.\n#A: {\n\tx: int\n}");
  });
});

describe("shared schemas", () => {
  const probe: JsonSchema = { description: "#Probe checks.", type: "object", required: ["port"], properties: { port: { type: "integer" } } };
  const P = "pkg_opm_dev_catalog_traits_v1.Probe";
  const shared = (schemas: Record<string, JsonSchema>) =>
    new SharedSchemas((ref) =>
      schemas[ref] ? { importPath: ref.includes("core") ? "opm.dev/catalog/core@v1" : "opm.dev/catalog/traits@v1", schema: schemas[ref]! } : undefined,
    );

  it.each<[string, JsonSchema, boolean]>([
    ["object with fields", probe, true],
    ["map", { type: "object", additionalProperties: { type: "string" } }, true],
    ["union of objects", { oneOf: [{ type: "object", properties: { a: {} } }, { type: "string" }] }, true],
    ["scalar with a pattern", { type: "string", pattern: "^x$" }, false],
    ["open struct", { type: "object" }, false],
  ])("structured: %s", (_n, s, want) => expect(structured(s)).toBe(want));

  it("a site is the shared schema while it adds nothing but a description or a default", () => {
    expect(sameShape({ ...probe, description: "other", default: {}, "x-opm-ref": P }, probe)).toBe(true);
    expect(sameShape({ ...probe, maxProperties: 1 } as JsonSchema, probe)).toBe(false);
    expect(sameShape({ ...probe, required: [] }, probe)).toBe(false);
  });

  it("names a reference once it is structured and unchanged, and inlines it otherwise", () => {
    const sh = shared({ [P]: probe });
    const ref = sh.refName();
    const { description: _d, ...undocumented } = probe;
    const spec: JsonSchema = {
      type: "object",
      properties: { liveness: { ...undocumented, "x-opm-ref": P }, changed: { ...undocumented, required: [], "x-opm-ref": P }, plain: undocumented },
    };
    expect(printNode(schemaToType(spec, ref))).toBe(
      ["{", "    liveness?: Probe;", "    changed?: {", "        port?: number;", "    };", "    plain?: {", "        port: number;", "    };", "}"].join("\n"),
    );
    expect(printNode(jsonToExpression(embeddedSchema({ ...probe, "x-opm-ref": P }, ref)))).toBe("Probe");
    expect(sh.all().map((s) => s.name)).toEqual(["Probe"]);
  });

  it("gives a clashing name the owning package as a prefix", () => {
    const core = "pkg_opm_dev_catalog_core_v1.Probe";
    const sh = shared({ [P]: probe, [core]: { ...probe, description: "core" } });
    sh.find({ ...probe, "x-opm-ref": P });
    sh.find({ ...probe, "x-opm-ref": core });
    sh.freeze(new Set(), new Map(), fileBase);
    expect(sh.all().map((s) => s.name)).toEqual(["CoreProbe", "TraitsProbe"]);
    const one = shared({ [P]: probe });
    one.find({ ...probe, "x-opm-ref": P });
    one.freeze(new Set(["Probe"]), new Map(), fileBase);
    expect(one.all()[0]!.name).toBe("TraitsProbe");
  });

  it("names nested paths", () => {
    expect(baseName("pkg_opm_dev_catalog_resources_v1.ContainerSpec")).toBe("ContainerSpec");
    expect(baseName("pkg_x.Foo.bar")).toBe("FooBar");
  });
});

describe("policy parameters", () => {
  const input = (params: string[], schema?: JsonSchema): CodegenInput => ({
    index: {
      resources: [],
      traits: [],
      blueprints: [],
      transformers: [],
      policies: [{ kind: "policy", fqn: "x/policies/foo@v1", name: "foo", description: "Foo.", package: "x/policies@v1", definition: "#FooPolicy", params }],
    },
    spec: () => undefined,
    params: () => schema,
    shared: new SharedSchemas(() => undefined),
  });

  it("a policy whose #params has fields but no #XParams is an error naming both", () => {
    expect(() => emitPolicies("x/policies@v1", input(["limit"]))).toThrow(
      "policy x/policies/foo@v1: its #params has limit but #FooParams is not declared; declare the parameters as #FooParams and set #params: #FooParams",
    );
    expect(() => emitPolicies("x/policies@v1", input(["limit"], { type: "object", properties: { max: { type: "integer" } } }))).toThrow(
      "but #FooParams has max",
    );
  });

  it("builds the parameter type, the closed parameter schema and the builder", () => {
    const text = emitPolicies(
      "x/policies@v1",
      input(["limit"], { type: "object", required: ["limit"], properties: { limit: { type: "integer", minimum: 1, default: 2 } } }),
    )!;
    expect(text).toContain("export type FooParams = {");
    expect(text).toContain("export function Foo(params: FooParams = {}, options: PolicyOptions = {}): PolicyUse {");
    expect(text).toMatch(
      /params: \{\n\s+type: "object",\n\s+properties: \{\n\s+limit: \{\n\s+type: "integer",\n\s+default: 2,\n\s+minimum: 1\n\s+\}\n\s+\},\n\s+additionalProperties: false/,
    );
    expect(text).toContain("foo: FooPolicy");
  });
});
