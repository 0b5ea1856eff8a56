/**
 * Typed config fields (`config.int()`, `config.secret()`, `config.object({...})`, ...): each
 * field kind is one class holding its checks, its JSON schema, its CUE and its TypeScript
 * value type; below them, the operations on a whole shape and on the secret values a
 * release gives.
 *
 * Size: over 400 lines because every field kind keeps its four forms together in one class;
 * splitting the classes apart would separate a field's check from its schema and CUE.
 */
import * as ast from "../src/core/cue/ast.js";
import { quoteRegex } from "../src/core/cue/quote.js";
import type { Issue, SourceLocation } from "../src/core/errors.js";
import { REDACTED } from "../src/core/redact.js";
import { checkValue, isSecretSchema, type JsonSchema } from "../src/core/schema.js";
import { callSite } from "./source.js";
import { makeRef, markOptional, type Ref } from "./refs.js";

/** A JSON-schema-like description of a config field (the same shape the engine's OpenAPI export has). */
/** The settings a config field builder carries (used by subclasses). */
export interface FieldState {
  readonly doc?: string;
  readonly default?: unknown;
  readonly hasDefault: boolean;
  readonly optional: boolean;
  readonly site?: SourceLocation;
}

/** Marks a field type that may be left out of a release's values (it has a default or is optional). */
export interface Omittable {
  readonly __omittable: true;
}

/** Where a supplied value came from, by its path below `values`. */
export type Provenance = (path: readonly string[]) => SourceLocation | undefined;

/**
 * Base of every config field builder. `T` is the TypeScript type of its value. Calling
 * `default()` or `optional()` adds the `Omittable` mark to the type.
 */
export abstract class ConfigField<T> {
  /** Phantom type marker (never set at run time). */
  declare readonly __value: T;
  protected readonly state: FieldState;
  constructor(state?: Partial<FieldState>) {
    this.state = Object.freeze({ hasDefault: false, optional: false, site: callSite(), ...state });
  }
  protected abstract clone(state: Partial<FieldState>, extra?: object): this;
  /** The value used when a release does not set one. */
  default(value: T): this & Omittable {
    // An invalid default is reported with the field's path when the module (or policy) is
    // compiled (see shapeDefaultIssues): the field does not know its name yet.
    return this.clone({ default: value, hasDefault: true, site: callSite() }) as never;
  }
  /** The field may be left unset; it then has no value at all. */
  optional(): this & Omittable {
    return this.clone({ optional: true }) as never;
  }
  /** A description, printed as a comment in CUE and shown in docs and errors. */
  describe(doc: string): this {
    return this.clone({ doc });
  }
  get isOptional(): boolean {
    return this.state.optional;
  }
  get hasDefault(): boolean {
    return this.state.hasDefault;
  }
  get doc(): string | undefined {
    return this.state.doc;
  }
  /** Where the field was declared. */
  get site(): SourceLocation | undefined {
    return this.state.site;
  }
  /** The CUE type expression, without the default. */
  protected abstract typeExpr(): ast.Expr;
  /** The field's value constraint in CUE, with its default marked. */
  toCue(): ast.Expr {
    const t = this.typeExpr();
    if (!this.state.hasDefault) return t;
    return ast.or(t, ast.unary("*", ast.fromJSON(this.state.default)));
  }
  abstract schema(): JsonSchema;
  protected base(type: JsonSchema["type"]): JsonSchema {
    return {
      type,
      ...(this.state.doc ? { description: this.state.doc } : {}),
      ...(this.state.hasDefault ? { default: this.state.default } : {}),
    };
  }
  /** Checks a supplied value against the field's schema; returns every problem found. */
  check(value: unknown, path: readonly string[]): Issue[] {
    return checkValue(this.schema(), value, ["values", ...path].join("."));
  }
  /** The typed reference handed to the module's `components` function. */
  ref(path: readonly string[]): unknown {
    return makeRef<T>("#config", path);
  }
}

// ---------------------------------------------------------------- scalars

/** Bounds of a number field. */
export interface NumState {
  min?: number;
  max?: number;
  exclusiveMin?: number;
  exclusiveMax?: number;
}

export class IntField extends ConfigField<number> {
  constructor(
    state?: Partial<FieldState>,
    protected readonly num: NumState = {},
    private readonly integer = true,
  ) {
    super(state);
  }
  protected clone(state: Partial<FieldState>, extra: NumState = {}): this {
    return new (this.constructor as new (s: Partial<FieldState>, n: NumState, i: boolean) => this)(
      { ...this.state, ...state },
      { ...this.num, ...extra },
      this.integer,
    );
  }
  /** Smallest allowed value (inclusive). */
  min(n: number): this {
    return this.clone({}, { min: n });
  }
  /** Largest allowed value (inclusive). */
  max(n: number): this {
    return this.clone({}, { max: n });
  }
  protected typeExpr(): ast.Expr {
    const parts: ast.Expr[] = [ast.ident(this.integer ? "int" : "number")];
    if (this.num.min !== undefined) parts.push(ast.unary(">=", ast.fromJSON(this.num.min)));
    if (this.num.max !== undefined) parts.push(ast.unary("<=", ast.fromJSON(this.num.max)));
    return ast.and(...parts);
  }
  schema(): JsonSchema {
    return {
      ...this.base(this.integer ? "integer" : "number"),
      ...(this.num.min !== undefined ? { minimum: this.num.min } : {}),
      ...(this.num.max !== undefined ? { maximum: this.num.max } : {}),
    };
  }
}

export class NumberField extends IntField {
  constructor(state?: Partial<FieldState>, num: NumState = {}) {
    super(state, num, false);
  }
}

/** Constraints of a string field. */
export interface StrState {
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  what?: string;
}

export class StringField extends ConfigField<string> {
  constructor(
    state?: Partial<FieldState>,
    protected readonly str: StrState = {},
  ) {
    super(state);
  }
  protected clone(state: Partial<FieldState>, extra: StrState = {}): this {
    return new (this.constructor as new (s: Partial<FieldState>, x: StrState) => this)({ ...this.state, ...state }, { ...this.str, ...extra });
  }
  /** The value must match this regular expression (RE2 syntax, as CUE uses). */
  regex(re: RegExp | string): this {
    return this.clone({}, { pattern: typeof re === "string" ? re : re.source });
  }
  minLength(n: number): this {
    return this.clone({}, { minLength: n });
  }
  maxLength(n: number): this {
    return this.clone({}, { maxLength: n });
  }
  protected typeExpr(): ast.Expr {
    const parts: ast.Expr[] = [ast.ident("string")];
    if (this.str.pattern !== undefined) parts.push(ast.unary("=~", ast.raw(quoteRegex(this.str.pattern))));
    if (this.str.minLength !== undefined) parts.push(ast.call(ast.sel(ast.ident("strings"), "MinRunes"), ast.fromJSON(this.str.minLength)));
    if (this.str.maxLength !== undefined) parts.push(ast.call(ast.sel(ast.ident("strings"), "MaxRunes"), ast.fromJSON(this.str.maxLength)));
    return ast.and(...parts);
  }
  /** Standard-library packages the CUE expression uses. */
  get imports(): string[] {
    return this.str.minLength !== undefined || this.str.maxLength !== undefined ? ["strings"] : [];
  }
  schema(): JsonSchema {
    return {
      ...this.base("string"),
      ...(this.str.pattern !== undefined ? { pattern: this.str.pattern } : {}),
      ...(this.str.minLength !== undefined ? { minLength: this.str.minLength } : {}),
      ...(this.str.maxLength !== undefined ? { maxLength: this.str.maxLength } : {}),
      ...(this.str.what !== undefined ? { "x-opm-what": this.str.what } : {}),
    };
  }
}

export class BoolField extends ConfigField<boolean> {
  protected clone(state: Partial<FieldState>): this {
    return new (this.constructor as new (s: Partial<FieldState>) => this)({ ...this.state, ...state });
  }
  protected typeExpr(): ast.Expr {
    return ast.ident("bool");
  }
  schema(): JsonSchema {
    return this.base("boolean");
  }
}

export class EnumField<U extends string | number> extends ConfigField<U> {
  constructor(
    readonly members: readonly U[],
    state?: Partial<FieldState>,
  ) {
    super(state);
    if (members.length === 0) throw new TypeError("config.enum() needs at least one member");
  }
  protected clone(state: Partial<FieldState>): this {
    return new (this.constructor as new (m: readonly U[], s: Partial<FieldState>) => this)(this.members, { ...this.state, ...state });
  }
  protected typeExpr(): ast.Expr {
    return ast.or(...this.members.map((m) => ast.fromJSON(m)));
  }
  override toCue(): ast.Expr {
    if (!this.state.hasDefault) return this.typeExpr();
    return ast.or(...this.members.map((m) => (m === this.state.default ? ast.unary("*", ast.fromJSON(m)) : ast.fromJSON(m))));
  }
  schema(): JsonSchema {
    const t = typeof this.members[0] === "number" ? "number" : "string";
    return { ...this.base(t), enum: [...this.members] };
  }
}

// ---------------------------------------------------------------- secrets

/** How a release supplies a secret: the value itself, a key of an existing Secret, or an External Secrets store. */
export type SecretInput =
  | string
  | { secretRef: { name: string; key: string } }
  | { external: { store: string; remoteKey: string; property?: string; storeKind?: "SecretStore" | "ClusterSecretStore" } };

/** A secret as components see it (the shape of `core.#Secret`): wire it into env with `{ secret: cfg.x }`. */
export interface SecretValue {
  group: string;
  key: string;
  source:
    | { from: "literal"; value: string }
    | { from: "secret"; name: string; key: string }
    | { from: "external"; store: string; storeKind?: "SecretStore" | "ClusterSecretStore"; remoteKey: string; property?: string };
}

const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/**
 * A sensitive value. The author chooses where it lives (`group`: the Secret
 * "<release>-<group>-secret", `key` inside it); the release supplies it as a literal, a reference
 * to an existing Secret (`{ secretRef: { name, key } }`) or an External Secrets reference
 * (`{ external: { store, remoteKey } }`). Values are never printed.
 */
export class SecretField extends ConfigField<SecretInput> {
  constructor(
    readonly placement: { group: string; key: string },
    state?: Partial<FieldState>,
  ) {
    super(state);
    if (!DNS_LABEL_RE.test(placement.group)) throw new TypeError(`config.secret(): group "${placement.group}" must be a DNS label`);
    if (!SECRET_KEY.test(placement.key)) throw new TypeError(`config.secret(): key "${placement.key}" may hold only letters, digits, '-', '_' and '.'`);
  }
  protected clone(state: Partial<FieldState>): this {
    return new (this.constructor as new (p: { group: string; key: string }, s: Partial<FieldState>) => this)(this.placement, { ...this.state, ...state });
  }
  protected typeExpr(): ast.Expr {
    return ast.and(ast.sel(ast.ident("core"), "#Secret"), ast.fromJSON(this.placement));
  }
  override toCue(): ast.Expr {
    return this.typeExpr();
  }
  schema(): JsonSchema {
    return { ...this.base("object"), "x-opm-secret": true };
  }
  override ref(path: readonly string[]): unknown {
    const r = makeRef<SecretValue>("#config", path);
    return this.isOptional ? markOptional(r) : r;
  }
}

const DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Converts a release's secret input into the `source` of a `core.#Secret`. */
export function secretSource(v: SecretInput): SecretValue["source"] {
  if (typeof v === "string") return { from: "literal", value: v };
  if ("secretRef" in v) return { from: "secret", name: v.secretRef.name, key: v.secretRef.key };
  const e = v.external;
  return {
    from: "external",
    store: e.store,
    remoteKey: e.remoteKey,
    ...(e.storeKind ? { storeKind: e.storeKind } : {}),
    ...(e.property !== undefined ? { property: e.property } : {}),
  };
}

/**
 * Walks values alongside a schema and calls `fn` at every secret field that has a value.
 * `fn` returns the replacement (or undefined to keep the value).
 */
export function mapSecrets(schema: JsonSchema, values: unknown, fn: (v: SecretInput, path: string[]) => unknown, path: string[] = []): unknown {
  if (isSecretSchema(schema)) return values === undefined ? values : (fn(values as SecretInput, path) ?? values);
  if (schema.type === "object" && values && typeof values === "object" && !Array.isArray(values)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) {
      const sub = schema.properties?.[k] ?? (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
      out[k] = sub ? mapSecrets(sub, v, fn, [...path, k]) : v;
    }
    return out;
  }
  if (schema.type === "array" && Array.isArray(values) && schema.items) return values.map((v, i) => mapSecrets(schema.items!, v, fn, [...path, String(i)]));
  return values;
}

/**
 * Secrets whose value is the redaction marker (what a redacted output shows in place of a
 * secret): an error naming the path, so a marker never becomes a secret's value.
 */
export function redactionMarkers(schema: JsonSchema, values: unknown): Issue[] {
  const out: Issue[] = [];
  mapSecrets(schema, values, (v, path) => {
    const literal = typeof v === "string" ? v : v && typeof v === "object" && "value" in v ? (v as { value: unknown }).value : undefined;
    if (literal === REDACTED) {
      out.push({
        code: "secret",
        path: ["values", ...path].join("."),
        message: `holds the redaction marker ${JSON.stringify(REDACTED)}, not a secret value: give the real value with --secret ${path.join(".")}=@file or =env:VAR, or in a values file`,
        constraint: "a secret value",
      });
    }
    return undefined;
  });
  return out;
}

/** Paths of every secret field declared in a schema (below objects, not inside lists or maps). */
export function secretPaths(schema: JsonSchema, path: string[] = []): string[][] {
  return secretFields(schema, path).map((s) => s.path);
}

/** Every secret field declared in a schema, and whether a release may leave it out. */
export function secretFields(schema: JsonSchema, path: string[] = [], optional = false): { path: string[]; optional: boolean }[] {
  if (isSecretSchema(schema)) return [{ path, optional }];
  if (schema.type === "object" && schema.properties) {
    return Object.entries(schema.properties).flatMap(([k, s]) => secretFields(s, [...path, k], optional || !(schema.required ?? []).includes(k)));
  }
  return [];
}

// ---------------------------------------------------------------- collections

export type AnyField = ConfigField<any>;

export class ListField<E extends AnyField> extends ConfigField<ValueOf<E>[]> {
  constructor(
    readonly item: E,
    state?: Partial<FieldState>,
    private readonly bounds: { min?: number; max?: number } = {},
  ) {
    super(state);
  }
  protected clone(state: Partial<FieldState>, extra: { min?: number; max?: number } = {}): this {
    return new (this.constructor as new (i: E, s: Partial<FieldState>, b: object) => this)(
      this.item,
      { ...this.state, ...state },
      { ...this.bounds, ...extra },
    );
  }
  minItems(n: number): this {
    return this.clone({}, { min: n });
  }
  maxItems(n: number): this {
    return this.clone({}, { max: n });
  }
  protected typeExpr(): ast.Expr {
    const parts: ast.Expr[] = [ast.list([], this.item.toCue())];
    if (this.bounds.min !== undefined) parts.push(ast.call(ast.sel(ast.ident("list"), "MinItems"), ast.fromJSON(this.bounds.min)));
    if (this.bounds.max !== undefined) parts.push(ast.call(ast.sel(ast.ident("list"), "MaxItems"), ast.fromJSON(this.bounds.max)));
    return ast.and(...parts);
  }
  get imports(): string[] {
    return this.bounds.min !== undefined || this.bounds.max !== undefined ? ["list"] : [];
  }
  schema(): JsonSchema {
    return {
      ...this.base("array"),
      items: this.item.schema(),
      ...(this.bounds.min !== undefined ? { minItems: this.bounds.min } : {}),
      ...(this.bounds.max !== undefined ? { maxItems: this.bounds.max } : {}),
    };
  }
}

export class MapField<V extends AnyField> extends ConfigField<Record<string, ValueOf<V>>> {
  constructor(
    readonly valueField: V,
    state?: Partial<FieldState>,
  ) {
    super(state);
  }
  protected clone(state: Partial<FieldState>): this {
    return new (this.constructor as new (v: V, s: Partial<FieldState>) => this)(this.valueField, { ...this.state, ...state });
  }
  protected typeExpr(): ast.Expr {
    return ast.struct([ast.field({ pattern: ast.ident("string") }, this.valueField.toCue())]);
  }
  schema(): JsonSchema {
    return { ...this.base("object"), additionalProperties: this.valueField.schema() };
  }
}

/** The shape of a config schema: field name to field builder. */
export type ConfigShape = { readonly [name: string]: AnyField };

export type IsOmittable<F> = F extends Omittable ? true : F extends { readonly __allDefaults: true } ? true : false;
/** `true` when every field of a config shape may be omitted from the values. */
export type AllOmittable<S extends ConfigShape> = false extends { [K in keyof S]: IsOmittable<S[K]> }[keyof S] ? false : true;

export class ObjectField<S extends ConfigShape> extends ConfigField<ValuesOf<S>> {
  /** Phantom: true when every field inside can be omitted, so the object can be too. */
  declare readonly __allDefaults: AllOmittable<S>;
  constructor(
    readonly shape: S,
    state?: Partial<FieldState>,
  ) {
    super(state);
  }
  protected clone(state: Partial<FieldState>): this {
    return new (this.constructor as new (s: S, st: Partial<FieldState>) => this)(this.shape, { ...this.state, ...state });
  }
  protected typeExpr(): ast.Expr {
    return shapeToStruct(this.shape);
  }
  /** An object field needs no value when every field inside it can be omitted. */
  override get hasDefault(): boolean {
    return this.state.hasDefault || Object.values(this.shape).every((f) => f.hasDefault || f.isOptional);
  }
  schema(): JsonSchema {
    return { ...this.base("object"), ...shapeSchema(this.shape) };
  }
  override ref(path: readonly string[]): unknown {
    return refsFor(this.shape, path);
  }
}

export function shapeToStruct(shape: ConfigShape): ast.Struct {
  return ast.struct(Object.entries(shape).map(([name, f]) => ast.field(name, f.toCue(), { optional: f.isOptional, ...(f.doc ? { doc: f.doc } : {}) })));
}

export function shapeSchema(shape: ConfigShape): Pick<JsonSchema, "properties" | "required" | "additionalProperties"> {
  const required = Object.entries(shape)
    .filter(([, f]) => !f.isOptional && !f.hasDefault)
    .map(([k]) => k);
  return {
    properties: Object.fromEntries(Object.entries(shape).map(([k, f]) => [k, f.schema()])),
    ...(required.length ? { required } : {}),
    additionalProperties: false,
  };
}

/** Checks values against a shape, collecting every problem (unknown keys, missing values, bad values). */
export function checkShape(shape: ConfigShape, values: Record<string, unknown>, path: readonly string[] = []): Issue[] {
  return checkValue({ type: "object", ...shapeSchema(shape) }, values, ["values", ...path].join("."));
}

/**
 * Every invalid `.default()` in a shape (inside nested objects too), as issues at
 * `<root>.<path>` pointing at the `.default()` call.
 */
export function shapeDefaultIssues(shape: ConfigShape, root: string): Issue[] {
  const out: Issue[] = [];
  for (const [k, f] of Object.entries(shape)) {
    const path = `${root}.${k}`;
    const st = (f as unknown as { state: FieldState }).state;
    for (const i of st.hasDefault ? f.check(st.default, []) : []) {
      out.push({ ...i, path: i.path.replace(/^values/, path), message: `invalid default: ${i.message}`, ...(f.site ? { source: f.site } : {}) });
    }
    if (f instanceof ObjectField) out.push(...shapeDefaultIssues(f.shape as ConfigShape, path));
  }
  return out;
}

/** The field at a path of a shape (through nested `config.object`s), or the deepest one on the way. */
export function fieldAt(shape: ConfigShape, path: readonly string[]): AnyField | undefined {
  let f: AnyField | undefined;
  let cur: ConfigShape | undefined = shape;
  for (const seg of path) {
    const next: AnyField | undefined = cur?.[seg];
    if (!next) break;
    f = next;
    cur = next instanceof ObjectField ? (next.shape as ConfigShape) : undefined;
  }
  return f;
}

/** Every standard-library package a shape's CUE uses. */
export function shapeImports(shape: ConfigShape): string[] {
  const out = new Set<string>();
  const visit = (f: AnyField) => {
    for (const i of (f as { imports?: string[] }).imports ?? []) out.add(i);
    if (f instanceof ObjectField) Object.values(f.shape as ConfigShape).forEach(visit);
    if (f instanceof ListField) visit(f.item as AnyField);
    if (f instanceof MapField) visit(f.valueField as AnyField);
  };
  Object.values(shape).forEach(visit);
  return [...out].sort();
}

export function refsFor<S extends ConfigShape>(shape: S, path: readonly string[] = []): RefsOf<S> {
  return Object.freeze(Object.fromEntries(Object.entries(shape).map(([k, f]) => [k, f.ref([...path, k])]))) as RefsOf<S>;
}

// ---------------------------------------------------------------- types

/** The TypeScript value type of a field. */
export type ValueOf<F> = F extends ConfigField<infer T> ? T : never;

/** Keys of a config shape whose fields may be omitted (they have a default or are optional). */
export type OmittableKeys<S extends ConfigShape> = { [K in keyof S]: IsOmittable<S[K]> extends true ? K : never }[keyof S];
/** Keys of a config shape whose fields must be given. */
export type RequiredKeys<S extends ConfigShape> = Exclude<keyof S, OmittableKeys<S>>;
/** Flattens an intersection into one object type (for readable hovers). */
export type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The values a release may set for a shape: fields with defaults (or optional) may be left out. */
export type ValuesOf<S extends ConfigShape> = Simplify<{ [K in RequiredKeys<S>]: ValueOf<S[K]> } & { [K in OmittableKeys<S>]?: ValueOf<S[K]> }>;

/** Deeply partial values, as a values file or a release override may give them. */
export type PartialValues<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: PartialValues<T[K]> } : T;

/** The typed references a module's components see: `cfg.replicas` is a `Ref<number>`. */
export type RefsOf<S extends ConfigShape> = {
  readonly [K in keyof S]: S[K] extends ObjectField<infer Inner> ? RefsOf<Inner> : S[K] extends SecretField ? Ref<SecretValue> : Ref<ValueOf<S[K]>>;
};

// ---------------------------------------------------------------- the builder namespace

const DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const QUANTITY = "^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+|[KMGTPE]i|[mkMGTPE])?$";

/** Builders for a module's `#config` schema. */
export const config = Object.freeze({
  string: () => new StringField(),
  int: () => new IntField(),
  number: () => new NumberField(),
  bool: () => new BoolField(),
  enum: <const U extends string | number>(members: readonly U[]) => new EnumField<U>(members),
  /** A Kubernetes resource quantity such as `500m`, `1Gi` or `2`. */
  quantity: () => new StringField({}, { pattern: QUANTITY, what: "a Kubernetes quantity (e.g. 500m, 1Gi)" }),
  /** A DNS-1123 label: lower case alphanumerics and '-', at most 63 characters. */
  dnsLabel: () => new StringField({}, { pattern: DNS_LABEL, maxLength: 63, what: "a DNS label (lower case alphanumerics and '-')" }),
  list: <E extends AnyField>(item: E) => new ListField(item),
  map: <V extends AnyField>(value: V) => new MapField(value),
  object: <S extends ConfigShape>(shape: S) => new ObjectField(shape),
  /**
   * A secret, stored under `key` in the Secret "<release>-<group>-secret" (or taken from an
   * existing Secret or an External Secrets store, as the release decides).
   */
  secret: (placement: { group: string; key: string }) => new SecretField(placement),
});
