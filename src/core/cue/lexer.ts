/**
 * The one CUE lexer (CUE v0.4.3 syntax), and the few things read with it: a file's header
 * (package clause and imports) and the top-level declarations of a body. Nothing else in
 * opm-ts scans CUE text by hand.
 *
 * Tokens cover the whole text except whitespace: identifiers (`x`, `#Def`, `_hidden`,
 * `#_x`, `_#x`, keywords), numbers, strings (`"…"`, `'…'`, multi-line `"""…"""`, raw
 * `#"…"#`), comments, attributes (`@go(x)`) and punctuation. An interpolated string
 * (`"a\(x)b"`) becomes an `interpStart` token (`"a\(`), the tokens of the expression, then
 * `interpMid` (`)…\(`) and finally `interpEnd` (`)b"`), so the expressions inside strings
 * are read like any other code.
 *
 * Size: over 400 lines because the tokenizer, the header reader and the declaration reader
 * share the token model and are the only CUE readers in the project (one place to parse).
 */
import { OpmError } from "../errors.js";

export type TokenKind = "ident" | "number" | "string" | "interpStart" | "interpMid" | "interpEnd" | "comment" | "attr" | "punct";

export interface Token {
  readonly kind: TokenKind;
  /** The token's text, exactly as written. */
  readonly text: string;
  /** Offsets into the text: `text.slice(start, end)` is the token. */
  readonly start: number;
  readonly end: number;
  /** 1-based line of the token's first character. */
  readonly line: number;
  /** True when a newline separates this token from the previous one (or it is the first). */
  readonly nl: boolean;
}

/** A text that is not CUE the lexer can read (an unterminated string, a stray character). */
export class CueSyntaxError extends OpmError {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super("link", message);
    this.name = "CueSyntaxError";
  }
}

const PUNCT = [
  "...",
  "_|_",
  "&&",
  "||",
  "==",
  "!=",
  "<=",
  ">=",
  "=~",
  "!~",
  "<-",
  ":",
  "?",
  "!",
  "=",
  "&",
  "|",
  "+",
  "-",
  "*",
  "/",
  "<",
  ">",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  ",",
  ".",
];
const NUMBER = /(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:[0-9][0-9_]*(?:\.(?![.])[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9_]+)?(?:[KMGTPEZY]i?)?)/y;
const IDENT = /[#_]*[\p{L}$_][\p{L}\p{Nd}$_]*/uy;

interface StringFrame {
  /** `"`, `"""`, `'` or `'''`, followed by as many `#` as the opening. */
  close: string;
  /** `\` followed by the opening's `#`s: the escape prefix. */
  escape: string;
  /** Parentheses open inside the current interpolation. */
  depth: number;
}

/** Splits CUE text into tokens (see the file comment); throws {@link CueSyntaxError} on text it cannot read. */
export function tokenize(text: string, name = "<cue>"): Token[] {
  return [...scan(text, name)];
}

/** The tokens of CUE text, one at a time (so a reader can stop early, before text it does not need). */
export function* scan(text: string, name = "<cue>"): Generator<Token, void, undefined> {
  const out: Token[] = [];
  const n = text.length;
  let i = 0;
  let line = 1;
  let nl = true;
  const frames: StringFrame[] = [];
  const fail = (what: string, at: number): never => {
    throw new CueSyntaxError(`${name}:${lineAt(text, at)}: ${what}`, lineAt(text, at));
  };
  const push = (kind: TokenKind, start: number, end: number) => {
    out.push({ kind, text: text.slice(start, end), start, end, line, nl });
    for (let k = start; k < end; k++) if (text.charCodeAt(k) === 10) line++;
    nl = false;
    i = end;
  };
  /** Scans string content from `i` (just after an opening or an interpolation's `)`) to its close or next interpolation. */
  const stringRest = (start: number, frame: StringFrame, first: boolean) => {
    let k = i;
    for (;;) {
      if (k >= n) fail("unterminated string", start);
      if (text.startsWith(frame.close, k)) {
        push(first ? "string" : "interpEnd", start, k + frame.close.length);
        return;
      }
      if (text.startsWith(frame.escape, k)) {
        if (text[k + frame.escape.length] === "(") {
          push(first ? "interpStart" : "interpMid", start, k + frame.escape.length + 1);
          frames.push({ ...frame, depth: 0 });
          return;
        }
        k += frame.escape.length + 1;
        continue;
      }
      if (text[k] === "\n" && frame.close.length - frame.close.replace(/^["']+/, "").length === 1) fail("newline in a single-line string", start);
      k++;
    }
  };
  for (;;) {
    while (out.length) yield out.shift()!;
    if (i >= n) break;
    const c = text[i]!;
    if (c === "\n") {
      nl = true;
      line++;
      i++;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r" || c === "\uFEFF") {
      i++;
      continue;
    }
    if (c === "/" && text[i + 1] === "/") {
      const e = text.indexOf("\n", i);
      const end = e === -1 ? n : e;
      push("comment", i, end);
      continue;
    }
    // Strings: optional `#`s, then a quote (a `#` followed by a letter is an identifier).
    const open = /(#*)("""|'''|"|')/y;
    open.lastIndex = i;
    const m = c === '"' || c === "'" || c === "#" ? open.exec(text) : null;
    if (m) {
      const hashes = m[1]!;
      const quote = m[2]!;
      const start = i;
      i += m[0].length;
      if (quote.length === 3) {
        // A multi-line string's content starts on the next line.
        const e = text.indexOf("\n", i);
        if (e === -1 || text.slice(i, e).trim() !== "") fail("a multi-line string must start on a new line after its opening quotes", start);
      }
      stringRest(start, { close: quote + hashes, escape: "\\" + hashes, depth: 0 }, true);
      continue;
    }
    const frame = frames[frames.length - 1];
    if (frame && c === ")" && frame.depth === 0) {
      frames.pop();
      const start = i;
      i++;
      stringRest(start, frame, false);
      continue;
    }
    if (c === "@") {
      // An attribute: `@name(...)`, parentheses balanced, strings skipped.
      const id = /@[\p{L}$_#][\p{L}\p{Nd}$_#]*/uy;
      id.lastIndex = i;
      const a = id.exec(text);
      if (!a) fail("unexpected @", i);
      let k = i + a![0].length;
      if (text[k] === "(") {
        let depth = 0;
        for (; k < n; k++) {
          const ch = text[k];
          if (ch === '"') {
            k++;
            while (k < n && text[k] !== '"') k += text[k] === "\\" ? 2 : 1;
          } else if (ch === "(") depth++;
          else if (ch === ")" && --depth === 0) break;
          else if (ch === "\n") fail("unterminated attribute", i);
        }
        if (k >= n) fail("unterminated attribute", i);
        k++;
      }
      push("attr", i, k);
      continue;
    }
    if (c === "_" && text.startsWith("_|_", i)) {
      push("punct", i, i + 3);
      continue;
    }
    IDENT.lastIndex = i;
    const id = IDENT.exec(text);
    if (id) {
      push("ident", i, i + id[0].length);
      continue;
    }
    if ((c >= "0" && c <= "9") || (c === "." && /[0-9]/.test(text[i + 1] ?? ""))) {
      NUMBER.lastIndex = i;
      const num = NUMBER.exec(text)!;
      push("number", i, i + num[0].length);
      continue;
    }
    const p = PUNCT.find((s) => text.startsWith(s, i));
    if (!p) fail(`unexpected character ${JSON.stringify(c)}`, i);
    if (frame) {
      if (p === "(") frame.depth++;
      else if (p === ")") frame.depth--;
    }
    push("punct", i, i + p!.length);
  }
  if (frames.length) fail("unterminated string interpolation", n);
}

/** 1-based line of an offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset && k < text.length; k++) if (text.charCodeAt(k) === 10) line++;
  return line;
}

/** Tokens other than comments. */
export function codeTokens(tokens: readonly Token[]): Token[] {
  return tokens.filter((t) => t.kind !== "comment");
}

/** The value of a plain string token (no interpolation), escapes resolved for the common cases. */
export function stringValue(t: Token): string {
  const m = /^(#*)("""|'''|"|')([\s\S]*)\2\1$/.exec(t.text);
  if (!m) throw new CueSyntaxError(`not a string: ${t.text}`, t.line);
  const hashes = m[1]!;
  let body = m[3]!;
  if (m[2]!.length === 3) {
    // Multi-line: drop the opening line and the closing line's indentation from every line.
    const indent = /\n([ \t]*)$/.exec(body)?.[1] ?? "";
    body = body
      .replace(/^[^\n]*\n/, "")
      .replace(/\n[ \t]*$/, "")
      .split("\n")
      .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
      .join("\n");
  }
  const esc = "\\" + hashes;
  let out = "";
  for (let k = 0; k < body.length; k++) {
    if (!body.startsWith(esc, k)) {
      out += body[k];
      continue;
    }
    k += esc.length;
    const ch = body[k];
    const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "'": "'", "\\": "\\", "/": "/", a: "\x07", b: "\b", f: "\f", v: "\v" };
    if (ch !== undefined && ch in simple) out += simple[ch];
    else if (ch === "u" || ch === "U") {
      const len = ch === "u" ? 4 : 8;
      out += String.fromCodePoint(parseInt(body.slice(k + 1, k + 1 + len), 16));
      k += len;
    } else out += esc + (ch ?? "");
  }
  return out;
}

// ---------------------------------------------------------------- the header of a file

export interface HeaderImport {
  /** The alias as written, if any. */
  alias?: string;
  path: string;
}

export interface Header {
  package: string;
  imports: HeaderImport[];
  /** Offset of the body: the first token after the imports that is not a comment (or the text's end). */
  bodyOffset: number;
  /** Lines before the body (0-based line of `bodyOffset`). */
  bodyLine: number;
}

/** The identifier an import is known by when it has no alias: its `:qualifier`, else its last path element (without `@vN`). */
export function defaultAlias(importPath: string): string {
  return (
    importPath.split(":")[1] ??
    importPath
      .replace(/@v\d+$/, "")
      .split("/")
      .pop()!
  );
}

/** Reads a file's package clause and imports; throws {@link CueSyntaxError} when there is no package clause. */
export function readHeader(text: string, name = "<cue>"): Header {
  // Only the header is read: the body may hold text the lexer cannot read (the engine reports it).
  const it = scan(text, name);
  const ahead: Token[] = [];
  /** The j-th code token from here, reading as far as needed. */
  const at = (j: number): Token | undefined => {
    while (ahead.length <= j) {
      const r = it.next();
      if (r.done) return undefined;
      if (r.value.kind !== "comment") ahead.push(r.value);
    }
    return ahead[j];
  };
  const take = () => ahead.shift()!;
  if (at(0)?.text !== "package" || at(1)?.kind !== "ident") throw new CueSyntaxError(`${name}: a CUE file must start with a package clause`, at(0)?.line ?? 1);
  take();
  const pkg = take().text;
  const imports: HeaderImport[] = [];
  const spec = (): void => {
    let alias: string | undefined;
    if (at(0)?.kind === "ident") alias = take().text;
    const s = at(0);
    if (s?.kind !== "string") throw new CueSyntaxError(`${name}:${s?.line ?? lineAt(text, text.length)}: cannot read the import`, s?.line ?? 1);
    take();
    imports.push({ ...(alias !== undefined ? { alias } : {}), path: stringValue(s) });
  };
  while (at(0)?.kind === "ident" && at(0)!.text === "import") {
    take();
    if (at(0)?.text === "(") {
      take();
      while (at(0) && at(0)!.text !== ")") {
        spec();
        if (at(0)?.text === ",") take();
      }
      if (!at(0)) throw new CueSyntaxError(`${name}: cannot read the import list`, lineAt(text, text.length));
      take();
    } else spec();
  }
  // The body starts at the next token that is not a comment.
  const first = at(0);
  const bodyOffset = first ? first.start : text.length;
  return { package: pkg, imports, bodyOffset, bodyLine: first ? first.line - 1 : lineAt(text, text.length) - 1 };
}

// ---------------------------------------------------------------- top-level declarations

export type DeclKind = "field" | "let" | "embed" | "comprehension";

/** A top-level declaration of a CUE body. */
export interface TopDecl {
  kind: DeclKind;
  /**
   * The name it declares: a field's label when it is an identifier or a plain string
   * (unquoted), a `let`'s name; undefined for embeddings, comprehensions and dynamic or
   * pattern labels.
   */
  label?: string;
  /** An optional field (`x?: …`). */
  optional?: boolean;
  /** The declaration's text, with the comments directly above it (no blank line between). */
  text: string;
  /** Offset of the text (its first comment, or the declaration). */
  docStart: number;
  /** Offset of the declaration itself (its label or keyword). */
  start: number;
  /** Offset just after its last token. */
  end: number;
  /** 1-based lines of `start` and of its last token. */
  line: number;
  endLine: number;
  /** The declaration's tokens (comments included, leading doc comments not). */
  tokens: Token[];
}

/** Tokens after which a newline ends a declaration (CUE's automatic comma). */
function endsLine(t: Token): boolean {
  if (t.kind === "ident" || t.kind === "number" || t.kind === "string" || t.kind === "interpEnd" || t.kind === "attr") return true;
  return t.text === ")" || t.text === "]" || t.text === "}" || t.text === "_|_" || t.text === "...";
}

/**
 * The top-level declarations of a CUE body (a file's text after its header, or a struct's
 * inside), in order. Declarations end at a comma or at a newline that CUE would read as one.
 */
export function topLevelDecls(body: string, name = "<cue>"): TopDecl[] {
  const tokens = tokenize(body, name);
  const out: TopDecl[] = [];
  let depth = 0;
  let cur: Token[] = [];
  let lastCode: Token | undefined;
  const flush = () => {
    const code = cur.filter((t) => t.kind !== "comment");
    if (code.length) out.push(describe(body, cur, tokens));
    cur = [];
    lastCode = undefined;
  };
  for (const t of tokens) {
    if (t.kind === "comment") {
      // A comment on a line of its own between declarations belongs to the next one.
      if (depth === 0 && t.nl && lastCode && endsLine(lastCode)) flush();
      if (cur.length || depth > 0) cur.push(t);
      continue;
    }
    if (depth === 0 && t.nl && lastCode && endsLine(lastCode)) flush();
    if (depth === 0 && t.text === ",") {
      flush();
      continue;
    }
    cur.push(t);
    lastCode = t;
    if (t.kind === "punct" && (t.text === "{" || t.text === "[" || t.text === "(")) depth++;
    else if (t.kind === "punct" && (t.text === "}" || t.text === "]" || t.text === ")")) depth--;
    else if (t.kind === "interpStart") depth++;
    else if (t.kind === "interpEnd") depth--;
  }
  flush();
  return out;
}

function describe(body: string, toks: Token[], all: readonly Token[]): TopDecl {
  const code = toks.filter((t) => t.kind !== "comment");
  const first = code[0]!;
  const last = toks[toks.length - 1]!;
  // Doc comments: the run of whole-line comments directly above, with no blank line between.
  let docStart = first.start;
  let idx = all.indexOf(first) - 1;
  let nextLine = first.line;
  while (idx >= 0 && all[idx]!.kind === "comment" && all[idx]!.nl && all[idx]!.line === nextLine - 1) {
    docStart = all[idx]!.start;
    nextLine = all[idx]!.line;
    idx--;
  }
  let kind: DeclKind = "embed";
  let label: string | undefined;
  let optional = false;
  // Skip a field alias (`X=label: …`).
  const lab = code[1]?.text === "=" && code[0]!.kind === "ident" && code[2] && code[0]!.text !== "let" ? 2 : 0;
  const l = code[lab]!;
  if (l.kind === "ident" && (l.text === "for" || l.text === "if") && code[lab + 1]?.text !== ":" && code[lab + 1]?.text !== "?") kind = "comprehension";
  else if (l.kind === "ident" && l.text === "let" && code[lab + 1]?.kind === "ident" && code[lab + 2]?.text === "=") {
    kind = "let";
    label = code[lab + 1]!.text;
  } else {
    const after = code[lab + 1]?.text === "?" || code[lab + 1]?.text === "!" ? lab + 2 : lab + 1;
    if (code[after]?.text === ":" && (l.kind === "ident" || l.kind === "string")) {
      kind = "field";
      if (l.kind === "ident") label = l.text;
      else if (l.kind === "string") label = stringValue(l);
      optional = code[lab + 1]?.text === "?";
    } else if (l.text === "(" || l.text === "[") {
      // A dynamic or pattern label: find the matching bracket, then expect `:`.
      let d = 0;
      let j = lab;
      for (; j < code.length; j++) {
        if (["(", "[", "{"].includes(code[j]!.text) || code[j]!.kind === "interpStart") d++;
        else if ([")", "]", "}"].includes(code[j]!.text) || code[j]!.kind === "interpEnd") d--;
        if (d === 0) break;
      }
      const nx = code[j + 1]?.text === "?" ? j + 2 : j + 1;
      if (code[nx]?.text === ":") kind = "field";
    }
  }
  return {
    kind,
    ...(label !== undefined ? { label } : {}),
    ...(optional ? { optional } : {}),
    text: body.slice(docStart, last.end),
    docStart,
    start: first.start,
    end: last.end,
    line: first.line,
    endLine: last.line + (last.text.split("\n").length - 1),
    tokens: toks,
  };
}
