/**
 * The private brands and tokens of symbolic values, defined once: a reference (`cfg.replicas`)
 * is an object branded with {@link REF}; raw CUE text is an object holding it under
 * {@link RAW}; a reference stringified inside a template literal becomes a token
 * `\u0000opmref:<n>\u0000`. `Symbol.for` keeps them equal across copies of the library.
 */

/** Brand of a reference object. */
export const REF = Symbol.for("opm-ts.ref");
/** Symbol under which a proxied reference exposes the reference it wraps. */
export const REF_SELF = Symbol.for("opm-ts.ref.self");
/** Key under which a raw-CUE value holds its text. */
export const RAW = Symbol.for("opm-ts.rawcue");
/** Start and end of the token a reference becomes inside a string. */
export const REF_TOKEN_START = "\u0000opmref:";
export const REF_TOKEN_END = "\u0000";
/** Every reference token in a string. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the NUL bytes delimit a token no author text can contain
export const REF_TOKEN_RE = /\u0000opmref:\d+\u0000/g;

/** Whether a value is a reference (a value only a release supplies). */
export function isRefValue(v: unknown): boolean {
  return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[REF] === true;
}

/** The CUE text of a raw-CUE value, or undefined for anything else. */
export function rawCueText(v: unknown): string | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const raw = (v as Record<symbol, unknown>)[RAW];
  return typeof raw === "string" ? raw : undefined;
}

/** Whether a string holds a reference token (a template literal with a reference in it). */
export function hasRefToken(s: string): boolean {
  return s.includes(REF_TOKEN_START);
}

/** A reference or raw CUE: its value is only known when CUE evaluates it. */
export function isSymbolic(v: unknown): boolean {
  return isRefValue(v) || rawCueText(v) !== undefined;
}
