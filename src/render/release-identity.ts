/**
 * `--name` / `-n` / `--cluster-domain` on a folder of CUE files that holds its own release
 * package: the flags win over the release's `metadata.name` / `metadata.namespace` /
 * `clusterDomain` (as values files win over its values). CUE cannot override a concrete field, so the literal in the
 * release file is replaced; a name the file computes (not a plain string) is refused.
 */
import { OpmError } from "../core/errors.js";
import { CueSyntaxError, tokenize, type Token } from "../core/cue/lexer.js";
import * as ast from "../core/cue/ast.js";
import { printFile } from "../core/cue/print.js";
import { quoteString } from "../core/cue/quote.js";
import type { CueSourceFile } from "../../dsl/module.js";

/**
 * The text with comments and the insides of string literals (interpolations included)
 * blanked, same length and offsets; undefined when the lexer cannot read it (the engine
 * then reports the syntax error).
 */
function mask(text: string): string | undefined {
  let tokens: Token[];
  try {
    tokens = tokenize(text);
  } catch (e) {
    if (e instanceof CueSyntaxError) return undefined;
    throw e;
  }
  const out = text.split("");
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  let depth = 0;
  let open = 0;
  for (const t of tokens) {
    if (t.kind === "comment") blank(t.start, t.end);
    else if (t.kind === "string" && depth === 0) blank(t.start + 1, t.end - 1);
    else if (t.kind === "interpStart") {
      if (depth++ === 0) open = t.start;
    } else if (t.kind === "interpEnd" && --depth === 0) blank(open + 1, t.end - 1);
  }
  return out.join("");
}

/** Offset of the `}` closing the `{` at `open` in masked text. */
function closing(masked: string, open: number): number {
  let depth = 0;
  for (let i = open; i < masked.length; i++) {
    if (masked[i] === "{") depth++;
    else if (masked[i] === "}" && --depth === 0) return i;
  }
  return masked.length;
}

interface Site {
  field: "name" | "namespace" | "clusterDomain";
  /** Start and end of the value expression's first token. */
  start: number;
  end: number;
  literal: boolean;
}

/** Where `metadata.name` / `metadata.namespace` are set in a file of the release package. */
function identitySites(text: string): Site[] {
  const m = mask(text);
  const sites: Site[] = [];
  if (m === undefined) return sites;
  const value = (field: Site["field"], at: number) => {
    const lit = /^"(?:[^"\\\n]|\\.)*"(?=\s*(?:$|[,}\n]|\/\/))/.exec(text.slice(at));
    sites.push({ field, start: at, end: at + (lit ? lit[0].length : 0), literal: Boolean(lit) });
  };
  const domain = /(?<![\w#$.])clusterDomain\s*:\s*/g;
  for (let hit = domain.exec(m); hit; hit = domain.exec(m)) value("clusterDomain", hit.index + hit[0].length);
  const meta = /(?<![\w#$])metadata\s*:\s*/g;
  for (let hit = meta.exec(m); hit; hit = meta.exec(m)) {
    const after = hit.index + hit[0].length;
    const direct = /^(name|namespace)\s*:\s*/.exec(m.slice(after));
    if (direct) {
      value(direct[1] as Site["field"], after + direct[0].length);
      continue;
    }
    if (m[after] !== "{") continue;
    const end = closing(m, after);
    let depth = 0;
    for (let i = after + 1; i < end; i++) {
      const c = m[i];
      if (c === "{" || c === "[" || c === "(") depth++;
      else if (c === "}" || c === "]" || c === ")") depth--;
      else if (depth === 0 && /[\s,{]/.test(m[i - 1]!)) {
        const f = /^(name|namespace)\s*:\s*/.exec(m.slice(i, end));
        if (f) {
          value(f[1] as Site["field"], i + f[0].length);
          i += f[0].length - 1;
        }
      }
    }
  }
  return sites;
}

/**
 * Returns the release package's files with `metadata.name` / `metadata.namespace`
 * replaced by the given values; a field no file sets is added in a file of its own.
 */
export function overrideReleaseIdentity(
  files: readonly CueSourceFile[],
  isRelease: (f: CueSourceFile) => boolean,
  identity: { name?: string; namespace?: string; clusterDomain?: string },
  extraFileName: string,
): CueSourceFile[] {
  const wanted = Object.entries(identity).filter(([, v]) => v !== undefined) as [Site["field"], string][];
  if (!wanted.length) return [...files];
  const found = new Set<string>();
  const out = files.map((f) => {
    if (!isRelease(f)) return f;
    const sites = identitySites(f.text).filter((s) => identity[s.field] !== undefined);
    let text = f.text;
    for (const s of [...sites].sort((a, b) => b.start - a.start)) {
      found.add(s.field);
      if (!s.literal) {
        const flag = s.field === "name" ? "--name" : s.field === "namespace" ? "-n/--namespace" : "--cluster-domain";
        const line = f.text.slice(0, s.start).split("\n").length;
        throw Object.assign(
          new OpmError(
            "usage",
            `${flag} cannot replace ${s.field === "clusterDomain" ? "" : "metadata."}${s.field} in ${f.name}:${line}: the file sets it to an expression, not a plain string; edit the file or drop the flag`,
          ),
          { exitCode: 2 },
        );
      }
      text = text.slice(0, s.start) + quoteString(identity[s.field]!) + text.slice(s.end);
    }
    return text === f.text ? f : { ...f, text };
  });
  const missing = wanted.filter(([k]) => !found.has(k));
  if (missing.length) {
    const meta = missing.filter(([k]) => k !== "clusterDomain");
    const domain = missing.find(([k]) => k === "clusterDomain");
    const decls = [
      ...(meta.length ? [ast.field("metadata", ast.struct(meta.map(([k, v]) => ast.field(k, ast.lit(v)))))] : []),
      ...(domain ? [ast.field("clusterDomain", ast.lit(domain[1]))] : []),
    ];
    out.push({ name: extraFileName, text: printFile(ast.file("release", [], decls)) });
  }
  return out;
}
