import * as ast from "../src/core/cue/ast.js";
import { ValidationError } from "../src/core/errors.js";
import { callSite } from "./source.js";
import { isRefValue, RAW, REF, REF_SELF, REF_TOKEN_END as TOKEN_END, REF_TOKEN_RE as TOKEN_RE, REF_TOKEN_START as TOKEN_START } from "../src/core/symbolic.js";

/**
 * A typed, symbolic reference to a value that only a release supplies, such as
 * `cfg.replicas`. It is accepted wherever a builder takes a `T`, and compiles to
 * `#config.replicas`. Inside template strings it becomes CUE interpolation.
 */
export interface Ref<T> {
  readonly [REF]: true;
  /** Phantom: the TypeScript type of the value the reference stands for. */
  readonly __type?: T;
  /** Path below the root (for config references, below `#config`). */
  readonly path: readonly string[];
  readonly root: string;
}

/** A value or a reference to one, at every level. */
export type Val<T> = T | Ref<T>;

/** Deep input type: every leaf (and every whole sub-value) may be a reference. */
export type Input<T> = [T] extends [string | number | boolean]
  ? T | Ref<T>
  : T extends string | number | boolean
    ? T | Ref<T>
    : T extends readonly (infer E)[]
      ? readonly Input<E>[] | Ref<T>
      : T extends object
        ? { [K in keyof T]: Input<T[K]> } | Ref<T>
        : T | Ref<T>;

const registry = new Map<string, Ref<unknown>>();
let counter = 0;

export function isRef(v: unknown): v is Ref<unknown> {
  return isRefValue(v);
}

export function makeRef<T>(root: string, path: readonly string[]): Ref<T> {
  const ref = {
    [REF]: true as const,
    root,
    path: Object.freeze([...path]),
  } as Ref<T>;
  let token: string | undefined;
  Object.defineProperties(ref, {
    toString: {
      value() {
        if (!token) {
          token = `${TOKEN_START}${++counter}${TOKEN_END}`;
          registry.set(token, ref as Ref<unknown>);
        }
        return token;
      },
    },
    [Symbol.toPrimitive]: {
      value(hint: string) {
        if (hint === "number") {
          // tsc rejects this (a Ref is not a number); plain JavaScript or a cast gets here.
          const r = ref as Ref<unknown>;
          const source = callSite();
          const field = r.root === "#config" ? ["config", ...r.path].join(".") : describeRef(r);
          throw new ValidationError([
            {
              code: "invalid_type",
              path: field,
              message:
                `${r.root === "#config" ? ["cfg", ...r.path].join(".") : describeRef(r)} is a reference that a release fills in later, so TypeScript cannot do arithmetic or comparisons with it; ` +
                "give the computed value its own config field, or write the expression in CUE with rawCue()",
              constraint: "a reference, not a number",
              ...(source ? { source } : {}),
            },
          ]);
        }
        return (ref as { toString(): string }).toString();
      },
    },
    toJSON: {
      value() {
        throw new TypeError(`${describeRef(ref as Ref<unknown>)} is symbolic and has no JSON value yet`);
      },
    },
  });
  return Object.freeze(ref);
}

export function describeRef(r: Ref<unknown>): string {
  return [r.root, ...r.path].join(".");
}

/** The CUE expression a reference compiles to. */
export function refExpr(r: Ref<unknown>): ast.Expr {
  // A proxied reference (whose fields are references too) hands out the real one.
  const self = (r as unknown as Record<symbol, Ref<unknown> | undefined>)[REF_SELF] ?? r;
  return ast.sel(ast.ident(self.root), ...self.path);
}

export { REF_SELF };

const optionalRefs = new WeakSet<object>();

/** Marks a reference to an optional config field (a release may leave it out). */
export function markOptional<T>(r: T): T {
  optionalRefs.add(r as object);
  return r;
}

/** A reference to an optional config secret: a field whose value holds one directly is left out when the release gives none. */
function optionalRefIn(v: unknown): Ref<unknown> | undefined {
  if (!v || typeof v !== "object" || isRef(v) || Array.isArray(v)) return undefined;
  return Object.values(v as Record<string, unknown>).find(
    (x): x is Ref<unknown> => isRef(x) && optionalRefs.has(((x as unknown as Record<symbol, Ref<unknown> | undefined>)[REF_SELF] ?? x) as object),
  );
}

/** Converts an author's value (plain data with references inside) to a CUE expression. */
export function toExpr(v: unknown): ast.Expr {
  if (isRef(v)) return refExpr(v);
  if (typeof v === "string" && v.includes(TOKEN_START)) {
    const parts: (string | ast.Expr)[] = [];
    let last = 0;
    for (const m of v.matchAll(TOKEN_RE)) {
      if (m.index! > last) parts.push(v.slice(last, m.index));
      const ref = registry.get(m[0]);
      if (!ref) throw new TypeError("a string contains a reference this process did not create");
      parts.push(refExpr(ref));
      last = m.index! + m[0].length;
    }
    if (last < v.length) parts.push(v.slice(last));
    return ast.interp(parts);
  }
  if (Array.isArray(v)) return ast.list(v.map(toExpr));
  if (v && typeof v === "object") {
    const raw = (v as { [RAW]?: string })[RAW];
    if (typeof raw === "string") return ast.raw(raw);
    return ast.struct(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => {
          const opt = optionalRefIn(x);
          const f = ast.field(k, toExpr(x));
          return opt ? ast.comprehension([{ kind: "if", cond: ast.binary("!=", refExpr(opt), ast.ident("_|_")) }], ast.struct([f])) : f;
        }),
    );
  }
  return ast.fromJSON(v);
}

/** Every reference inside a value (bare, or inside template strings), in order. */
export function refsIn(v: unknown): Ref<unknown>[] {
  if (isRef(v)) return [(v as unknown as Record<symbol, Ref<unknown> | undefined>)[REF_SELF] ?? v];
  if (typeof v === "string") return v.includes(TOKEN_START) ? [...v.matchAll(TOKEN_RE)].flatMap((m) => registry.get(m[0]) ?? []) : [];
  if (Array.isArray(v)) return v.flatMap(refsIn);
  if (v && typeof v === "object") return Object.values(v).flatMap(refsIn);
  return [];
}

/** True if the value contains no reference anywhere. */
export function isConcrete(v: unknown): boolean {
  if (isRef(v)) return false;
  if (typeof v === "string") return !v.includes(TOKEN_START);
  if (Array.isArray(v)) return v.every(isConcrete);
  if (v && typeof v === "object") {
    if ((v as { [RAW]?: string })[RAW] !== undefined) return false;
    return Object.values(v).every(isConcrete);
  }
  return true;
}

/** Escape hatch: a CUE expression written as text, used as a value anywhere a value is accepted. */
export function rawCue<T = unknown>(text: string): Ref<T> {
  return Object.freeze({ [RAW]: text }) as unknown as Ref<T>;
}
