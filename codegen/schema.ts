/**
 * Step 1 of codegen: JSON schema (as exported from the catalog) → what the author
 * writes. Decides which fields are optional, renders TSDoc, converts a schema into a
 * TypeScript type node and into the compact schema embedded for call-time validation.
 */
import ts from "typescript";
import type { JsonSchema } from "../src/program/catalog-index.js";

const f = ts.factory;

/** True when a field has a default (so the author may leave it out). */
function hasDefault(s: JsonSchema): boolean {
  return s.default !== undefined || s["x-opm-derived-default"] === true;
}

/**
 * True when the author may leave the value out: it has a default, or it is a struct with
 * fixed fields none of which the author must set (CUE fills in the defaults).
 */
export function omittable(s: JsonSchema): boolean {
  if (hasDefault(s)) return true;
  if (s.type === "object" && s.properties && !s.oneOf && !s.anyOf) {
    return Object.entries(s.properties).every(([k, p]) => !(s.required ?? []).includes(k) || omittable(p));
  }
  return false;
}

/** The fields of an object schema the author must set. */
export function authorRequired(s: JsonSchema): string[] {
  return Object.entries(s.properties ?? {})
    .filter(([k, p]) => (s.required ?? []).includes(k) && !omittable(p))
    .map(([k]) => k);
}

/** A valid identifier may be a bare property name; anything else is quoted. */
export function propertyName(name: string): ts.PropertyName {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? f.createIdentifier(name) : f.createStringLiteral(name);
}

function literal(v: unknown): ts.TypeNode {
  if (typeof v === "string") return f.createLiteralTypeNode(f.createStringLiteral(v));
  if (typeof v === "number") {
    return v < 0
      ? f.createLiteralTypeNode(f.createPrefixUnaryExpression(ts.SyntaxKind.MinusToken, f.createNumericLiteral(-v)))
      : f.createLiteralTypeNode(f.createNumericLiteral(v));
  }
  if (typeof v === "boolean") return f.createLiteralTypeNode(v ? f.createTrue() : f.createFalse());
  if (v === null) return f.createLiteralTypeNode(f.createNull());
  return f.createKeywordTypeNode(ts.SyntaxKind.UnknownKeyword);
}

function keyword(k: ts.KeywordTypeSyntaxKind): ts.TypeNode {
  return f.createKeywordTypeNode(k);
}

/** Escapes text for a `/** ... *\/` comment. */
function commentText(text: string): string {
  return text.replace(/\*\//g, "*\\/");
}

/**
 * A catalog doc comment as TSDoc: `#KeyRef names one key` → `KeyRef names one key` (the
 * CUE convention starts a definition's comment with its name).
 */
export function docDescription(text: string): string {
  return text.replace(/^#(?=[A-Za-z_])/, "");
}

/** TSDoc lines for a field: description, default, bounds, pattern. */
export function fieldDocLines(s: JsonSchema): string[] {
  const lines: string[] = [];
  if (s.description) lines.push(...docDescription(s.description).split("\n"));
  const bounds: string[] = [];
  if (s.minimum !== undefined) bounds.push(`>= ${s.minimum}`);
  if (typeof s.exclusiveMinimum === "number") bounds.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined) bounds.push(`<= ${s.maximum}`);
  if (typeof s.exclusiveMaximum === "number") bounds.push(`< ${s.exclusiveMaximum}`);
  if (s.minLength !== undefined) bounds.push(`at least ${s.minLength} characters`);
  if (s.maxLength !== undefined) bounds.push(`at most ${s.maxLength} characters`);
  if (s.minItems !== undefined) bounds.push(`at least ${s.minItems} items`);
  if (s.maxItems !== undefined) bounds.push(`at most ${s.maxItems} items`);
  if (bounds.length) lines.push(`Bounds: ${bounds.join(", ")} (checked when the builder is called).`);
  if (s.pattern !== undefined) lines.push(`Pattern: \`${s.pattern}\` (checked when the builder is called).`);
  if (s.default !== undefined) lines.push(`@defaultValue \`${JSON.stringify(s.default)}\``);
  else if (s["x-opm-derived-default"]) lines.push("@defaultValue derived from another field by the catalog");
  return lines;
}

/**
 * Escapes TSDoc's special characters (`< > { } @`) outside code spans, keeping a tag
 * that starts the line (`@defaultValue`).
 */
function tsdocText(line: string): string {
  const tag = /^@[A-Za-z]+\b/.exec(line)?.[0] ?? "";
  return (
    tag +
    line
      .slice(tag.length)
      .split("`")
      .map((part, i) => (i % 2 ? part : part.replace(/[<>{}@]/g, "\\$&")))
      .join("`")
  );
}

/** Attaches a `/** ... *\/` comment with the given lines to a node. */
export function withDoc<T extends ts.Node>(node: T, docLines: readonly string[]): T {
  if (!docLines.length) return node;
  const lines = docLines.map(tsdocText);
  const body =
    lines.length === 1 && !lines[0]!.startsWith("@")
      ? `* ${commentText(lines[0]!)} `
      : `*\n${lines.map((l) => ` * ${commentText(l)}`.trimEnd()).join("\n")}\n `;
  return ts.addSyntheticLeadingComment(node, ts.SyntaxKind.MultiLineCommentTrivia, body, true);
}

/**
 * Names a shared schema: returns the name to refer to when the schema is one that codegen
 * emits once as a named definition (see `codegen/shared.ts`), else undefined (inline it).
 */
export type RefName = (s: JsonSchema) => string | undefined;

const noRefs: RefName = () => undefined;

/** Converts a schema to a TypeScript type node (what the author writes, before `Input<>`). */
export function schemaToType(s: JsonSchema, ref: RefName = noRefs): ts.TypeNode {
  const name = ref(s);
  if (name) return f.createTypeReferenceNode(name);
  const branches = s.oneOf ?? s.anyOf;
  if (branches?.length) {
    const { oneOf: _o, anyOf: _a, ...base } = s;
    return f.createUnionTypeNode(branches.map((b) => schemaToType(mergeBranch(base, b), ref)));
  }
  if (s.enum?.length) return s.enum.length === 1 ? literal(s.enum[0]) : f.createUnionTypeNode(s.enum.map(literal));
  switch (s.type) {
    case "string":
      return keyword(ts.SyntaxKind.StringKeyword);
    case "integer":
    case "number":
      return keyword(ts.SyntaxKind.NumberKeyword);
    case "boolean":
      return keyword(ts.SyntaxKind.BooleanKeyword);
    case "array":
      return f.createArrayTypeNode(s.items && !Array.isArray(s.items) ? parenthesize(schemaToType(s.items, ref)) : keyword(ts.SyntaxKind.UnknownKeyword));
    case "object":
      return objectType(s, ref);
    default:
      return keyword(ts.SyntaxKind.UnknownKeyword);
  }
}

function parenthesize(t: ts.TypeNode): ts.TypeNode {
  return ts.isUnionTypeNode(t) || ts.isFunctionTypeNode(t) ? f.createParenthesizedType(t) : t;
}

/**
 * One branch of a `oneOf` with the fields of the schema around it. The branch keeps the
 * name of the shared schema it came from only while the schema around it adds no fields.
 */
function mergeBranch(base: JsonSchema, b: JsonSchema): JsonSchema {
  const { "x-opm-ref": _m, ...plain } = base;
  const merged: JsonSchema = {
    ...plain,
    ...b,
    ...(plain.properties || b.properties ? { properties: { ...(plain.properties ?? {}), ...(b.properties ?? {}) } } : {}),
    ...(plain.required || b.required ? { required: [...new Set([...(plain.required ?? []), ...(b.required ?? [])])] } : {}),
    type: b.type ?? plain.type,
  };
  if (plain.properties || plain.required) delete merged["x-opm-ref"];
  return merged;
}

function objectType(s: JsonSchema, ref: RefName): ts.TypeNode {
  const members: ts.TypeElement[] = [];
  const required = new Set(authorRequired(s));
  for (const [name, p] of Object.entries(s.properties ?? {})) {
    const sig = f.createPropertySignature(
      undefined,
      propertyName(name),
      required.has(name) ? undefined : f.createToken(ts.SyntaxKind.QuestionToken),
      schemaToType(p, ref),
    );
    members.push(withDoc(sig, fieldDocLines(p)));
  }
  const extra = s.additionalProperties;
  if (!s.properties || Object.keys(s.properties).length === 0) {
    const value = typeof extra === "object" ? schemaToType(extra, ref) : keyword(ts.SyntaxKind.UnknownKeyword);
    const index = f.createIndexSignature(
      undefined,
      [f.createParameterDeclaration(undefined, undefined, "name", undefined, keyword(ts.SyntaxKind.StringKeyword))],
      value,
    );
    members.push(typeof extra === "object" ? withDoc(index, fieldDocLines({ ...extra, description: undefined })) : index);
  }
  return f.createTypeLiteralNode(members);
}

/** A reference to a named embedded schema (printed as its identifier by `jsonToExpression`). */
const SCHEMA_REF = Symbol("schemaRef");

/** The placeholder `embeddedSchema` returns for a shared schema, printed as `name`. */
function schemaRef(name: string): JsonSchema {
  return { [SCHEMA_REF]: name } as JsonSchema;
}

/**
 * The compact schema embedded in generated code for call-time validation. `ref` names the
 * shared schemas to refer to (`ContainerSpecSchema`) instead of inlining them.
 */
export function embeddedSchema(s: JsonSchema, ref: RefName = noRefs): JsonSchema {
  const name = ref(s);
  if (name) return schemaRef(name);
  const out: { -readonly [K in keyof JsonSchema]: JsonSchema[K] } = {};
  const branches = s.oneOf ?? s.anyOf;
  if (s.type) out.type = s.type;
  if (s.enum) out.enum = s.enum;
  for (const k of ["minimum", "maximum", "pattern", "minLength", "maxLength", "minItems", "maxItems"] as const) {
    if (s[k] !== undefined) (out as Record<string, unknown>)[k] = s[k];
  }
  if (typeof s.exclusiveMinimum === "number") out.exclusiveMinimum = s.exclusiveMinimum;
  if (typeof s.exclusiveMaximum === "number") out.exclusiveMaximum = s.exclusiveMaximum;
  if (s.items && !Array.isArray(s.items)) out.items = embeddedSchema(s.items, ref);
  if (s.properties) {
    out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, p]) => [k, embeddedSchema(p, ref)]));
    const req = authorRequired(s);
    if (req.length) out.required = req;
  }
  if (typeof s.additionalProperties === "object") out.additionalProperties = embeddedSchema(s.additionalProperties, ref);
  if (branches) {
    const { oneOf: _o, anyOf: _a, ...base } = s;
    out.oneOf = branches.map((b) => embeddedSchema(mergeBranch(base, b), ref));
  }
  return out;
}

/** A JSON value as an expression (for the embedded schema). */
export function jsonToExpression(v: unknown): ts.Expression {
  if (typeof v === "object" && v !== null && SCHEMA_REF in v) return f.createIdentifier((v as { [SCHEMA_REF]: string })[SCHEMA_REF]);
  if (v === null) return f.createNull();
  if (typeof v === "string") return f.createStringLiteral(v);
  if (typeof v === "number") return v < 0 ? f.createPrefixUnaryExpression(ts.SyntaxKind.MinusToken, f.createNumericLiteral(-v)) : f.createNumericLiteral(v);
  if (typeof v === "boolean") return v ? f.createTrue() : f.createFalse();
  if (Array.isArray(v)) return f.createArrayLiteralExpression(v.map(jsonToExpression), false);
  return f.createObjectLiteralExpression(
    Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => f.createPropertyAssignment(propertyName(k), jsonToExpression(x))),
    true,
  );
}

const printer = ts.createPrinter({ newLine: ts.NewLineKind.LineFeed, removeComments: false });
const scratch = ts.createSourceFile("scratch.ts", "", ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);

/** Prints one node (used by tests and for debugging). */
export function printNode(node: ts.Node): string {
  return printer.printNode(ts.EmitHint.Unspecified, node, scratch);
}
