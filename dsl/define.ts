/**
 * Author-defined Resources, Traits and Transformers in TypeScript. They compile to CUE
 * definitions in a package of their own (`package custom`, import path
 * `opm.dev/custom@v1`) that follows the catalog's conventions (`#XResource` / `#XTrait`
 * with a `#X` mixin, `#XTransformer`), and a `#Transformers` table the render program
 * adds to the provider. They flow through the same matching and rendering as the
 * catalog's definitions. The templates of transformer output (`when`, `forEach`) are in
 * template.ts.
 */
import * as ast from "../src/core/cue/ast.js";
import { printSourceFile, type PrintedFile } from "../src/core/cue/print.js";
import { checkValue, type JsonSchema } from "../src/core/schema.js";
import { ObjectField, shapeImports, shapeSchema, shapeToStruct, type ConfigShape, type ValuesOf, type RefsOf } from "./config.js";
import { OpmError } from "../src/core/errors.js";
import { makePart, type ResourcePart, type TraitPart } from "./parts.js";
import { makeRef, type Input, type Ref } from "./refs.js";
import { callSite } from "./source.js";
import { deepRef, templateExpr, type AnyRef } from "./template.js";

export { when, forEach } from "./template.js";
export type { ItemRef, AnyRef } from "./template.js";

/** The CUE package author-defined definitions compile into. */
export const CUSTOM_PACKAGE = "custom";
export const CUSTOM_IMPORT = "opm.dev/custom@v1";
const CORE_IMPORT = "opm.dev/catalog/core@v1";

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** @internal */
export function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
}

function camel(name: string): string {
  const p = pascal(name);
  return p[0]!.toLowerCase() + p.slice(1);
}

/** @internal The identity every author-defined definition has. */
export interface Identity {
  /** Domain-qualified path of the definition, e.g. `example.com/traits`. */
  modulePath: string;
  /** DNS label, e.g. `backup`. */
  name: string;
  /** Major version (default `v1`). */
  version?: `v${number}`;
  description: string;
}

/** @internal */
export function fqnOf(id: Identity): string {
  if (!NAME.test(id.name)) throw new OpmError("usage", `definition name ${JSON.stringify(id.name)} must be a DNS label (lower case letters, digits and '-')`);
  return `${id.modulePath}/${id.name}@${id.version ?? "v1"}`;
}

/** A resource or trait defined in TypeScript: what the custom package needs to declare it. */
export interface CustomDefinition {
  readonly kind: "resource" | "trait";
  readonly fqn: string;
  readonly identity: Identity;
  /** Definition base name, e.g. `Backup` (CUE `#BackupTrait`, mixin `#Backup`). */
  readonly cueName: string;
  readonly specKey: string;
  readonly shape: ConfigShape;
  readonly appliesTo: readonly string[];
}

/** A builder made by `defineResource` / `defineTrait`: call it to make a Part. */
export type CustomBuilder<P, S extends ConfigShape> = ((spec: Input<ValuesOf<S>>) => P) & {
  readonly fqn: string;
  readonly definition: CustomDefinition;
  /** Phantom: the spec shape (for typed references in transformer templates). */
  readonly __shape?: S;
};

function makeDefinition(kind: "resource" | "trait", def: Identity & { specKey?: string; spec: ConfigShape; appliesTo?: readonly string[] }): CustomDefinition {
  return Object.freeze({
    kind,
    fqn: fqnOf(def),
    identity: { modulePath: def.modulePath, name: def.name, version: def.version ?? "v1", description: def.description },
    cueName: pascal(def.name),
    specKey: def.specKey ?? camel(def.name),
    shape: def.spec,
    appliesTo: Object.freeze([...(def.appliesTo ?? [])]),
  });
}

function specSchemaOf(shape: ConfigShape): JsonSchema {
  return { type: "object", ...shapeSchema(shape) } as JsonSchema;
}

/**
 * Defines a Resource in TypeScript. The spec schema uses the `config` field builders.
 *
 * @example
 * ```ts
 * const Database = defineResource({ modulePath: "example.com/resources", name: "database",
 *   description: "A managed database.", spec: { engine: config.enum(["postgres", "mysql"]) } });
 * component(Database({ engine: "postgres" }))
 * ```
 */
export function defineResource<const F extends string, S extends ConfigShape>(
  def: Identity & { name: F; specKey?: string; spec: S },
): CustomBuilder<ResourcePart<string>, S> {
  const d = makeDefinition("resource", def);
  const schema = specSchemaOf(d.shape);
  const builder = (spec: unknown) =>
    makePart({
      kind: "resource",
      fqn: d.fqn,
      cue: { importPath: CUSTOM_IMPORT, alias: CUSTOM_PACKAGE, def: `#${d.cueName}` },
      spec: { [d.specKey]: spec },
      issues: checkValue(schema, spec, d.specKey, "spec"),
      site: callSite(),
      definition: d,
    });
  return Object.freeze(Object.assign(builder, { fqn: d.fqn, definition: d })) as CustomBuilder<ResourcePart<string>, S>;
}

/**
 * Defines a Trait in TypeScript. `appliesTo` lists the resource FQNs it applies to; pass
 * them `as const` literals (e.g. `FQN.Container`) so `.with()` can check them at the type level.
 */
export function defineTrait<S extends ConfigShape, const A extends string = never>(
  def: Identity & { specKey?: string; spec: S; appliesTo?: readonly A[] },
): CustomBuilder<TraitPart<string, A>, S> {
  const d = makeDefinition("trait", def);
  const schema = specSchemaOf(d.shape);
  const builder = (spec: unknown) =>
    makePart({
      kind: "trait",
      fqn: d.fqn,
      cue: { importPath: CUSTOM_IMPORT, alias: CUSTOM_PACKAGE, def: `#${d.cueName}` },
      spec: { [d.specKey]: spec },
      appliesTo: d.appliesTo,
      issues: checkValue(schema, spec, d.specKey, "spec"),
      site: callSite(),
      definition: d,
    });
  return Object.freeze(Object.assign(builder, { fqn: d.fqn, definition: d })) as CustomBuilder<TraitPart<string, A>, S>;
}

// ---------------------------------------------------------------- transformers

/** What a transformer knows about the component being transformed, as references. */
export interface TransformerContextRefs {
  release: { name: Ref<string>; namespace: Ref<string>; uuid: Ref<string> };
  module: { name: Ref<string>; version: Ref<string>; fqn: Ref<string>; uuid: Ref<string> };
  /** The component's name. */
  component: Ref<string>;
  /** Default object name: `<release>-<component>`. */
  name: Ref<string>;
  labels: Ref<Record<string, string>>;
  selectorLabels: Ref<Record<string, string>>;
}

export type SpecRefsOf<D> = D extends { readonly __shape?: infer S extends ConfigShape } ? RefsOf<S> : never;

/** Typed references to the spec fields of the custom traits and resources a transformer names. */
export type TransformerSpecRefs<D> = {
  readonly [K in D as K extends { definition: { specKey: infer SK extends string } } ? SK : never]: SpecRefsOf<K>;
};

/** The input of a transformer's output template. */
export interface TransformerInput<D> {
  /**
   * References to `spec.<specKey>` of the custom resources and traits the transformer
   * names (typed); anything else through `component.at(...)`.
   */
  spec: TransformerSpecRefs<D>;
  context: TransformerContextRefs;
  component: {
    /** A reference to any path of the component, e.g. `at<string>("spec", "container", "image")`. */
    at<T = unknown>(...path: string[]): Ref<T> & AnyRef;
    name: Ref<string>;
    labels: Ref<Record<string, string>>;
  };
}

/** A resource or trait named by a transformer: its FQN, or a builder from `defineResource`/`defineTrait`. */
export type Named = string | { readonly fqn: string };

export interface TransformerDefinition<RR extends Named, OR extends Named, RT extends Named, OT extends Named, U extends Named> extends Identity {
  requiredLabels?: Record<string, string>;
  /** Resource FQNs (e.g. `FQN.Container`) or custom resource builders the component must have. */
  requiredResources?: readonly RR[];
  optionalResources?: readonly OR[];
  /** Trait FQNs or custom trait builders the component must have. */
  requiredTraits?: readonly RT[];
  optionalTraits?: readonly OT[];
  /** More custom resources and traits whose specs the template reads (without matching on them). */
  uses?: readonly U[];
  /** The objects to output, written over references; use `when`, `forEach` and `rawCue` where needed. */
  output: (input: TransformerInput<RR | OR | RT | OT | U>) => readonly Record<string, unknown>[];
}

/** A transformer defined in TypeScript (add it to a module's `transformers`). */
export interface CustomTransformer {
  readonly kind: "transformer";
  readonly fqn: string;
  readonly cueName: string;
  readonly identity: Identity;
  readonly definitions: readonly CustomDefinition[];
  /** The CUE definition (`#XTransformer: core.#Transformer & {...}`). */
  readonly decl: ast.Decl;
  readonly imports: readonly string[];
}

/** @internal */
export function refsAt(shape: ConfigShape, root: string, path: readonly string[]): unknown {
  return Object.freeze(
    Object.fromEntries(
      Object.entries(shape).map(([k, f]) => [k, f instanceof ObjectField ? refsAt(f.shape as ConfigShape, root, [...path, k]) : makeRef(root, [...path, k])]),
    ),
  );
}

/**
 * Defines a Transformer in TypeScript: which components it matches (labels, resources,
 * traits) and the objects it outputs, written over typed references.
 */
export function defineTransformer<
  const RR extends Named = never,
  const OR extends Named = never,
  const RT extends Named = never,
  const OT extends Named = never,
  const U extends Named = never,
>(def: TransformerDefinition<RR, OR, RT, OT, U>): CustomTransformer {
  const fqn = fqnOf(def);
  const fqns = (xs: readonly Named[] | undefined) => (xs ?? []).map((x) => (typeof x === "string" ? x : x.fqn));
  const named = [
    ...(def.requiredResources ?? []),
    ...(def.optionalResources ?? []),
    ...(def.requiredTraits ?? []),
    ...(def.optionalTraits ?? []),
    ...(def.uses ?? []),
  ] as readonly Named[];
  const definitions = [
    ...new Map(
      named.filter((x): x is CustomBuilder<unknown, ConfigShape> => typeof x !== "string" && "definition" in x).map((b) => [b.fqn, b.definition]),
    ).values(),
  ];
  const spec: Record<string, unknown> = {};
  for (const d of definitions) spec[d.specKey] = refsAt(d.shape, "#component", ["spec", d.specKey]);
  const ctx = (...p: string[]) => makeRef<string>("#context", p);
  const context: TransformerContextRefs = {
    release: { name: ctx("release", "name"), namespace: ctx("release", "namespace"), uuid: ctx("release", "uuid") },
    module: { name: ctx("module", "name"), version: ctx("module", "version"), fqn: ctx("module", "fqn"), uuid: ctx("module", "uuid") },
    component: ctx("component"),
    name: ctx("name"),
    labels: makeRef("#context", ["labels"]),
    selectorLabels: makeRef("#context", ["selectorLabels"]),
  };
  const input = {
    spec,
    context,
    component: {
      at: (...p: string[]) => deepRef("#component", p),
      name: makeRef("#component", ["metadata", "name"]),
      labels: makeRef("#component", ["metadata", "labels"]),
    },
  } as unknown as TransformerInput<RR | OR | RT | OT | U>;
  const objects = def.output(input);
  const cueName = pascal(def.name) + "Transformer";
  const list = (label: string, xs: string[]) => ast.field(label, ast.fromJSON(xs));
  const decl = ast.field(
    `#${cueName}`,
    ast.and(
      ast.sel(ast.ident("core"), "#Transformer"),
      ast.struct([
        ast.field("metadata", ast.fromJSON({ modulePath: def.modulePath, name: def.name, version: def.version ?? "v1", description: def.description })),
        ...(def.requiredLabels ? [ast.field("requiredLabels", ast.fromJSON(def.requiredLabels))] : []),
        list("requiredResources", fqns(def.requiredResources)),
        list("optionalResources", fqns(def.optionalResources)),
        list("requiredTraits", fqns(def.requiredTraits)),
        list("optionalTraits", fqns(def.optionalTraits)),
        ast.field(
          "#transform",
          ast.struct([
            ast.field("#component", ast.top),
            ast.field("#context", ast.sel(ast.ident("core"), "#TransformerContext")),
            ast.field("output", templateExpr([...objects])),
          ]),
        ),
      ]),
    ),
    { doc: `#${cueName}: ${def.description}` },
  );
  return Object.freeze({ kind: "transformer", fqn, cueName, identity: { ...def }, definitions, decl, imports: [] });
}

// ---------------------------------------------------------------- the custom package

function definitionDecls(d: CustomDefinition): ast.Decl[] {
  const kind = d.kind === "resource" ? "Resource" : "Trait";
  const defName = `#${d.cueName}${kind}`;
  const specName = `#${d.cueName}Spec`;
  const reg = d.kind === "resource" ? "#resources" : "#traits";
  return [
    ast.field(specName, shapeToStruct(d.shape), { doc: `${specName} is the spec of the ${d.cueName} ${d.kind} (defined in TypeScript).` }),
    ast.field(
      defName,
      ast.and(
        ast.sel(ast.ident("core"), `#${kind}`),
        ast.struct([
          ast.field("metadata", ast.fromJSON(d.identity)),
          ...(d.kind === "trait" ? [ast.field("appliesTo", ast.fromJSON([...d.appliesTo]))] : []),
          ast.field("#specKey", ast.lit(d.specKey)),
          ast.field("#spec", ast.struct([ast.field(d.specKey, ast.ident(specName))])),
        ]),
      ),
      { doc: `${defName} is the definition of the ${d.cueName} ${d.kind}: ${d.identity.description}` },
    ),
    ast.field(
      `#${d.cueName}`,
      ast.and(
        ast.sel(ast.ident("core"), "#Component"),
        ast.struct([
          ast.field(reg, ast.struct([ast.field({ dynamic: ast.sel(ast.ident(defName), "metadata", "fqn") }, ast.ident(defName))])),
          ast.field("spec", ast.sel(ast.ident(defName), "#spec")),
        ]),
      ),
      { doc: `#${d.cueName} adds the ${d.cueName} ${d.kind} to a component (spec.${d.specKey}).` },
    ),
  ];
}

/**
 * The `custom.cue` file of a module: every author-defined resource and trait its
 * components use or its transformers name, the transformers, and `#Transformers` (the
 * table the render program adds to the provider). Undefined when there are none.
 */
export function customPackageFile(
  definitions: readonly CustomDefinition[],
  transformers: readonly CustomTransformer[],
  policies: readonly { cueName: string; fqn: string; decl: ast.Decl; imports: readonly string[] }[] = [],
): PrintedFile | undefined {
  const defs = new Map<string, CustomDefinition>();
  for (const d of [...definitions, ...transformers.flatMap((t) => t.definitions)]) {
    const prev = defs.get(d.fqn);
    if (prev && prev !== d && JSON.stringify(prev.identity) !== JSON.stringify(d.identity))
      throw new OpmError("usage", `two different definitions share the FQN ${d.fqn}`);
    defs.set(d.fqn, d);
  }
  if (!defs.size && !transformers.length && !policies.length) return undefined;
  const names = new Set<string>();
  for (const n of [...[...defs.values()].map((d) => d.cueName), ...transformers.map((t) => t.cueName), ...[...new Set(policies)].map((p) => p.cueName)]) {
    if (names.has(n)) throw new OpmError("usage", `two custom definitions would both be named #${n} in CUE; give them different names`);
    names.add(n);
  }
  const sorted = [...defs.values()].sort((a, b) => a.fqn.localeCompare(b.fqn));
  const ts = [...transformers].sort((a, b) => a.fqn.localeCompare(b.fqn));
  const ps = [...new Map(policies.map((p) => [p.fqn, p])).values()].sort((a, b) => a.fqn.localeCompare(b.fqn));
  const imports = new Set<string>([...sorted.flatMap((d) => shapeImports(d.shape)), ...ps.flatMap((p) => p.imports)]);
  const decls: ast.Decl[] = [
    ...sorted.flatMap(definitionDecls),
    ...ts.map((t) => t.decl),
    ...ps.map((p) => p.decl),
    ast.field(
      "#Transformers",
      ast.struct(ts.map((t) => ast.field({ dynamic: ast.sel(ast.ident(`#${t.cueName}`), "metadata", "fqn") }, ast.ident(`#${t.cueName}`)))),
      { doc: "#Transformers are added to the provider when this module is rendered." },
    ),
  ];
  return printSourceFile(
    `${CUSTOM_PACKAGE}.cue`,
    ast.file(
      CUSTOM_PACKAGE,
      [{ path: CORE_IMPORT, alias: "core" }, ...[...imports].sort().map((p) => ({ path: p }))],
      decls,
      "Resources, traits and transformers defined in TypeScript (generated by opm-ts).",
    ),
  );
}

/** True for a definition made by defineResource/defineTrait. */
export function isCustomDefinition(v: unknown): v is CustomDefinition {
  return (
    typeof v === "object" &&
    v !== null &&
    ((v as CustomDefinition).kind === "resource" || (v as CustomDefinition).kind === "trait") &&
    typeof (v as CustomDefinition).cueName === "string"
  );
}
