import { CueSyntaxError, tokenize, type Token } from "../core/cue/lexer.js";

/**
 * Rewrites references to imported packages (`alias.#Def`, or an alias used as a value)
 * into references to the hidden fields that hold those packages in a linked program.
 * Read with the one CUE lexer, so comments and string literals are left alone while the
 * expressions inside string interpolations are rewritten. A label (`alias: …`) and a
 * selector (`x.alias`) are not references. Text the lexer cannot read is returned as is
 * (the engine then reports the syntax error in its own words).
 */
export function rewriteImports(body: string, aliases: ReadonlyMap<string, string>): string {
  if (aliases.size === 0) return body;
  let tokens: Token[];
  try {
    tokens = tokenize(body).filter((t) => t.kind !== "comment");
  } catch (e) {
    if (e instanceof CueSyntaxError) return body;
    throw e;
  }
  let out = "";
  let at = 0;
  for (let j = 0; j < tokens.length; j++) {
    const t = tokens[j]!;
    const target = t.kind === "ident" ? aliases.get(t.text) : undefined;
    if (!target) continue;
    const prev = tokens[j - 1];
    const next = tokens[j + 1];
    if (prev?.kind === "punct" && prev.text === ".") continue;
    const isLabel = next?.kind === "punct" && (next.text === ":" || (next.text === "?" && tokens[j + 2]?.text === ":"));
    if (isLabel) continue;
    out += body.slice(at, t.start) + target;
    at = t.end;
  }
  return out + body.slice(at);
}
