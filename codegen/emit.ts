/**
 * Step 2 of codegen: one TypeScript source file per catalog package, built with the
 * TypeScript compiler API (`ts.factory`) and printed with `ts.createPrinter`. What to emit is
 * decided in plan.ts; policy packages are emitted by emit-policies.ts.
 */
import ts from "typescript";
import type { CatalogEntry, JsonSchema } from "../src/program/catalog-index.js";
import { cueAlias, fileBase } from "./names.js";
import { emitPolicies } from "./emit-policies.js";
import { definitions, fqnTableName, generatedPackages, planShared, type CodegenInput } from "./plan.js";
import { constDecl, exportMod, f, printStatements, strType, typeRef, unionOf } from "./print.js";
import { authorRequired, docDescription, embeddedSchema, jsonToExpression, omittable, propertyName, schemaToType, withDoc, type RefName } from "./schema.js";
import { unmarked, type SharedSchema, type SharedSchemas } from "./shared.js";

/** `export interface XSpec {...}` for an object literal type, else `export type XSpec = ...`. */
function specDeclaration(name: string, type: ts.TypeNode, doc: string[]): ts.Statement {
  const decl = ts.isTypeLiteralNode(type)
    ? f.createInterfaceDeclaration(exportMod, name, undefined, undefined, type.members)
    : f.createTypeAliasDeclaration(exportMod, name, undefined, type);
  return withDoc(decl, doc);
}

function cueRefExpr(e: CatalogEntry): ts.Expression {
  return jsonToExpression({ importPath: e.package, alias: cueAlias(e.package), def: e.mixin });
}

function docFor(e: CatalogEntry, extra: string[]): string[] {
  const kind = { resource: "Resource", trait: "Trait", blueprint: "Blueprint", transformer: "Transformer", policy: "Policy" }[e.kind];
  return [
    ...(e.description ? [e.description, ""] : []),
    ...extra.map((l) => l.replace(/^/, "")),
    "",
    `${kind} \`${e.fqn}\` (CUE \`${e.mixin ?? e.definition}\` in \`${e.package}\`).`,
  ];
}

interface Emitted {
  statements: ts.Statement[];
  /** Type imports from other generated files: file base → names. */
  imports: Map<string, Set<string>>;
  /** Shared embedded schemas used (imported from `schemas.ts`). */
  schemas: Set<string>;
  runtime: Set<string>;
  fqns: [string, string][];
  /** Names shared schemas in types (importing those of other files). */
  typeRef: RefName;
  /** Names shared schemas in embedded schemas (importing them from `schemas.ts`). */
  schemaRef: RefName;
}

/** The `Emitted` of a generated file, with `RefName`s that note the imports they need. */
function emitted(importPath: string, shared: SharedSchemas): Emitted {
  const out: Emitted = {
    statements: [],
    imports: new Map(),
    schemas: new Set(),
    runtime: new Set(),
    fqns: [],
    typeRef: shared.refName((sh) => {
      const file = fileBase(sh.importPath);
      if (file !== fileBase(importPath)) out.imports.set(file, new Set([...(out.imports.get(file) ?? []), sh.name]));
      return sh.name;
    }),
    schemaRef: embeddedRef(shared, (sh) => out.schemas.add(schemaConstName(sh))),
  };
  return out;
}

/** Names the shared schemas emitted in `schemas.ts` (the others are inlined). */
function embeddedRef(shared: SharedSchemas, use: (sh: SharedSchema) => void): RefName {
  return (s) => {
    const sh = shared.find(s);
    if (!sh || !shared.embedded.has(sh.ref)) return undefined;
    use(sh);
    return schemaConstName(sh);
  };
}

/** `ContainerSpec` → `ContainerSpecSchema` (in `schemas.ts`). */
function schemaConstName(sh: SharedSchema): string {
  return `${sh.name}Schema`;
}

/** `pkg_x.ContainerSpec` → `#ContainerSpec`; `pkg_x.Foo.bar` → `#Foo.bar`. */
function cueName(sh: SharedSchema): string {
  return "#" + sh.ref.split(".").slice(1).join(".");
}

/** The type declaration of a shared schema (in the file of the package that declares it). */
function sharedDeclaration(sh: SharedSchema, out: Emitted): ts.Statement {
  const { description, ...rest } = sh.schema;
  const doc = [...(description ? [docDescription(description), ""] : []), `Shared schema: CUE \`${cueName(sh)}\` in \`${sh.importPath}\`.`];
  return specDeclaration(sh.name, schemaToType(rest, out.typeRef), doc);
}

function emitResourceOrTrait(e: CatalogEntry, name: string, schema: JsonSchema, shared: SharedSchemas, out: Emitted): void {
  const specName = `${name}Spec`;
  const defName = `${name}Definition`;
  const isTrait = e.kind === "trait";
  const appliesTo = e.appliesTo ?? [];
  const { description: specDescription, ...rest } = schema;
  // The spec is a shared schema of the same name: declare it here, as the spec.
  const own = shared.find(schema);
  const declared = own && own.name === specName && own.importPath === e.package ? unmarked(rest) : rest;
  out.statements.push(
    specDeclaration(specName, schemaToType(declared, out.typeRef), [
      `The spec of ${e.kind} ${name} (\`spec.${e.specKey}\`).`,
      ...(specDescription ? ["", docDescription(specDescription)] : []),
      "",
      `FQN \`${e.fqn}\`.`,
    ]),
  );
  const defType = isTrait ? typeRef("TraitDefinition", [strType(e.fqn), unionOf(appliesTo)]) : typeRef("ResourceDefinition", [strType(e.fqn)]);
  const defInit = f.createObjectLiteralExpression(
    [
      f.createPropertyAssignment("fqn", f.createStringLiteral(e.fqn)),
      f.createPropertyAssignment("cue", cueRefExpr(e)),
      f.createPropertyAssignment("specKey", f.createStringLiteral(e.specKey!)),
      ...(isTrait ? [f.createPropertyAssignment("appliesTo", jsonToExpression(appliesTo))] : []),
      f.createPropertyAssignment("schema", jsonToExpression(embeddedSchema(schema, out.schemaRef))),
    ],
    true,
  );
  out.statements.push(constDecl(defName, defType, defInit));
  out.statements.push(f.createExpressionStatement(f.createCallExpression(f.createIdentifier("registerSpec"), undefined, [f.createIdentifier(defName)])));
  out.runtime.add("registerSpec");
  out.runtime.add("Input");
  const optional = omittable(schema);
  const param = f.createParameterDeclaration(
    undefined,
    undefined,
    "spec",
    undefined,
    typeRef("Input", [typeRef(specName)]),
    optional ? f.createObjectLiteralExpression([]) : undefined,
  );
  const returnType = isTrait ? typeRef("TraitPart", [strType(e.fqn), unionOf(appliesTo)]) : typeRef("ResourcePart", [strType(e.fqn)]);
  const body = f.createBlock(
    [
      f.createReturnStatement(
        f.createCallExpression(f.createIdentifier(isTrait ? "trait" : "resource"), undefined, [f.createIdentifier(defName), f.createIdentifier("spec")]),
      ),
    ],
    true,
  );
  const fn = f.createFunctionDeclaration(exportMod, undefined, name, undefined, [param], returnType, body);
  const extra = [
    `Sets \`spec.${e.specKey}\`${isTrait ? (appliesTo.length ? `; applies to components with ${appliesTo.map((a) => `\`${a}\``).join(" or ")}` : "; applies to any component") : ""}.`,
    ...(isTrait ? ["Add it to a component with `.with()`."] : ["Add it to a component with `component()` or `.with()`."]),
    "",
    `@param spec - the ${e.kind}'s spec; every field also accepts a config reference of its type${optional ? " (may be left out: every field has a default)" : ""}`,
  ];
  out.statements.push(withDoc(fn, docFor(e, extra)));
  out.runtime.add(isTrait ? "trait" : "resource");
  out.runtime.add(isTrait ? "TraitDefinition" : "ResourceDefinition");
  out.runtime.add(isTrait ? "TraitPart" : "ResourcePart");
  out.fqns.push([name, e.fqn]);
}

function emitBlueprint(e: CatalogEntry, name: string, input: CodegenInput, names: Map<string, string>, all: Map<string, CatalogEntry>, out: Emitted): void {
  const specName = `${name}Spec`;
  const defName = `${name}Definition`;
  const composed = [...(e.composedResources ?? []), ...(e.composedTraits ?? [])];
  const props: Record<string, JsonSchema> = {};
  const specs: Record<string, string> = {};
  const members: ts.TypeElement[] = [];
  for (const fqn of composed) {
    const c = all.get(fqn);
    const schema = c && input.spec(c);
    if (!c?.specKey || !schema) continue;
    props[c.specKey] = schema;
    specs[c.specKey] = fqn;
    const cName = names.get(fqn)!;
    const file = fileBase(c.package);
    if (file !== fileBase(e.package)) out.imports.set(file, new Set([...(out.imports.get(file) ?? []), `${cName}Spec`]));
    const sig = f.createPropertySignature(
      undefined,
      propertyName(c.specKey),
      omittable(schema) ? f.createToken(ts.SyntaxKind.QuestionToken) : undefined,
      typeRef(`${cName}Spec`),
    );
    members.push(withDoc(sig, [`${c.description || cName} (${c.kind} \`${fqn}\`)`]));
  }
  const schema: JsonSchema = { type: "object", properties: props, required: Object.keys(props) };
  out.statements.push(
    withDoc(f.createInterfaceDeclaration(exportMod, specName, undefined, undefined, members), [
      `The spec of blueprint ${name}: one field per resource and trait it composes.`,
      "",
      `FQN \`${e.fqn}\`.`,
    ]),
  );
  const defType = typeRef("BlueprintDefinition", [strType(e.fqn), unionOf(composed)]);
  const defInit = f.createObjectLiteralExpression(
    [
      f.createPropertyAssignment("fqn", f.createStringLiteral(e.fqn)),
      f.createPropertyAssignment("cue", cueRefExpr(e)),
      f.createPropertyAssignment("composes", jsonToExpression(composed)),
      ...(e.workloadType ? [f.createPropertyAssignment("labels", jsonToExpression({ "core.opmodel.dev/workload-type": e.workloadType }))] : []),
      f.createPropertyAssignment("specs", jsonToExpression(specs)),
      f.createPropertyAssignment("required", jsonToExpression(authorRequired(schema))),
    ],
    true,
  );
  out.statements.push(constDecl(defName, defType, defInit));
  const optional = authorRequired(schema).length === 0;
  const param = f.createParameterDeclaration(
    undefined,
    undefined,
    "spec",
    undefined,
    typeRef("SpecInput", [typeRef(specName)]),
    optional ? f.createObjectLiteralExpression([]) : undefined,
  );
  const returnType = typeRef("Component", [unionOf([e.fqn, ...composed])]);
  const body = f.createBlock(
    [f.createReturnStatement(f.createCallExpression(f.createIdentifier("blueprint"), undefined, [f.createIdentifier(defName), f.createIdentifier("spec")]))],
    true,
  );
  const fn = f.createFunctionDeclaration(exportMod, undefined, name, undefined, [param], returnType, body);
  const extra = [
    `Returns a component with ${composed.map((c) => names.get(c) ?? c).join(", ") || "nothing else"}${e.workloadType ? ` and the workload type \`${e.workloadType}\`` : ""}; add more traits with \`.with()\`.`,
    "",
    "@param spec - one field per composed resource and trait; every field also accepts a config reference of its type",
  ];
  out.statements.push(withDoc(fn, docFor(e, extra)));
  for (const r of ["blueprint", "BlueprintDefinition", "SpecInput", "Component"]) out.runtime.add(r);
  out.fqns.push([name, e.fqn]);
}

const RUNTIME_FROM: Record<string, string> = {
  resource: "../builders.js",
  trait: "../builders.js",
  blueprint: "../builders.js",
  registerSpec: "../builders.js",
  ResourceDefinition: "../builders.js",
  TraitDefinition: "../builders.js",
  BlueprintDefinition: "../builders.js",
  SpecInput: "../builders.js",
  JsonSchema: "../builders.js",
  ResourcePart: "../parts.js",
  TraitPart: "../parts.js",
  Component: "../component.js",
  Input: "../refs.js",
};
const TYPE_ONLY = new Set([
  "JsonSchema",
  "ResourceDefinition",
  "TraitDefinition",
  "BlueprintDefinition",
  "SpecInput",
  "ResourcePart",
  "TraitPart",
  "Component",
  "Input",
]);

/**
 * Emits the source of one catalog package's generated file, or undefined when the
 * package has no resources, traits or blueprints with a mixin and declares no shared schema.
 */
function emitPackage(importPath: string, input: CodegenInput): string | undefined {
  const { all, names } = definitions(input.index);
  const mine = [...all.values()].filter((e) => e.package === importPath && e.mixin).sort((a, b) => names.get(a.fqn)!.localeCompare(names.get(b.fqn)!));
  const specNames = new Set(mine.map((e) => `${names.get(e.fqn)!}Spec`));
  const sharedHere = input.shared.all().filter((sh) => sh.importPath === importPath && !specNames.has(sh.name));
  if (!mine.length && !sharedHere.length) return undefined;
  const out = emitted(importPath, input.shared);
  for (const e of mine) {
    const name = names.get(e.fqn)!;
    if (e.kind === "blueprint") emitBlueprint(e, name, input, names, all, out);
    else {
      const schema = input.spec(e);
      if (schema) emitResourceOrTrait(e, name, schema, input.shared, out);
    }
  }
  for (const sh of sharedHere) out.statements.push(sharedDeclaration(sh, out));
  const file = fileBase(importPath);
  const table = constDecl(
    fqnTableName(file),
    undefined,
    f.createAsExpression(
      f.createObjectLiteralExpression(
        out.fqns.map(([n, fqn]) => f.createPropertyAssignment(n, f.createStringLiteral(fqn))),
        true,
      ),
      typeRef("const"),
    ),
    true,
  );
  const statements: ts.Statement[] = [];
  const byModule = new Map<string, string[]>();
  for (const r of out.runtime) byModule.set(RUNTIME_FROM[r]!, [...(byModule.get(RUNTIME_FROM[r]!) ?? []), r]);
  for (const [mod, ids] of [...byModule].sort(([a], [b]) => a.localeCompare(b))) {
    const specs = ids.sort().map((id) => f.createImportSpecifier(TYPE_ONLY.has(id), undefined, f.createIdentifier(id)));
    statements.push(f.createImportDeclaration(undefined, f.createImportClause(false, undefined, f.createNamedImports(specs)), f.createStringLiteral(mod)));
  }
  for (const [other, ids] of [...out.imports].sort(([a], [b]) => a.localeCompare(b))) {
    const specs = [...ids].sort().map((id) => f.createImportSpecifier(false, undefined, f.createIdentifier(id)));
    statements.push(
      f.createImportDeclaration(undefined, f.createImportClause(true, undefined, f.createNamedImports(specs)), f.createStringLiteral(`./${other}.js`)),
    );
  }
  if (out.schemas.size) {
    const specs = [...out.schemas].sort().map((id) => f.createImportSpecifier(false, undefined, f.createIdentifier(id)));
    statements.push(
      f.createImportDeclaration(undefined, f.createImportClause(false, undefined, f.createNamedImports(specs)), f.createStringLiteral("./schemas.js")),
    );
  }
  // Blueprints validate with the schemas those files register when they load.
  if (mine.some((e) => e.kind === "blueprint")) {
    for (const other of [...out.imports.keys()].sort())
      statements.push(f.createImportDeclaration(undefined, undefined, f.createStringLiteral(`./${other}.js`)));
  }
  if (out.fqns.length) statements.push(withDoc(table, [`FQNs of the definitions in \`${importPath}\`, by builder name.`]));
  statements.push(...out.statements);
  return printStatements(statements, mine.length ? `Typed builders for the CUE package ${importPath}.` : `Shared types of the CUE package ${importPath}.`);
}

/**
 * `schemas.ts`: the embedded validation schema of every shared schema, once, each declared
 * after those it refers to. Internal: `index.ts` does not re-export it.
 */
function emitSchemas(input: CodegenInput): string | undefined {
  const shared = input.shared.all().filter((sh) => input.shared.embedded.has(sh.ref));
  if (!shared.length) return undefined;
  const deps = new Map<string, Set<string>>();
  const bodies = new Map<string, ts.Expression>();
  for (const sh of shared) {
    const uses = new Set<string>();
    const ref = embeddedRef(input.shared, (other) => uses.add(other.name));
    bodies.set(sh.name, jsonToExpression(embeddedSchema(sh.schema, ref)));
    deps.set(sh.name, uses);
  }
  const order: string[] = [];
  const visit = (n: string) => {
    if (order.includes(n)) return;
    for (const d of [...deps.get(n)!].sort()) visit(d);
    order.push(n);
  };
  for (const sh of shared) visit(sh.name);
  const byName = new Map(shared.map((sh) => [sh.name, sh]));
  const statements: ts.Statement[] = [
    f.createImportDeclaration(
      undefined,
      f.createImportClause(true, undefined, f.createNamedImports([f.createImportSpecifier(false, undefined, f.createIdentifier("JsonSchema"))])),
      f.createStringLiteral("../builders.js"),
    ),
  ];
  for (const n of order) {
    const sh = byName.get(n)!;
    statements.push(
      withDoc(constDecl(schemaConstName(sh), typeRef("JsonSchema"), bodies.get(n)!, true), [
        `Validation schema of \`${sh.name}\` (CUE \`${cueName(sh)}\` in \`${sh.importPath}\`).`,
      ]),
    );
  }
  return printStatements(statements, "Validation schemas shared by the generated builders (internal: not re-exported).");
}

/** Every generated file: file name → text. */
export function emitAll(input: CodegenInput): Map<string, string> {
  planShared(input);
  const files = new Map<string, string>();
  const tables: string[] = [];
  for (const pkg of generatedPackages(input)) {
    const text = emitPackage(pkg, input);
    if (!text) continue;
    files.set(`${fileBase(pkg)}.ts`, text);
    if (text.includes(`export const ${fqnTableName(fileBase(pkg))} = `)) tables.push(fileBase(pkg));
  }
  for (const pkg of [...new Set(input.index.policies.map((e) => e.package))].sort()) {
    const text = emitPolicies(pkg, input);
    if (text) files.set(`${fileBase(pkg)}.ts`, text);
  }
  const schemas = emitSchemas(input);
  files.set(
    "index.ts",
    emitIndex(
      [...files.keys()].map((f) => f.replace(/\.ts$/, "")),
      tables,
    ),
  );
  if (schemas) files.set("schemas.ts", schemas);
  return new Map([...files].sort(([a], [b]) => a.localeCompare(b)));
}

/** `index.ts`: re-exports every generated file and one `FQN` table of them all. */
function emitIndex(files: readonly string[], tables: readonly string[] = files): string {
  const statements: ts.Statement[] = files.map((file) => f.createExportDeclaration(undefined, false, undefined, f.createStringLiteral(`./${file}.js`)));
  for (const file of tables) {
    statements.push(
      f.createImportDeclaration(
        undefined,
        f.createImportClause(false, undefined, f.createNamedImports([f.createImportSpecifier(false, undefined, f.createIdentifier(fqnTableName(file)))])),
        f.createStringLiteral(`./${file}.js`),
      ),
    );
  }
  const fqn = constDecl(
    "FQN",
    undefined,
    f.createObjectLiteralExpression(
      tables.map((file) => f.createSpreadAssignment(f.createIdentifier(fqnTableName(file)))),
      true,
    ),
    true,
  );
  statements.push(withDoc(fqn, ["FQNs of every generated builder's definition, by builder name (e.g. `FQN.Scaling`)."]));
  return printStatements(statements, "The typed builders of every catalog package (opm-ts/catalog re-exports them).");
}
