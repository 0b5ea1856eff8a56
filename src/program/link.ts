import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ast from "../core/cue/ast.js";
import { CueSyntaxError, codeTokens, defaultAlias, readHeader, tokenize, type Header } from "../core/cue/lexer.js";
import { printDeclList, printImportBlock } from "../core/cue/print.js";
import { OpmError } from "../core/errors.js";
import { rewriteImports } from "./rewrite.js";

/** One CUE source file. */
export interface CueFile {
  /** Display name (a path relative to the current directory, or a virtual name). */
  name: string;
  text: string;
}

export interface ParsedFile {
  file: CueFile;
  package: string;
  imports: { alias: string; path: string }[];
  /** The file's text after the package clause and imports. */
  body: string;
  /** Lines before the body (so error lines can be mapped back). */
  bodyLine: number;
}

/** A CUE package: the files that share a package clause. */
export interface CuePackage {
  /** Import path, e.g. `opm.dev/catalog/core@v1`. */
  importPath: string;
  name: string;
  files: ParsedFile[];
}

export class LinkError extends OpmError {
  constructor(message: string) {
    super("link", message);
    this.name = "LinkError";
  }
  static override is(e: unknown): e is LinkError {
    return OpmError.is(e) && e.code === "link";
  }
}

const STDLIB = new Set([
  "crypto/sha256",
  "crypto/sha1",
  "crypto/md5",
  "crypto/sha512",
  "encoding/base64",
  "encoding/hex",
  "encoding/json",
  "encoding/yaml",
  "encoding/csv",
  "html",
  "list",
  "math",
  "math/bits",
  "net",
  "path",
  "regexp",
  "strconv",
  "strings",
  "struct",
  "text/tabwriter",
  "text/template",
  "time",
  "tool",
  "uuid",
]);

export function isStdlib(importPath: string): boolean {
  return STDLIB.has(importPath);
}

/** Parses a file's package clause and imports (with the one CUE lexer); the rest is kept as text. */
export function parseHeader(file: CueFile): ParsedFile {
  let h: Header;
  try {
    h = readHeader(file.text, file.name);
  } catch (e) {
    if (e instanceof CueSyntaxError) throw new LinkError(e.message);
    throw e;
  }
  const imports = h.imports.map((i) => ({ alias: i.alias ?? defaultAlias(i.path), path: i.path }));
  return { file, package: h.package, imports, body: file.text.slice(h.bodyOffset), bodyLine: h.bodyLine };
}

export { defaultAlias };

// ---------------------------------------------------------------- the catalog on disk

const here = path.dirname(fileURLToPath(import.meta.url));
/** The catalog folder shipped with the package. */
export const CATALOG_DIR = findCatalog();

function findCatalog(): string {
  for (const rel of ["../../catalog", "../../../catalog"]) {
    const p = path.resolve(here, rel);
    try {
      if (statSync(path.join(p, "core")).isDirectory()) return p;
    } catch {
      /* try the next */
    }
  }
  throw new Error("opm-ts: cannot find the catalog folder");
}

export const CATALOG_PREFIX = "opm.dev/catalog/";

/** Reads every `.cue` file of a folder (not recursive), sorted by name. */
export function readCueDir(dir: string, display = dir): CueFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".cue"))
    .sort()
    .map((f) => ({ name: path.join(display, f), text: readFileSync(path.join(dir, f), "utf8") }));
}

const catalogCache = new Map<string, CuePackage>();

/** Loads a catalog package by import path, e.g. `opm.dev/catalog/traits@v1`. */
export function catalogPackage(importPath: string): CuePackage | undefined {
  if (!importPath.startsWith(CATALOG_PREFIX)) return undefined;
  const cached = catalogCache.get(importPath);
  if (cached) return cached;
  const rel = importPath.slice(CATALOG_PREFIX.length).replace(/@v\d+$/, "");
  const dir = path.join(CATALOG_DIR, rel);
  let files: CueFile[];
  try {
    files = readCueDir(dir, path.join("catalog", rel));
  } catch {
    return undefined;
  }
  if (!files.length) return undefined;
  const parsed = files.map(parseHeader);
  const pkg: CuePackage = { importPath, name: parsed[0]!.package, files: parsed };
  catalogCache.set(importPath, pkg);
  return pkg;
}

/** Every catalog package import path (folders under catalog/ holding .cue files). */
export function catalogPackagePaths(): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    const entries = readdirSync(dir, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && e.name.endsWith(".cue"))) out.push(`${CATALOG_PREFIX}${rel}@v1`);
    for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name), rel ? `${rel}/${e.name}` : e.name);
  };
  walk(CATALOG_DIR, "");
  return out.sort();
}

// ---------------------------------------------------------------- linking

/** The hidden field a package's contents live under in a linked program. */
export function packageField(importPath: string): string {
  return "_pkg_" + importPath.replace(/@v(\d+)$/, "_v$1").replace(/[^A-Za-z0-9]+/g, "_");
}

export interface LinkResult {
  /** The whole program: stdlib imports, then one hidden field per package, then `extra`. */
  source: string;
  /** Hidden field name per import path. */
  fields: Map<string, string>;
}

/**
 * Links packages into one CUE program the engine can evaluate (it takes a single
 * source and knows only the standard library). Each package becomes a hidden field;
 * its imports of other packages become `let` bindings to those fields.
 * `resolve` finds a package that is not in the catalog (the module being built).
 * Packages named in `inline` (no other package may import them) are not emitted as
 * fields: their linked bodies are handed to `extra`, which places them where they are
 * used, so that they are evaluated once rather than once as a field and again where
 * they are referenced (CUE v0.4.3 re-evaluates a struct wherever it is referenced).
 * `packages` replaces packages by import path before the catalog is asked (the reduced
 * packages of `shake()`, so that only what the program uses is linked).
 */
export function link(
  roots: CuePackage[],
  extra: string | ((inlined: ReadonlyMap<string, string>) => string),
  resolve: (importPath: string) => CuePackage | undefined = () => undefined,
  inline: ReadonlySet<string> = new Set(),
  packages: ReadonlyMap<string, CuePackage> = new Map(),
  asLet: (importPath: string) => boolean = () => false,
): LinkResult {
  const find = (importPath: string) => packages.get(importPath) ?? catalogPackage(importPath) ?? resolve(importPath);
  const linked = new Map<string, CuePackage>();
  const stdlib = new Map<string, string>();
  const visit = (pkg: CuePackage) => {
    if (linked.has(pkg.importPath)) return;
    linked.set(pkg.importPath, pkg);
    for (const f of pkg.files) {
      for (const imp of f.imports) {
        if (isStdlib(imp.path)) {
          const prev = stdlib.get(imp.alias);
          if (prev && prev !== imp.path) throw new LinkError(`${f.file.name}: "${imp.alias}" names both "${prev}" and "${imp.path}" in linked packages`);
          stdlib.set(imp.alias, imp.path);
          continue;
        }
        const dep = find(imp.path);
        if (!dep) throw new LinkError(`${f.file.name}: cannot find package "${imp.path}"`);
        if (inline.has(dep.importPath)) throw new LinkError(`${f.file.name}: package "${imp.path}" cannot be imported here`);
        visit(dep);
      }
    }
  };
  roots.forEach(visit);
  const fields = new Map<string, string>();
  for (const p of linked.keys()) fields.set(p, packageField(p));
  const inlined = new Map<string, string>();
  const packageDecls: [string, string][] = [];
  const parts: string[] = [];
  if (stdlib.size) {
    parts.push(
      printImportBlock([...stdlib].sort(([a], [b]) => a.localeCompare(b)).map(([alias, p]) => (alias === defaultAlias(p) ? { path: p } : { alias, path: p }))),
    );
  }
  for (const [importPath, pkg] of [...linked].sort(([a], [b]) => a.localeCompare(b))) {
    // An import's name belongs to its file (two files may give one name to two packages).
    const aliasesOf = (f: ParsedFile) => {
      const lets = new Map<string, string>();
      for (const imp of f.imports) if (!isStdlib(imp.path)) lets.set(imp.alias, fields.get(find(imp.path)!.importPath)!);
      return lets;
    };
    const bodies = pkg.files.map((f) => `// ${f.file.name}\n${rewriteImports(f.body.trim(), aliasesOf(f))}`).join("\n\n");
    if (inline.has(importPath)) inlined.set(importPath, bodies);
    else packageDecls.push([importPath, bodies]);
  }
  const tail = typeof extra === "string" ? extra : extra(inlined);
  // A package asked for as a `let` (its errors then fail only what reads it) is one only when
  // something refers to it: an unreferenced `let` is an error in CUE.
  let tailIdents: Set<string> | undefined;
  const referenced = (importPath: string): boolean => {
    const field = fields.get(importPath)!;
    if (
      [...linked.values()].some(
        (p) => p.importPath !== importPath && p.files.some((f) => f.imports.some((i) => !isStdlib(i.path) && find(i.path)?.importPath === importPath)),
      )
    )
      return true;
    tailIdents ??= new Set(codeTokens(tokenize(tail)).map((t) => t.text));
    return tailIdents.has(field);
  };
  for (const [importPath, bodies] of packageDecls) {
    const value = ast.struct([ast.embed(ast.raw(bodies))]);
    const field = fields.get(importPath)!;
    parts.push(printDeclList([asLet(importPath) && referenced(importPath) ? ast.letDecl(field, value) : ast.field(field, value)]));
  }
  parts.push(tail);
  return { source: parts.join("\n\n") + "\n", fields };
}
