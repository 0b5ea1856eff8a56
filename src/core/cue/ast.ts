/**
 * A small CUE abstract syntax tree. Nodes are plain frozen objects with a `kind`
 * discriminant; `print.ts` is the one printer (an exhaustive visitor).
 */

export type Expr = Ident | Lit | Struct | List | Selector | Index | Unary | Binary | Call | Paren | Interp | Comprehension | Raw;

export type Decl = Field | Embed | LetDecl | Comment | Comprehension;

export interface Ident {
  readonly kind: "Ident";
  readonly name: string;
}
export interface Lit {
  readonly kind: "Lit";
  readonly value: string | number | boolean | null;
  readonly float?: boolean;
}
export interface Struct {
  readonly kind: "Struct";
  readonly decls: readonly Decl[];
}
export interface List {
  readonly kind: "List";
  readonly elems: readonly Expr[];
  readonly rest?: Expr;
}
export interface Selector {
  readonly kind: "Selector";
  readonly x: Expr;
  readonly sel: string;
}
export interface Index {
  readonly kind: "Index";
  readonly x: Expr;
  readonly index: Expr;
}
export type UnaryOp = "-" | "!" | "*" | ">=" | "<=" | ">" | "<" | "=~" | "!~" | "!=";
export interface Unary {
  readonly kind: "Unary";
  readonly op: UnaryOp;
  readonly x: Expr;
}
export type BinaryOp = "&" | "|" | "+" | "-" | "*" | "/" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "&&" | "||" | "=~" | "!~";
export interface Binary {
  readonly kind: "Binary";
  readonly op: BinaryOp;
  readonly x: Expr;
  readonly y: Expr;
}
export interface Call {
  readonly kind: "Call";
  readonly fn: Expr;
  readonly args: readonly Expr[];
}
export interface Paren {
  readonly kind: "Paren";
  readonly x: Expr;
}
/** String interpolation: literal parts and expressions, e.g. `"\(a)-x"`. */
export interface Interp {
  readonly kind: "Interp";
  readonly parts: readonly (string | Expr)[];
}
export type Clause =
  | { readonly kind: "for"; readonly key?: string; readonly value: string; readonly source: Expr }
  | { readonly kind: "if"; readonly cond: Expr }
  | { readonly kind: "let"; readonly name: string; readonly expr: Expr };
export interface Comprehension {
  readonly kind: "Comprehension";
  readonly clauses: readonly Clause[];
  readonly body: Struct;
}
/** Escape hatch: CUE text printed as is (re-indented). */
export interface Raw {
  readonly kind: "Raw";
  readonly text: string;
}

export interface Field {
  readonly kind: "Field";
  /** A label: identifier, `#Def`, `_hidden`, any string (quoted when needed), or a dynamic `(expr)` label. */
  readonly label: string | { readonly dynamic: Expr } | { readonly pattern: Expr };
  readonly value: Expr;
  readonly optional?: boolean;
  /** Doc comment printed above the field. */
  readonly doc?: string;
}
export interface Embed {
  readonly kind: "Embed";
  readonly expr: Expr;
}
export interface LetDecl {
  readonly kind: "Let";
  readonly name: string;
  readonly expr: Expr;
}
export interface Comment {
  readonly kind: "Comment";
  readonly text: string;
}

export interface Import {
  readonly path: string;
  readonly alias?: string;
}
export interface File {
  readonly kind: "File";
  readonly doc?: string;
  readonly package: string;
  readonly imports: readonly Import[];
  readonly decls: readonly Decl[];
}

const freeze = <T extends object>(o: T): T => Object.freeze(o);

export const ident = (name: string): Ident => freeze({ kind: "Ident", name });
export const lit = (value: string | number | boolean | null): Lit => freeze({ kind: "Lit", value });
export const float = (value: number): Lit => freeze({ kind: "Lit", value, float: true });
export const struct = (decls: readonly Decl[]): Struct => freeze({ kind: "Struct", decls: Object.freeze([...decls]) });
export const list = (elems: readonly Expr[], rest?: Expr): List =>
  freeze(rest ? { kind: "List", elems: Object.freeze([...elems]), rest } : { kind: "List", elems: Object.freeze([...elems]) });
export const sel = (x: Expr, ...names: string[]): Expr => names.reduce<Expr>((acc, s) => freeze({ kind: "Selector", x: acc, sel: s }), x);
export const index = (x: Expr, i: Expr): Index => freeze({ kind: "Index", x, index: i });
export const unary = (op: UnaryOp, x: Expr): Unary => freeze({ kind: "Unary", op, x });
export const binary = (op: BinaryOp, x: Expr, y: Expr): Binary => freeze({ kind: "Binary", op, x, y });
/** `a & b & c`, skipping nothing; a single operand is returned as is. */
export const and = (...xs: Expr[]): Expr => xs.reduce((acc, x) => binary("&", acc, x));
/** `a | b | c`. */
export const or = (...xs: Expr[]): Expr => xs.reduce((acc, x) => binary("|", acc, x));
export const call = (fn: Expr, ...args: Expr[]): Call => freeze({ kind: "Call", fn, args: Object.freeze(args) });
export const paren = (x: Expr): Paren => freeze({ kind: "Paren", x });
export const interp = (parts: readonly (string | Expr)[]): Interp => freeze({ kind: "Interp", parts: Object.freeze([...parts]) });
export const raw = (text: string): Raw => freeze({ kind: "Raw", text });
export const comprehension = (clauses: readonly Clause[], body: Struct): Comprehension =>
  freeze({ kind: "Comprehension", clauses: Object.freeze([...clauses]), body });
export const field = (label: Field["label"], value: Expr, opts: { optional?: boolean; doc?: string } = {}): Field =>
  freeze({ kind: "Field", label, value, ...(opts.optional ? { optional: true } : {}), ...(opts.doc ? { doc: opts.doc } : {}) });
export const embed = (expr: Expr): Embed => freeze({ kind: "Embed", expr });
export const letDecl = (name: string, expr: Expr): LetDecl => freeze({ kind: "Let", name, expr });
export const comment = (text: string): Comment => freeze({ kind: "Comment", text });
export const file = (pkg: string, imports: readonly Import[], decls: readonly Decl[], doc?: string): File =>
  freeze({ kind: "File", package: pkg, imports: Object.freeze([...imports]), decls: Object.freeze([...decls]), ...(doc ? { doc } : {}) });

/** The CUE top value `_`. */
export const top = ident("_");

/** Converts a plain JSON-like value to a CUE expression (keys in insertion order). */
export function fromJSON(value: unknown): Expr {
  if (value === null || typeof value === "string" || typeof value === "boolean") return lit(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`cannot express ${value} in CUE`);
    return Number.isInteger(value) ? lit(value) : float(value);
  }
  if (Array.isArray(value)) return list(value.map(fromJSON));
  if (typeof value === "object") {
    return struct(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => field(k, fromJSON(v))),
    );
  }
  throw new TypeError(`cannot express a ${typeof value} in CUE`);
}
