import * as ast from "./cue/ast.js";
import { quoteRegex } from "./cue/quote.js";
import type { Issue, SourceLocation } from "./errors.js";
import { callSite } from "./source.js";
import { makeRef, type Ref } from "./refs.js";

/** A JSON-schema-like description of a config field (the same shape the engine's OpenAPI export has). */
export interface FieldSchema {
  type: "string" | "integer" | "number" | "boolean" | "array" | "object";
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  enum?: readonly unknown[];
  items?: FieldSchema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, FieldSchema>;
  required?: string[];
  additionalProperties?: FieldSchema | false;
  /** opm extension: a secret (values are never printed). */
  "x-opm-secret"?: boolean;
}

/** The settings a config field builder carries (used by subclasses). */
export interface FieldState {
  readonly doc?: string;
  readonly default?: unknown;
  readonly hasDefault: boolean;
  readonly optional: boolean;
  readonly site?: SourceLocation;
}

/** Where a supplied value came from, by its path below `values`. */
export type Provenance = (path: readonly string[]) => SourceLocation | undefined;

/**
 * Base of every config field builder. `T` is the TypeScript type of its value; `D` records
 * whether the field may be left out of a release's values (it has a default or is optional).
 */
export abstract class ConfigField<T, D extends boolean = false> {
  /** Phantom type markers (never set at run time). */
  declare readonly __value: T;
  declare readonly __omittable: D;
  protected readonly state: FieldState;
  constructor(state?: Partial<FieldState>) {
    this.state = Object.freeze({ hasDefault: false, optional: false, site: callSite(), ...state });
  }
  protected abstract clone(state: Partial<FieldState>, extra?: object): this;
  /** The value used when a release does not set one. */
  default(value: T): ConfigField<T, true> & Omit<this, "default" | "__omittable"> {
    const issues = this.check(value, []);
    if (issues.length) {
      throw new TypeError(`invalid default: ${issues.map((i) => i.message).join("; ")}`);
    }
    return this.clone({ default: value, hasDefault: true, site: callSite() }) as never;
  }
  /** The field may be left unset; it then has no value at all. */
  optional(): ConfigField<T, true> & Omit<this, "optional"> {
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
  abstract schema(): FieldSchema;
  protected base(type: FieldSchema["type"]): FieldSchema {
    return {
      type,
      ...(this.state.doc ? { description: this.state.doc } : {}),
      ...(this.state.hasDefault ? { default: this.state.default } : {}),
    };
  }
  /** Checks a supplied value; returns every problem found. */
  abstract check(value: unknown, path: readonly string[]): Issue[];
  /** The typed reference handed to the module's `components` function. */
  ref(path: readonly string[]): unknown {
    return makeRef<T>("#config", path);
  }
}

const issue = (code: Issue["code"], path: readonly string[], message: string, constraint?: string): Issue => ({
  code,
  path: ["values", ...path].join("."),
  message,
  ...(constraint ? { constraint } : {}),
});

function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? v.slice(0, 57) + "..." : v);
  return `${typeof v} ${String(v)}`;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "list";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "number";
  return typeof v;
}

// ---------------------------------------------------------------- scalars

/** Bounds of a number field. */
export interface NumState { min?: number; max?: number; exclusiveMin?: number; exclusiveMax?: number }

export class IntField<D extends boolean = false> extends ConfigField<number, D> {
  constructor(state?: Partial<FieldState>, protected readonly num: NumState = {}, private readonly integer = true) {
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
  schema(): FieldSchema {
    return {
      ...this.base(this.integer ? "integer" : "number"),
      ...(this.num.min !== undefined ? { minimum: this.num.min } : {}),
      ...(this.num.max !== undefined ? { maximum: this.num.max } : {}),
    };
  }
  check(v: unknown, path: readonly string[]): Issue[] {
    const want = this.integer ? "int" : "number";
    if (typeof v !== "number" || !Number.isFinite(v) || (this.integer && !Number.isInteger(v))) {
      return [issue("invalid_type", path, `expected ${want}, got ${describeValue(v)}`, want)];
    }
    const out: Issue[] = [];
    if (this.num.min !== undefined && v < this.num.min) out.push(issue("out_of_range", path, `${v} is less than the minimum ${this.num.min}`, `>=${this.num.min}`));
    if (this.num.max !== undefined && v > this.num.max) out.push(issue("out_of_range", path, `${v} is greater than the maximum ${this.num.max}`, `<=${this.num.max}`));
    return out;
  }
}

export class NumberField<D extends boolean = false> extends IntField<D> {
  constructor(state?: Partial<FieldState>, num: NumState = {}) {
    super(state, num, false);
  }
}

/** Constraints of a string field. */
export interface StrState { pattern?: string; minLength?: number; maxLength?: number; what?: string }

export class StringField<D extends boolean = false> extends ConfigField<string, D> {
  constructor(state?: Partial<FieldState>, protected readonly str: StrState = {}) {
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
  schema(): FieldSchema {
    return {
      ...this.base("string"),
      ...(this.str.pattern !== undefined ? { pattern: this.str.pattern } : {}),
      ...(this.str.minLength !== undefined ? { minLength: this.str.minLength } : {}),
      ...(this.str.maxLength !== undefined ? { maxLength: this.str.maxLength } : {}),
    };
  }
  check(v: unknown, path: readonly string[]): Issue[] {
    if (typeof v !== "string") return [issue("invalid_type", path, `expected string, got ${describeValue(v)}`, "string")];
    const out: Issue[] = [];
    if (this.str.pattern !== undefined && !new RegExp(this.str.pattern, "u").test(v)) {
      out.push(issue("pattern", path, `${describeValue(v)} is not ${this.str.what ?? "matching the pattern"}`, `=~"${this.str.pattern}"`));
    }
    const n = [...v].length;
    if (this.str.minLength !== undefined && n < this.str.minLength) out.push(issue("out_of_range", path, `must be at least ${this.str.minLength} characters, got ${n}`, `strings.MinRunes(${this.str.minLength})`));
    if (this.str.maxLength !== undefined && n > this.str.maxLength) out.push(issue("out_of_range", path, `must be at most ${this.str.maxLength} characters, got ${n}`, `strings.MaxRunes(${this.str.maxLength})`));
    return out;
  }
}

export class BoolField<D extends boolean = false> extends ConfigField<boolean, D> {
  protected clone(state: Partial<FieldState>): this {
    return new (this.constructor as new (s: Partial<FieldState>) => this)({ ...this.state, ...state });
  }
  protected typeExpr(): ast.Expr {
    return ast.ident("bool");
  }
  schema(): FieldSchema {
    return this.base("boolean");
  }
  check(v: unknown, path: readonly string[]): Issue[] {
    return typeof v === "boolean" ? [] : [issue("invalid_type", path, `expected bool, got ${describeValue(v)}`, "bool")];
  }
}

export class EnumField<U extends string | number, D extends boolean = false> extends ConfigField<U, D> {
  constructor(readonly members: readonly U[], state?: Partial<FieldState>) {
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
  schema(): FieldSchema {
    const t = typeof this.members[0] === "number" ? "number" : "string";
    return { ...this.base(t), enum: [...this.members] };
  }
  check(v: unknown, path: readonly string[]): Issue[] {
    if (this.members.includes(v as U)) return [];
    const allowed = this.members.map((m) => JSON.stringify(m)).join(" | ");
    return [issue("enum", path, `${describeValue(v)} is not one of ${allowed}`, allowed)];
  }
}

// ---------------------------------------------------------------- collections

export type AnyField = ConfigField<any, boolean>;

export class ListField<E extends AnyField, D extends boolean = false> extends ConfigField<ValueOf<E>[], D> {
  constructor(readonly item: E, state?: Partial<FieldState>, private readonly bounds: { min?: number; max?: number } = {}) {
    super(state);
  }
  protected clone(state: Partial<FieldState>, extra: { min?: number; max?: number } = {}): this {
    return new (this.constructor as new (i: E, s: Partial<FieldState>, b: object) => this)(this.item, { ...this.state, ...state }, { ...this.bounds, ...extra });
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
  schema(): FieldSchema {
    return {
      ...this.base("array"),
      items: this.item.schema(),
      ...(this.bounds.min !== undefined ? { minItems: this.bounds.min } : {}),
      ...(this.bounds.max !== undefined ? { maxItems: this.bounds.max } : {}),
    };
  }
  check(v: unknown, path: readonly string[]): Issue[] {
    if (!Array.isArray(v)) return [issue("invalid_type", path, `expected a list, got ${describeValue(v)}`, "[...]")];
    const out: Issue[] = [];
    if (this.bounds.min !== undefined && v.length < this.bounds.min) out.push(issue("out_of_range", path, `needs at least ${this.bounds.min} items, got ${v.length}`, `list.MinItems(${this.bounds.min})`));
    if (this.bounds.max !== undefined && v.length > this.bounds.max) out.push(issue("out_of_range", path, `allows at most ${this.bounds.max} items, got ${v.length}`, `list.MaxItems(${this.bounds.max})`));
    v.forEach((x, i) => out.push(...this.item.check(x, [...path, String(i)])));
    return out;
  }
}

export class MapField<V extends AnyField, D extends boolean = false> extends ConfigField<Record<string, ValueOf<V>>, D> {
  constructor(readonly valueField: V, state?: Partial<FieldState>) {
    super(state);
  }
  protected clone(state: Partial<FieldState>): this {
    return new (this.constructor as new (v: V, s: Partial<FieldState>) => this)(this.valueField, { ...this.state, ...state });
  }
  protected typeExpr(): ast.Expr {
    return ast.struct([ast.field({ pattern: ast.ident("string") }, this.valueField.toCue())]);
  }
  schema(): FieldSchema {
    return { ...this.base("object"), additionalProperties: this.valueField.schema() };
  }
  check(v: unknown, path: readonly string[]): Issue[] {
    if (!v || typeof v !== "object" || Array.isArray(v)) return [issue("invalid_type", path, `expected a map, got ${describeValue(v)}`, "{[string]: ...}")];
    return Object.entries(v).flatMap(([k, x]) => this.valueField.check(x, [...path, k]));
  }
}

/** The shape of a config schema: field name to field builder. */
export type ConfigShape = { readonly [name: string]: AnyField };

/** `true` when every field of a config shape may be omitted from the values. */
export type AllOmittable<S extends ConfigShape> = { [K in keyof S]: S[K]["__omittable"] }[keyof S] extends true ? true : false;

export class ObjectField<S extends ConfigShape, D extends boolean = AllOmittable<S>> extends ConfigField<ValuesOf<S>, D> {
  constructor(readonly shape: S, state?: Partial<FieldState>) {
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
  schema(): FieldSchema {
    return { ...this.base("object"), ...shapeSchema(this.shape) };
  }
  check(v: unknown, path: readonly string[]): Issue[] {
    if (!v || typeof v !== "object" || Array.isArray(v)) return [issue("invalid_type", path, `expected an object, got ${describeValue(v)}`, "{...}")];
    return checkShape(this.shape, v as Record<string, unknown>, path);
  }
  override ref(path: readonly string[]): unknown {
    return refsFor(this.shape, path);
  }
}

export function shapeToStruct(shape: ConfigShape): ast.Struct {
  return ast.struct(
    Object.entries(shape).map(([name, f]) => ast.field(name, f.toCue(), { optional: f.isOptional, ...(f.doc ? { doc: f.doc } : {}) })),
  );
}

export function shapeSchema(shape: ConfigShape): Pick<FieldSchema, "properties" | "required" | "additionalProperties"> {
  const required = Object.entries(shape).filter(([, f]) => !f.isOptional && !f.hasDefault).map(([k]) => k);
  return {
    properties: Object.fromEntries(Object.entries(shape).map(([k, f]) => [k, f.schema()])),
    ...(required.length ? { required } : {}),
    additionalProperties: false,
  };
}

/** Checks values against a shape, collecting every problem (unknown keys, missing values, bad values). */
export function checkShape(shape: ConfigShape, values: Record<string, unknown>, path: readonly string[] = []): Issue[] {
  const out: Issue[] = [];
  for (const key of Object.keys(values)) {
    if (!(key in shape)) {
      const known = Object.keys(shape);
      const near = known.find((k) => k.toLowerCase() === key.toLowerCase() || levenshtein(k, key) <= 2);
      out.push(issue("unknown_field", [...path, key], `unknown field "${key}"${near ? ` (did you mean "${near}"?)` : ""}; allowed: ${known.join(", ") || "none"}`, "closed"));
    }
  }
  for (const [key, f] of Object.entries(shape)) {
    const v = values[key];
    if (v === undefined) {
      if (!f.hasDefault && !f.isOptional) out.push(issue("required", [...path, key], `a value is required and has no default`, "required"));
      continue;
    }
    out.push(...f.check(v, [...path, key]));
  }
  return out;
}

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
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
export type ValueOf<F> = F extends ConfigField<infer T, boolean> ? T : never;

/** Keys of a config shape whose fields may be omitted (they have a default or are optional). */
export type OmittableKeys<S extends ConfigShape> = { [K in keyof S]: S[K]["__omittable"] extends true ? K : never }[keyof S];
/** Keys of a config shape whose fields must be given. */
export type RequiredKeys<S extends ConfigShape> = Exclude<keyof S, OmittableKeys<S>>;
/** Flattens an intersection into one object type (for readable hovers). */
export type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The values a release may set for a shape: fields with defaults (or optional) may be left out. */
export type ValuesOf<S extends ConfigShape> = Simplify<
  { [K in RequiredKeys<S>]: ValueOf<S[K]> } & { [K in OmittableKeys<S>]?: ValueOf<S[K]> }
>;

/** Deeply partial values, as a values file or a release override may give them. */
export type PartialValues<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: PartialValues<T[K]> } : T;

/** The typed references a module's components see: `cfg.replicas` is a `Ref<number>`. */
export type RefsOf<S extends ConfigShape> = {
  readonly [K in keyof S]: S[K] extends ObjectField<infer Inner, boolean> ? RefsOf<Inner> : Ref<ValueOf<S[K]>>;
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
});
