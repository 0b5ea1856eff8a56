/**
 * Rewrites references to imported packages (`alias.#Def`) into references to the
 * hidden fields that hold those packages in a linked program. A small CUE lexer skips
 * comments and string literals but enters string interpolations.
 */
export function rewriteImports(body: string, aliases: ReadonlyMap<string, string>): string {
  if (aliases.size === 0) return body;
  let out = "";
  let i = 0;
  const n = body.length;
  const isIdStart = (c: string) => /[A-Za-z_$#]/.test(c);
  const isId = (c: string) => /[A-Za-z0-9_$#]/.test(c);

  // Scans code until `stop` (a closing paren at depth 0 when inside an interpolation).
  const code = (inInterp: boolean): void => {
    let depth = 0;
    let prev = ""; // last significant character emitted
    while (i < n) {
      const c = body[i]!;
      if (c === "/" && body[i + 1] === "/") {
        const end = body.indexOf("\n", i);
        const stop = end === -1 ? n : end;
        out += body.slice(i, stop);
        i = stop;
        continue;
      }
      if (c === '"' || (c === "#" && /^#+"/.test(body.slice(i, i + 8)))) {
        string();
        prev = '"';
        continue;
      }
      if (inInterp) {
        if (c === "(") depth++;
        if (c === ")") {
          if (depth === 0) return;
          depth--;
        }
      }
      if (isIdStart(c) && !(c === "#" && body[i + 1] === '"')) {
        let j = i + 1;
        while (j < n && isId(body[j]!)) j++;
        const word = body.slice(i, j);
        const target = aliases.get(word);
        // A package is referenced as `alias.X` or as a bare value (`#module: alias`), never as a label.
        const isLabel = /^\??\s*:/.test(body.slice(j, j + 3)) && body[j] !== "." ;
        if (target && prev !== "." && !isLabel) out += target;
        else out += word;
        i = j;
        prev = "a";
        continue;
      }
      out += c;
      // The last dot of an ellipsis (`[...alias.#T]`) is not a selector.
      if (!/\s/.test(c)) prev = c === "." && body.slice(i - 2, i) === ".." ? "…" : c;
      i++;
    }
  };

  const string = (): void => {
    let hashes = 0;
    while (body[i] === "#") {
      hashes++;
      out += "#";
      i++;
    }
    const multi = body.startsWith('"""', i);
    const quote = multi ? '"""' : '"';
    out += quote;
    i += quote.length;
    const close = quote + "#".repeat(hashes);
    const interp = "\\" + "#".repeat(hashes) + "(";
    while (i < n) {
      if (body.startsWith(close, i)) {
        out += close;
        i += close.length;
        return;
      }
      if (body.startsWith(interp, i)) {
        out += interp;
        i += interp.length;
        code(true);
        if (i < n) {
          out += ")";
          i++;
        }
        continue;
      }
      if (body[i] === "\\" && hashes === 0) {
        out += body.slice(i, i + 2);
        i += 2;
        continue;
      }
      out += body[i];
      i++;
    }
  };

  code(false);
  return out;
}
