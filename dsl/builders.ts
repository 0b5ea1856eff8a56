/**
 * The hand-written bases generated builders (`dsl/generated/`) extend: each generated
 * builder is a thin function that hands its definition (FQN, CUE mixin, spec key,
 * embedded JSON schema) and the author's spec to `resource`, `trait` or `blueprint` here.
 * The spec is validated against the schema when the builder is called; every problem is
 * collected onto the Part (and reported at render time with the author's file:line).
 */
import { component, type Component } from "./component.js";
import { makePart, type BlueprintPart, type CueRef, type ResourcePart, type TraitPart } from "./parts.js";
import type { Input } from "./refs.js";
import { checkValue, type JsonSchema } from "../src/core/schema.js";
export type { JsonSchema };

/** A blueprint's spec as the author writes it: every field accepts a config reference of its type. */
export type SpecInput<S> = { [K in keyof S]: Input<S[K]> };
import { callSite } from "./source.js";

/** What every generated definition descriptor has: FQN, CUE mixin and spec schema. */
export interface DefinitionBase {
  readonly fqn: string;
  readonly cue: CueRef;
}

export interface ResourceDefinition<F extends string = string> extends DefinitionBase {
  readonly fqn: F;
  readonly specKey: string;
  readonly schema: JsonSchema;
}

export interface TraitDefinition<F extends string = string, A extends string = string> extends DefinitionBase {
  readonly fqn: F;
  readonly specKey: string;
  readonly schema: JsonSchema;
  readonly appliesTo: readonly A[];
}

export interface BlueprintDefinition<F extends string = string, C extends string = string> extends DefinitionBase {
  readonly fqn: F;
  /** Spec key → FQN of every resource and trait the blueprint composes (their schemas are registered). */
  readonly specs: Readonly<Record<string, string>>;
  /** Spec keys the author must give (the others have defaults for every field). */
  readonly required: readonly string[];
  readonly composes: readonly C[];
  /** Labels the blueprint puts on its components (e.g. the workload type transformers match on). */
  readonly labels?: Readonly<Record<string, string>>;
}

const specSchemas = new Map<string, JsonSchema>();

/** Registers a generated resource's or trait's spec schema by FQN, so blueprints can compose it. */
export function registerSpec(def: { readonly fqn: string; readonly schema: JsonSchema }): void {
  specSchemas.set(def.fqn, def.schema);
}

/** The schema of a blueprint's spec: one property per composed resource and trait. */
function blueprintSchema(def: BlueprintDefinition): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [key, fqn] of Object.entries(def.specs)) {
    const s = specSchemas.get(fqn);
    if (!s) throw new Error(`opm-ts: the generated definition of ${fqn} is not loaded (blueprint ${def.fqn})`);
    properties[key] = s;
  }
  return { type: "object", properties, ...(def.required.length ? { required: def.required } : {}) };
}

/** Builds a resource part (the base of every generated resource builder). */
export function resource<F extends string>(def: ResourceDefinition<F>, spec: unknown): ResourcePart<F> {
  return makePart({
    kind: "resource",
    fqn: def.fqn,
    cue: def.cue,
    spec: { [def.specKey]: spec },
    issues: checkValue(def.schema, spec, def.specKey, "spec"),
    site: callSite(),
  });
}

/** Builds a trait part (the base of every generated trait builder). */
export function trait<F extends string, A extends string>(def: TraitDefinition<F, A>, spec: unknown): TraitPart<F, A> {
  return makePart({
    kind: "trait",
    fqn: def.fqn,
    cue: def.cue,
    spec: { [def.specKey]: spec },
    appliesTo: def.appliesTo,
    issues: checkValue(def.schema, spec, def.specKey, "spec"),
    site: callSite(),
  }) as TraitPart<F, A>;
}

/** Builds a component from a blueprint (the base of every generated blueprint builder). */
export function blueprint<F extends string, C extends string>(def: BlueprintDefinition<F, C>, spec: Record<string, unknown>): Component<F | C> {
  const part = makePart({
    kind: "blueprint",
    fqn: def.fqn,
    cue: def.cue,
    spec: { ...spec },
    composes: def.composes,
    ...(def.labels ? { labels: def.labels } : {}),
    issues: typeof spec === "object" && spec !== null ? checkValue(blueprintSchema(def), spec, "", "spec") : [],
    site: callSite(),
  }) as BlueprintPart<F, C>;
  return component(part) as unknown as Component<F | C>;
}
