/**
 * Step 2 of codegen, for policy packages: the generated file of a policy package (parameter
 * types, definitions and builders of its policies, and `BUILTIN_POLICIES`).
 */
import type ts from "typescript";
import type { JsonSchema } from "../src/program/catalog-index.js";
import type { JsonSchema as FieldSchema } from "../src/core/schema.js"; // the one schema type (config fields, parameters, specs)
import { paramsDefinition, type CodegenInput } from "./plan.js";
import { cueAlias, pascalCase } from "./names.js";
import { constDecl, exportMod, f, printStatements, typeRef } from "./print.js";
import { authorRequired, docDescription, jsonToExpression, omittable, schemaToType, withDoc } from "./schema.js";

/** A parameter schema as the `FieldSchema` `usePolicy` checks against (closed objects). */
function paramsFieldSchema(s: JsonSchema): FieldSchema {
  const out: Record<string, unknown> = { type: s.type ?? "object" };
  if (s.default !== undefined) out.default = s.default;
  for (const k of ["minimum", "maximum", "pattern", "minLength", "maxLength", "enum", "minItems", "maxItems"] as const) if (s[k] !== undefined) out[k] = s[k];
  if (s.items && !Array.isArray(s.items)) out.items = paramsFieldSchema(s.items);
  if (s.type === "object" || s.properties) {
    out.properties = Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, p]) => [k, paramsFieldSchema(p)]));
    const req = authorRequired(s);
    if (req.length) out.required = req;
    out.additionalProperties = typeof s.additionalProperties === "object" ? paramsFieldSchema(s.additionalProperties) : false;
  }
  return out as unknown as FieldSchema;
}

/** `NoLatestTag` → `noLatestTag` (the key in `BUILTIN_POLICIES`). */
function camelCase(name: string): string {
  return name[0]!.toLowerCase() + name.slice(1);
}

/**
 * The generated file of a policy package: per policy, its parameter type (from `#XParams`),
 * its definition (FQN, CUE definition, parameter schema, description, all from the catalog)
 * and a builder `X(params?, options?)`; and `BUILTIN_POLICIES`, every definition by name.
 * A policy whose `#params` has fields but no `#XParams` declaration is an error.
 */
export function emitPolicies(importPath: string, input: CodegenInput): string | undefined {
  const mine = input.index.policies.filter((e) => e.package === importPath);
  if (!mine.length) return undefined;
  const named = mine.map((e) => ({ e, name: pascalCase(e.definition.replace(/^#/, "").replace(/Policy$/, "")) })).sort((a, b) => a.name.localeCompare(b.name));
  const statements: ts.Statement[] = [];
  const table: ts.PropertyAssignment[] = [];
  for (const { e, name } of named) {
    const declared = (e.params as string[] | undefined) ?? [];
    const schema: JsonSchema = input.params(e) ?? { type: "object", properties: {} };
    const fields = Object.keys(schema.properties ?? {});
    if (declared.join() !== fields.join()) {
      throw new Error(
        `policy ${e.fqn}: its #params has ${declared.length ? declared.join(", ") : "no fields"} but ${paramsDefinition(e.definition)} ${input.params(e) ? `has ${fields.join(", ") || "no fields"}` : "is not declared"}; declare the parameters as ${paramsDefinition(e.definition)} and set #params: ${paramsDefinition(e.definition)}`,
      );
    }
    const defName = `${name}Policy`;
    const paramsName = `${name}Params`;
    const { description: paramsDescription, ...rest } = schema;
    if (fields.length) {
      statements.push(
        withDoc(f.createTypeAliasDeclaration(exportMod, paramsName, undefined, schemaToType(rest)), [
          paramsDescription ? docDescription(paramsDescription) : `The parameters of policy ${name}.`,
          "",
          `CUE \`${paramsDefinition(e.definition)}\` in \`${e.package}\`.`,
        ]),
      );
    }
    const def = f.createObjectLiteralExpression(
      [
        f.createPropertyAssignment("fqn", f.createStringLiteral(e.fqn)),
        f.createPropertyAssignment("cue", jsonToExpression({ importPath: e.package, alias: cueAlias(e.package), def: e.definition })),
        f.createPropertyAssignment("params", jsonToExpression(paramsFieldSchema(schema))),
        f.createPropertyAssignment("description", f.createStringLiteral(e.description)),
      ],
      true,
    );
    statements.push(constDecl(defName, typeRef("PolicyDefinition"), def));
    table.push(f.createPropertyAssignment(camelCase(name), f.createIdentifier(defName)));
    const optionsParam = f.createParameterDeclaration(
      undefined,
      undefined,
      "options",
      undefined,
      typeRef("PolicyOptions"),
      f.createObjectLiteralExpression([]),
    );
    const params = fields.length
      ? [
          f.createParameterDeclaration(
            undefined,
            undefined,
            "params",
            undefined,
            typeRef(paramsName),
            omittable(schema) ? f.createObjectLiteralExpression([]) : undefined,
          ),
          optionsParam,
        ]
      : [optionsParam];
    const call = f.createCallExpression(f.createIdentifier("usePolicy"), undefined, [
      f.createIdentifier(defName),
      fields.length ? f.createIdentifier("params") : f.createObjectLiteralExpression([]),
      f.createIdentifier("options"),
      f.createCallExpression(f.createIdentifier("callSite"), undefined, []),
    ]);
    const fn = f.createFunctionDeclaration(
      exportMod,
      undefined,
      name,
      undefined,
      params,
      typeRef("PolicyUse"),
      f.createBlock([f.createReturnStatement(call)], true),
    );
    statements.push(
      withDoc(fn, [
        e.description,
        "",
        ...(fields.length ? [`@param params - the policy's parameters${omittable(schema) ? " (may be left out: every parameter has a default)" : ""}`] : []),
        "@param options - the severity of every rule (`onViolation`) and the components it applies to (`selector`)",
        "",
        `Policy \`${e.fqn}\` (CUE \`${e.definition}\` in \`${e.package}\`).`,
      ]),
    );
  }
  statements.push(
    withDoc(constDecl("BUILTIN_POLICIES", undefined, f.createAsExpression(f.createObjectLiteralExpression(table, true), typeRef("const")), true), [
      `The policy definitions of \`${importPath}\`, by name (for \`usePolicy\`).`,
    ]),
  );
  const imports = [
    f.createImportDeclaration(
      undefined,
      f.createImportClause(
        false,
        undefined,
        f.createNamedImports(
          ["PolicyDefinition", "PolicyOptions", "PolicyUse", "usePolicy"].map((id) =>
            f.createImportSpecifier(id !== "usePolicy", undefined, f.createIdentifier(id)),
          ),
        ),
      ),
      f.createStringLiteral("../policy.js"),
    ),
    f.createImportDeclaration(
      undefined,
      f.createImportClause(false, undefined, f.createNamedImports([f.createImportSpecifier(false, undefined, f.createIdentifier("callSite"))])),
      f.createStringLiteral("../source.js"),
    ),
  ];
  return printStatements([...imports, ...statements], `Typed builders for the policies of the CUE package ${importPath}.`);
}
