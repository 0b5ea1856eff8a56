/**
 * Transformer templates: the output a transformer declares, with references to the component
 * (`spec.x`), conditionals (`when`) and iteration (`forEach`), compiled to CUE expressions.
 */
import * as ast from "../src/core/cue/ast.js";
import { rawCueText } from "../src/core/symbolic.js";
import type { RefsOf } from "./config.js";
import { isRef, makeRef, REF_SELF, refExpr, toExpr, type Ref } from "./refs.js";

const TEMPLATE = Symbol.for("opm-ts.template");

type TemplateNode = { kind: "when"; cond: unknown; value: unknown } | { kind: "forEach"; source: unknown; key: string; item: string; value: unknown };

let counter = 0;

/**
 * A conditional in a transformer template. Spread it into an object
 * (`{ ...when(spec.backup.retention, { retention: spec.backup.retention }) }`) to add the
 * fields only when the reference has a value, or use it as a list element. A `rawCue`
 * condition (`rawCue("#component.spec.x.count > 1")`) is used as is.
 */
export function when<T>(cond: Ref<unknown>, value: T): T extends object ? Partial<T> : T {
  const key = Symbol(`when${++counter}`);
  const node: TemplateNode = { kind: "when", cond, value };
  return { [key]: node, [TEMPLATE]: node } as never;
}

/**
 * Iteration in a transformer template: a list with one element per entry of a map (or
 * element of a list) reference. `key` and `item` are references to the entry.
 */
export function forEach<V, R>(
  source: Ref<Record<string, V>> | Ref<readonly V[]> | RefsOf<never> | unknown,
  fn: (key: Ref<string>, item: ItemRef<V>) => R,
): R[] {
  const n = ++counter;
  const key = `k${n}`;
  const item = `v${n}`;
  const value = fn(makeRef<string>(key, []), deepRef(item, []) as ItemRef<V>);
  return { [TEMPLATE]: { kind: "forEach", source, key, item, value } } as never;
}

/** A reference to an item of a map or list: fields of objects are references too. */
export type ItemRef<V> = V extends object ? { readonly [K in keyof V]-?: ItemRef<V[K]> } & Ref<V> : Ref<V>;

/** A reference whose fields are references (for values whose shape the types do not know). */
export interface AnyRef extends Ref<unknown> {
  readonly [field: string]: AnyRef | unknown;
}

/** A reference that yields a deeper reference for any property (`x.a.b` → `x.a.b`). */
/** @internal */
export function deepRef(root: string, path: readonly string[]): unknown {
  const ref = makeRef(root, path);
  return new Proxy(ref as object, {
    get(target, prop, receiver) {
      if (prop === REF_SELF) return target;
      if (typeof prop === "symbol" || prop === "toString" || prop === "toJSON") return Reflect.get(target, prop, receiver);
      return deepRef(root, [...path, prop]);
    },
  });
}

/** @internal */
export function templateExpr(v: unknown): ast.Expr {
  if (isRef(v)) {
    const node = (v as unknown as Record<symbol, TemplateNode | undefined>)[TEMPLATE];
    if (!node) return refExpr(v);
  }
  if (typeof v === "object" && v !== null && !Array.isArray(v)) {
    const node = (v as Record<symbol, TemplateNode | undefined>)[TEMPLATE];
    if (node?.kind === "forEach") {
      return ast.list([ast.comprehension([{ kind: "for", key: node.key, value: node.item, source: condExpr(node.source) }], bodyOf(node.value))]);
    }
  }
  if (Array.isArray(v)) {
    return ast.list(
      v.map((x) => {
        const node = typeof x === "object" && x !== null ? (x as Record<symbol, TemplateNode | undefined>)[TEMPLATE] : undefined;
        if (node?.kind === "when") return ast.comprehension([{ kind: "if", cond: ifCond(node.cond) }], bodyOf(node.value));
        if (node?.kind === "forEach")
          return ast.comprehension([{ kind: "for", key: node.key, value: node.item, source: condExpr(node.source) }], bodyOf(node.value));
        return templateExpr(x);
      }),
    );
  }
  if (typeof v === "object" && v !== null && rawCueText(v) === undefined) {
    const decls: ast.Decl[] = [];
    for (const [k, x] of Object.entries(v)) if (x !== undefined) decls.push(ast.field(k, templateExpr(x)));
    for (const s of Object.getOwnPropertySymbols(v)) {
      const node = (v as Record<symbol, TemplateNode>)[s];
      if (s === TEMPLATE || node?.kind !== "when") continue;
      decls.push(ast.comprehension([{ kind: "if", cond: ifCond(node.cond) }], bodyOf(node.value)));
    }
    return ast.struct(decls);
  }
  return toExpr(v);
}

function condExpr(c: unknown): ast.Expr {
  return templateExpr(c);
}

function ifCond(c: unknown): ast.Expr {
  if (rawCueText(c) !== undefined) return toExpr(c);
  return ast.binary("!=", templateExpr(c), ast.ident("_|_"));
}

function bodyOf(value: unknown): ast.Struct {
  const e = templateExpr(value);
  return e.kind === "Struct" ? e : ast.struct([ast.embed(e)]);
}
