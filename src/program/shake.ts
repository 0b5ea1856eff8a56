/**
 * Tree-shaking CUE packages: from root references (a package's top-level names, or a whole
 * package), the top-level declarations reachable across packages, and reduced packages
 * holding only those, so that `link()` links only what a program uses.
 *
 * A reference is an identifier naming a top-level declaration of its own package, or a
 * selector `alias.Name` through one of the file's import aliases. The analysis is
 * conservative: every identifier counts wherever it appears (inside comprehensions, `let`s,
 * string interpolations, nested structs, even when a nested field of the same name shadows
 * it), except labels (`x:`), selectors after a dot (`a.x`) and names being defined
 * (`X=`, `let x =`). An import alias used bare (`#module: alias`) keeps its whole package.
 * Declarations that declare no name (embeddings, top-level comprehensions, dynamic and
 * pattern labels) are kept whenever their package is reached at all.
 */
import { type Token, topLevelDecls, type TopDecl } from "../core/cue/lexer.js";
import { catalogPackage, isStdlib, type CuePackage, type ParsedFile } from "./link.js";

/** Where shaking starts: some top-level names of a package, or (no `names`) all of it. */
export interface ShakeRoot {
  importPath: string;
  names?: readonly string[];
}

export interface ShakeResult {
  /** The reduced packages, by import path (every package reached, roots included). */
  packages: Map<string, CuePackage>;
  /** The top-level names kept per package (`*` when the whole package is kept). */
  kept: Map<string, Set<string>>;
}

interface DeclInfo {
  decl: TopDecl;
  /** Names of this package it refers to. */
  local: Set<string>;
  /** Aliases of the file's imports it uses, each with the names selected (`*` when used bare). */
  aliases: Map<string, Set<string>>;
}

interface FileInfo {
  file: ParsedFile;
  /** Import path per alias. */
  imports: Map<string, string>;
  decls: DeclInfo[];
}

const analysed = new WeakMap<CuePackage, FileInfo[]>();

const KEYWORDS = new Set(["for", "in", "if", "let", "true", "false", "null", "package", "import", "_"]);

/** The references of one declaration (see the file comment for what counts). */
function references(tokens: readonly Token[], aliases: ReadonlyMap<string, string>): Omit<DeclInfo, "decl"> {
  const code = tokens.filter((t) => t.kind !== "comment");
  const local = new Set<string>();
  const used = new Map<string, Set<string>>();
  for (let j = 0; j < code.length; j++) {
    const t = code[j]!;
    if (t.kind !== "ident" || KEYWORDS.has(t.text)) continue;
    const prev = code[j - 1];
    const next = code[j + 1];
    if (prev?.kind === "punct" && prev.text === ".") continue;
    if (next?.kind === "punct" && (next.text === ":" || next.text === "=")) continue;
    if (next?.kind === "punct" && (next.text === "?" || next.text === "!") && code[j + 2]?.text === ":") continue;
    if (prev?.text === "let" && prev.kind === "ident") continue;
    if (aliases.has(t.text)) {
      const names = used.get(t.text) ?? new Set<string>();
      used.set(t.text, names);
      const name = code[j + 2];
      if (next?.kind === "punct" && next.text === "." && name?.kind === "ident") names.add(name.text);
      else names.add("*");
      continue;
    }
    local.add(t.text);
  }
  return { local, aliases: used };
}

/**
 * The declarations reachable from `roots`, and the packages reduced to them. `resolve`
 * finds a package by import path (default: the catalog); imports it cannot find (the
 * standard library) are left alone.
 */
export function shake(roots: readonly ShakeRoot[], resolve: (importPath: string) => CuePackage | undefined = catalogPackage): ShakeResult {
  const infos = new Map<string, { pkg: CuePackage; files: FileInfo[]; byName: Map<string, DeclInfo[]>; unnamed: DeclInfo[] }>();
  const info = (importPath: string) => {
    const have = infos.get(importPath);
    if (have) return have;
    const pkg = resolve(importPath);
    if (!pkg) return undefined;
    // A package's declarations are read once (catalog packages are shared objects).
    let files = analysed.get(pkg);
    if (!files) {
      files = pkg.files.map((f): FileInfo => {
        const imports = new Map(f.imports.map((i) => [i.alias, i.path] as const));
        const decls = topLevelDecls(f.body, f.file.name).map((decl) => ({ decl, ...references(decl.tokens, imports) }));
        return { file: f, imports, decls };
      });
      analysed.set(pkg, files);
    }
    const byName = new Map<string, DeclInfo[]>();
    const unnamed: DeclInfo[] = [];
    for (const f of files) {
      for (const d of f.decls) {
        if (d.decl.label === undefined) unnamed.push(d);
        else byName.set(d.decl.label, [...(byName.get(d.decl.label) ?? []), d]);
      }
    }
    const made = { pkg, files, byName, unnamed };
    infos.set(importPath, made);
    return made;
  };

  const kept = new Map<string, Set<string>>();
  const keptDecls = new Set<DeclInfo>();
  const queue: [string, string][] = [];
  const want = (importPath: string, name: string) => queue.push([importPath, name]);
  for (const r of roots) for (const n of r.names ?? ["*"]) want(r.importPath, n);

  const keepDecl = (importPath: string, f: FileInfo, d: DeclInfo) => {
    if (keptDecls.has(d)) return;
    keptDecls.add(d);
    for (const n of d.local) want(importPath, n);
    for (const [alias, names] of d.aliases) for (const n of names) want(f.imports.get(alias)!, n);
  };
  while (queue.length) {
    const [importPath, name] = queue.pop()!;
    if (isStdlib(importPath)) continue;
    const p = info(importPath);
    if (!p) continue;
    let names = kept.get(importPath);
    if (!names) {
      // A package reached at all keeps the declarations that declare no name.
      kept.set(importPath, (names = new Set()));
      for (const f of p.files) for (const d of f.decls) if (d.decl.label === undefined) keepDecl(importPath, f, d);
    }
    if (names.has("*") || names.has(name)) continue;
    // A name the package does not declare (a nested field, a builtin) keeps nothing more.
    if (name !== "*" && !p.byName.has(name)) continue;
    names.add(name);
    for (const f of p.files) for (const d of f.decls) if (name === "*" || d.decl.label === name) keepDecl(importPath, f, d);
  }

  const packages = new Map<string, CuePackage>();
  for (const [importPath] of kept) {
    const p = info(importPath)!;
    const files: ParsedFile[] = [];
    for (const f of p.files) {
      const decls = f.decls.filter((d) => keptDecls.has(d));
      if (!decls.length) continue;
      const usedAliases = new Set(decls.flatMap((d) => [...d.aliases.keys()]));
      files.push({
        file: f.file.file,
        package: f.file.package,
        imports: f.file.imports.filter((i) => usedAliases.has(i.alias)),
        body: decls.map((d) => d.decl.text).join("\n\n") + "\n",
        bodyLine: f.file.bodyLine,
      });
    }
    packages.set(importPath, { importPath, name: p.pkg.name, files });
  }
  return { packages, kept };
}
