/** The one place where CUE strings and labels are quoted. */

const IDENT = /^[#_]*[A-Za-z_$][A-Za-z0-9_$]*$/;
const KEYWORDS = new Set(["package", "import", "for", "in", "if", "let", "true", "false", "null", "_|_"]);

/** Quotes a string as a CUE double-quoted string literal. */
export function quoteString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out + '"';
}

/** Escapes text for the literal part of an interpolated CUE string (no quotes added). */
export function escapeInterpolationText(s: string): string {
  return quoteString(s).slice(1, -1);
}

/** True if `s` can be written as a bare CUE identifier label. */
export function isIdentifier(s: string): boolean {
  return IDENT.test(s) && !KEYWORDS.has(s) && !s.startsWith("__");
}

/**
 * Prints a label: bare when it is an identifier (including `#Def` and `_hidden`),
 * quoted otherwise.
 */
export function quoteLabel(s: string): string {
  return isIdentifier(s) ? s : quoteString(s);
}

/** Quotes a regular expression for use after `=~` (a CUE string, raw-style escaping). */
export function quoteRegex(re: string): string {
  // CUE `#"..."#` strings keep backslashes as written.
  if (!re.includes('"#')) return `#"${re}"#`;
  return quoteString(re);
}
