/**
 * The hand-written bases generated builders (`dsl/generated/`) extend: each generated
 * builder is a thin function that hands its definition (FQN, CUE mixin, spec key,
 * embedded JSON schema) and the author's spec to `resource`, `trait` or `blueprint` here.
 * The spec is validated against the schema when the builder is called; every problem is
 * collected onto the Part (and reported at render time with the author's file:line).
 */
import { component, type Component } from "./component.js";
import type { Issue } from "../src/core/errors.js";
import { makePart, type BlueprintPart, type CueRef, type ResourcePart, type TraitPart } from "./parts.js";
import { isRef, type Input } from "./refs.js";

/** A blueprint's spec as the author writes it: every field accepts a config reference of its type. */
export type SpecInput<S> = { [K in keyof S]: Input<S[K]> };
import { callSite } from "./source.js";

/** The JSON schema subset builders validate against (as exported from the catalog). */
export interface SpecSchema {
  type?: "string" | "integer" | "number" | "boolean" | "array" | "object";
  enum?: readonly unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  items?: SpecSchema;
  properties?: { readonly [name: string]: SpecSchema };
  /** Fields the author must set (fields with defaults are not listed). */
  required?: readonly string[];
  additionalProperties?: SpecSchema | boolean;
  oneOf?: readonly SpecSchema[];
}

/** What every generated definition descriptor has: FQN, CUE mixin and spec schema. */
export interface DefinitionBase {
  readonly fqn: string;
  readonly cue: CueRef;
}

export interface ResourceDefinition<F extends string = string> extends DefinitionBase {
  readonly fqn: F;
  readonly specKey: string;
  readonly schema: SpecSchema;
}

export interface TraitDefinition<F extends string = string, A extends string = string> extends DefinitionBase {
  readonly fqn: F;
  readonly specKey: string;
  readonly schema: SpecSchema;
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

const specSchemas = new Map<string, SpecSchema>();

/** Registers a generated resource's or trait's spec schema by FQN, so blueprints can compose it. */
export function registerSpec(def: { readonly fqn: string; readonly schema: SpecSchema }): void {
  specSchemas.set(def.fqn, def.schema);
}

/** The schema of a blueprint's spec: one property per composed resource and trait. */
function blueprintSchema(def: BlueprintDefinition): SpecSchema {
  const properties: Record<string, SpecSchema> = {};
  for (const [key, fqn] of Object.entries(def.specs)) {
    const s = specSchemas.get(fqn);
    if (!s) throw new Error(`opm-ts: the generated definition of ${fqn} is not loaded (blueprint ${def.fqn})`);
    properties[key] = s;
  }
  return { type: "object", properties, ...(def.required.length ? { required: def.required } : {}) };
}

const TOKEN = "\u0000opmref:";
const RAW = Symbol.for("opm-ts.rawcue");

function isSymbolic(v: unknown): boolean {
  return isRef(v) || (typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[RAW] !== undefined);
}

function show(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  return JSON.stringify(v);
}

function typeOk(type: SpecSchema["type"], v: unknown): boolean {
  switch (type) {
    case undefined:
      return true;
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "boolean":
      return typeof v === "boolean";
    case "array":
      return Array.isArray(v);
    case "object":
      return typeof v === "object" && v !== null && !Array.isArray(v);
  }
}

const regexCache = new Map<string, RegExp | null>();
function regex(p: string): RegExp | null {
  if (!regexCache.has(p)) {
    try {
      regexCache.set(p, new RegExp(p, "u"));
    } catch {
      regexCache.set(p, null); // an RE2 feature JavaScript lacks: CUE checks it at render time
    }
  }
  return regexCache.get(p)!;
}

/**
 * Validates a value against a schema, collecting every problem with its dotted path.
 * References and raw CUE are skipped (a release supplies their values; CUE checks them).
 */
export function validate(schema: SpecSchema, v: unknown, path: string): Issue[] {
  if (v === undefined || isSymbolic(v)) return [];
  const out: Issue[] = [];
  if (schema.oneOf) {
    const results = schema.oneOf.map((s) => validate(s, v, path));
    if (!results.some((r) => r.length === 0)) {
      out.push({ code: "invalid_type", path, message: `${show(v)} matches none of the ${schema.oneOf.length} allowed shapes`, constraint: "oneOf" });
    }
  }
  if (!typeOk(schema.type, v)) {
    const want = schema.type === "integer" ? "int" : schema.type === "array" ? "list" : schema.type === "object" ? "struct" : schema.type;
    return [...out, { code: "invalid_type", path, message: `expected ${want}, got ${show(v)}`, constraint: want }];
  }
  if (schema.enum && !schema.enum.includes(v)) {
    const allowed = schema.enum.map((m) => JSON.stringify(m)).join(" | ");
    out.push({ code: "enum", path, message: `${show(v)} is not one of ${allowed}`, constraint: allowed });
  }
  if (typeof v === "number") {
    if (schema.minimum !== undefined && v < schema.minimum) out.push({ code: "out_of_range", path, message: `${v} is less than the minimum ${schema.minimum}`, constraint: `>=${schema.minimum}` });
    if (schema.maximum !== undefined && v > schema.maximum) out.push({ code: "out_of_range", path, message: `${v} is greater than the maximum ${schema.maximum}`, constraint: `<=${schema.maximum}` });
    if (schema.exclusiveMinimum !== undefined && v <= schema.exclusiveMinimum) out.push({ code: "out_of_range", path, message: `${v} must be greater than ${schema.exclusiveMinimum}`, constraint: `>${schema.exclusiveMinimum}` });
    if (schema.exclusiveMaximum !== undefined && v >= schema.exclusiveMaximum) out.push({ code: "out_of_range", path, message: `${v} must be less than ${schema.exclusiveMaximum}`, constraint: `<${schema.exclusiveMaximum}` });
  }
  if (typeof v === "string" && !v.includes(TOKEN)) {
    const re = schema.pattern !== undefined ? regex(schema.pattern) : null;
    if (re && !re.test(v)) out.push({ code: "pattern", path, message: `${show(v)} does not match ${schema.pattern}`, constraint: `=~"${schema.pattern}"` });
    const n = [...v].length;
    if (schema.minLength !== undefined && n < schema.minLength) out.push({ code: "out_of_range", path, message: `must be at least ${schema.minLength} characters, got ${n}`, constraint: `strings.MinRunes(${schema.minLength})` });
    if (schema.maxLength !== undefined && n > schema.maxLength) out.push({ code: "out_of_range", path, message: `must be at most ${schema.maxLength} characters, got ${n}`, constraint: `strings.MaxRunes(${schema.maxLength})` });
  }
  if (Array.isArray(v)) {
    if (schema.minItems !== undefined && v.length < schema.minItems) out.push({ code: "out_of_range", path, message: `needs at least ${schema.minItems} items, got ${v.length}`, constraint: `list.MinItems(${schema.minItems})` });
    if (schema.maxItems !== undefined && v.length > schema.maxItems) out.push({ code: "out_of_range", path, message: `allows at most ${schema.maxItems} items, got ${v.length}`, constraint: `list.MaxItems(${schema.maxItems})` });
    if (schema.items) v.forEach((x, i) => out.push(...validate(schema.items!, x, `${path}.${i}`)));
  }
  if (schema.type === "object" && typeof v === "object" && v !== null && !Array.isArray(v)) {
    const obj = v as Record<string, unknown>;
    const props = schema.properties ?? {};
    for (const r of schema.required ?? []) {
      if (obj[r] === undefined) out.push({ code: "required", path: `${path}.${r}`, message: "a value is required and has no default", constraint: "required" });
    }
    for (const [k, x] of Object.entries(obj)) {
      const p = props[k];
      if (p) out.push(...validate(p, x, `${path}.${k}`));
      else if (typeof schema.additionalProperties === "object") out.push(...validate(schema.additionalProperties, x, `${path}.${k}`));
      else if (schema.properties && !schema.oneOf && schema.additionalProperties !== true && x !== undefined) {
        const known = Object.keys(props);
        out.push({ code: "unknown_field", path: `${path}.${k}`, message: `unknown field "${k}"; allowed: ${known.join(", ") || "none"}`, constraint: "closed" });
      }
    }
  }
  return out;
}

/** Builds a resource part (the base of every generated resource builder). */
export function resource<F extends string>(def: ResourceDefinition<F>, spec: unknown): ResourcePart<F> {
  return makePart({
    kind: "resource",
    fqn: def.fqn,
    cue: def.cue,
    spec: { [def.specKey]: spec },
    issues: validate(def.schema, spec, def.specKey),
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
    issues: validate(def.schema, spec, def.specKey),
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
    issues: typeof spec === "object" && spec !== null ? validate(blueprintSchema(def), spec, "").map((i) => ({ ...i, path: i.path.replace(/^\./, "") })) : [],
    site: callSite(),
  }) as BlueprintPart<F, C>;
  return component(part) as unknown as Component<F | C>;
}
