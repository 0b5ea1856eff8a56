import type { Clause, Decl, Expr, Field, File, Import } from "./ast.js";
import { defaultAlias } from "./lexer.js";
import { escapeInterpolationText, quoteLabel, quoteString } from "./quote.js";

/** Operator precedence for binary expressions (higher binds tighter). */
const PREC: Record<string, number> = {
  "|": 1,
  "&": 2,
  "||": 3,
  "&&": 4,
  "==": 5,
  "!=": 5,
  "<": 5,
  "<=": 5,
  ">": 5,
  ">=": 5,
  "=~": 5,
  "!~": 5,
  "+": 6,
  "-": 6,
  "*": 7,
  "/": 7,
};

function indentLines(text: string, indent: string): string {
  return text
    .split("\n")
    .map((l) => (l.length ? indent + l : l))
    .join("\n");
}

function printDoc(doc: string, indent: string): string {
  return (
    doc
      .split("\n")
      .map((l) => `${indent}//${l ? " " + l : ""}`)
      .join("\n") + "\n"
  );
}

function printLabel(label: Field["label"]): string {
  if (typeof label === "string") return quoteLabel(label);
  if ("dynamic" in label) return `(${printExpr(label.dynamic, "")})`;
  return `[${printExpr(label.pattern, "")}]`;
}

function printClause(c: Clause, indent: string): string {
  switch (c.kind) {
    case "for":
      return `for ${c.key ? c.key + ", " : ""}${c.value} in ${printExpr(c.source, indent)}`;
    case "if":
      return `if ${printExpr(c.cond, indent)}`;
    case "let":
      return `let ${c.name} = ${printExpr(c.expr, indent)}`;
  }
}

function printDecl(d: Decl, indent: string): string {
  switch (d.kind) {
    case "Field": {
      const doc = d.doc ? printDoc(d.doc, indent) : "";
      // Collapse single-field structs into `a: b: c` chains for readability.
      let label = printLabel(d.label) + (d.optional ? "?" : "");
      let value = d.value;
      while (value.kind === "Struct" && value.decls.length === 1 && value.decls[0]!.kind === "Field" && !value.decls[0]!.doc) {
        const inner = value.decls[0] as Field;
        label += ": " + printLabel(inner.label) + (inner.optional ? "?" : "");
        value = inner.value;
      }
      return `${doc}${indent}${label}: ${printExpr(value, indent)}`;
    }
    case "Embed":
      return indent + printExpr(d.expr, indent);
    case "Let":
      return `${indent}let ${d.name} = ${printExpr(d.expr, indent)}`;
    case "Comment":
      return printDoc(d.text, indent).replace(/\n$/, "");
    case "Comprehension":
      return indent + printExpr(d, indent);
  }
}

/** Prints declarations one per line, aligning the values of consecutive one-line fields as `cue fmt` does. */
function printDecls(decls: readonly Decl[], indent: string, blankBetween = false): string {
  const printed = decls.map((d) => printDecl(d, indent));
  // Alignment: a run of consecutive one-line fields without doc comments.
  const labelEnd = printed.map((p, i) => {
    const d = decls[i]!;
    if (d.kind !== "Field" || d.doc || p.includes("\n")) return -1;
    const m = /^\t*((?:[^:"]|"(?:[^"\\]|\\.)*")+?):\s/.exec(p);
    return m ? m[0].length - 1 : -1;
  });
  let i = 0;
  while (i < printed.length) {
    if (labelEnd[i]! < 0 || blankBetween) {
      i++;
      continue;
    }
    let j = i;
    while (j < printed.length && labelEnd[j]! >= 0) j++;
    const width = Math.max(...labelEnd.slice(i, j));
    for (let k = i; k < j; k++) {
      const at = labelEnd[k]!;
      printed[k] = printed[k]!.slice(0, at) + " ".repeat(width - at + 1) + printed[k]!.slice(at + 1);
    }
    i = j;
  }
  return printed.join(blankBetween ? "\n\n" : "\n");
}

/** Prints an expression; `indent` is the indentation of the line it starts on. */
export function printExpr(e: Expr, indent = ""): string {
  switch (e.kind) {
    case "Ident":
      return e.name;
    case "Lit":
      if (e.value === null) return "null";
      if (typeof e.value === "string") return quoteString(e.value);
      if (typeof e.value === "number") {
        if (e.float && Number.isInteger(e.value)) return `${e.value}.0`;
        return String(e.value);
      }
      return String(e.value);
    case "Struct":
      if (e.decls.length === 0) return "{}";
      return `{\n${printDecls(e.decls, indent + "\t")}\n${indent}}`;
    case "List": {
      const items = [...e.elems.map((x) => printExpr(x, indent + "\t"))];
      if (e.rest) items.push(`...${e.rest.kind === "Ident" && e.rest.name === "_" ? "" : printExpr(e.rest, indent + "\t")}`);
      if (items.length === 0) return "[]";
      const oneLine = `[${items.join(", ")}]`;
      if (!oneLine.includes("\n") && oneLine.length <= 80) return oneLine;
      return `[\n${items.map((i) => indent + "\t" + i + ",").join("\n")}\n${indent}]`;
    }
    case "Selector":
      return `${printExpr(e.x, indent)}.${quoteLabel(e.sel)}`;
    case "Index":
      return `${printExpr(e.x, indent)}[${printExpr(e.index, indent)}]`;
    case "Unary": {
      const inner = printExpr(e.x, indent);
      const wrap = e.x.kind === "Binary" ? `(${inner})` : inner;
      return `${e.op}${wrap}`;
    }
    case "Binary": {
      const p = PREC[e.op]!;
      const side = (x: Expr, right: boolean) => {
        const s = printExpr(x, indent);
        if (x.kind === "Binary") {
          const q = PREC[x.op]!;
          if (q < p || (right && q === p && x.op !== e.op)) return `(${s})`;
        }
        return s;
      };
      return `${side(e.x, false)} ${e.op} ${side(e.y, true)}`;
    }
    case "Call":
      return `${printExpr(e.fn, indent)}(${e.args.map((a) => printExpr(a, indent)).join(", ")})`;
    case "Paren":
      return `(${printExpr(e.x, indent)})`;
    case "Interp":
      return `"${e.parts.map((p) => (typeof p === "string" ? escapeInterpolationText(p) : `\\(${printExpr(p, indent)})`)).join("")}"`;
    case "Comprehension":
      return `${e.clauses.map((c) => printClause(c, indent)).join(" ")} ${printExpr(e.body, indent)}`;
    case "Raw": {
      const lines = e.text.replace(/^\n+|\s+$/g, "").split("\n");
      const common = Math.min(...lines.filter((l) => l.trim()).map((l) => /^\s*/.exec(l)![0].length));
      const body = lines.map((l) => l.slice(Number.isFinite(common) ? common : 0));
      return body.map((l, i) => (i === 0 || !l ? l : indent + l)).join("\n");
    }
  }
}

/**
 * Prints declarations at the top level of a program that has no package clause (a linked
 * program's own fields), one blank line between them.
 */
export function printDeclList(decls: readonly Decl[]): string {
  return printDecls(decls, "", true);
}

/** Prints imports as one parenthesised block, in the order given. */
export function printImportBlock(imports: readonly Import[]): string {
  return `import (\n${imports.map((i) => `\t${i.alias ? i.alias + " " : ""}${quoteString(i.path)}`).join("\n")}\n)`;
}

/**
 * A file printed together with what its header says (package, imports with their aliases,
 * the body after the imports), so that no reader has to parse it again.
 */
export interface PrintedFile {
  /** The file as printed. */
  file: { name: string; text: string };
  package: string;
  /** Every import with the alias it is known by (its default alias when none is written). */
  imports: { alias: string; path: string }[];
  /** The text after the package clause and imports. */
  body: string;
  /** Lines before the body. */
  bodyLine: number;
}

/** Prints a file (see {@link printFile}) and keeps its header as data. */
export function printSourceFile(name: string, f: File): PrintedFile {
  const { text, bodyOffset } = printParts(f);
  return {
    file: { name, text },
    package: f.package,
    imports: sortedImports(f).map((i) => ({ alias: i.alias ?? defaultAlias(i.path), path: i.path })),
    body: text.slice(bodyOffset),
    bodyLine: text.slice(0, bodyOffset).split("\n").length - 1,
  };
}

/** Prints a whole CUE file, canonically formatted. */
export function printFile(f: File): string {
  return printParts(f).text;
}

/** Imports in the order they are printed. */
const sortedImports = (f: File): Import[] => [...f.imports].sort((a, b) => a.path.localeCompare(b.path));

function printParts(f: File): { text: string; bodyOffset: number } {
  const parts: string[] = [];
  if (f.doc) parts.push(printDoc(f.doc, "").trimEnd());
  parts.push(`package ${f.package}`);
  const imports = sortedImports(f);
  if (imports.length === 1) {
    const i = imports[0]!;
    parts.push(`import ${i.alias ? i.alias + " " : ""}${quoteString(i.path)}`);
  } else if (imports.length > 1) {
    parts.push(printImportBlock(imports));
  }
  const header = parts.join("\n\n");
  if (!f.decls.length) return { text: header + "\n", bodyOffset: header.length + 1 };
  return { text: header + "\n\n" + printDecls(f.decls, "", true) + "\n", bodyOffset: header.length + 2 };
}

export { indentLines };
