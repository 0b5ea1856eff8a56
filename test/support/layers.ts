/**
 * The layer rules of the source tree, checked on the import graph (test/layers.test.ts).
 *
 *   src/core                      nothing of ours
 *   dsl/, src/engine              src/core
 *   src/program                   + dsl, src/engine
 *   src/render                    + src/program
 *   src/apply, src/testing        + src/render
 *   src/cli                       + src/apply, src/testing
 *   src/index.ts (entry barrel)   everything below src/apply
 *
 * Only src/apply imports `@kubernetes/client-node`; nothing in src/ or dsl/ imports codegen/.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export interface Layer {
  name: string;
  /** Path prefixes (relative to the repository, `/`-separated) of the files in the layer. */
  roots: string[];
  /** Layers this one may import (its own files always may). */
  uses: string[];
}

export const LAYERS: Layer[] = [
  { name: "core", roots: ["src/core/"], uses: [] },
  { name: "dsl", roots: ["dsl/"], uses: ["core"] },
  { name: "engine", roots: ["src/engine/"], uses: ["core"] },
  { name: "program", roots: ["src/program/"], uses: ["core", "dsl", "engine"] },
  { name: "render", roots: ["src/render/"], uses: ["core", "dsl", "engine", "program"] },
  { name: "apply", roots: ["src/apply/"], uses: ["core", "dsl", "engine", "program", "render"] },
  { name: "testing", roots: ["src/testing/"], uses: ["core", "dsl", "engine", "program", "render"] },
  { name: "cli", roots: ["src/cli/"], uses: ["core", "dsl", "engine", "program", "render", "apply", "testing"] },
  { name: "entry", roots: ["src/index.ts"], uses: ["core", "dsl", "engine", "program", "render"] },
  { name: "codegen", roots: ["codegen/"], uses: ["core", "dsl", "engine", "program"] },
];

/** Bare package names only some layers may import. */
export const RESTRICTED_PACKAGES: Record<string, string[]> = {
  "@kubernetes/client-node": ["apply"],
  typescript: ["codegen"],
};

/** One import of one file: `from` and `to` are repository paths (or a bare package name for `to`). */
export interface Edge {
  from: string;
  to: string;
  line: number;
}

export interface Violation extends Edge {
  message: string;
}

function layerOf(file: string, layers: Layer[]): Layer | undefined {
  let best: Layer | undefined;
  let len = -1;
  for (const l of layers) {
    for (const r of l.roots) {
      if ((file === r || file.startsWith(r)) && r.length > len) {
        best = l;
        len = r.length;
      }
    }
  }
  return best;
}

/** Every edge that breaks a rule, with a message naming the file, its line, both layers and the rule. */
export function checkLayers(edges: Iterable<Edge>, layers: Layer[] = LAYERS, restricted: Record<string, string[]> = RESTRICTED_PACKAGES): Violation[] {
  const out: Violation[] = [];
  for (const e of edges) {
    const from = layerOf(e.from, layers);
    if (!from) continue;
    const at = `${e.from}:${e.line}`;
    const pkg = Object.keys(restricted).find((p) => e.to === p || e.to.startsWith(p + "/"));
    if (pkg) {
      if (!restricted[pkg]!.includes(from.name))
        out.push({ ...e, message: `${at}: ${from.name} imports ${pkg}, which only ${restricted[pkg]!.join(", ")} may import` });
      continue;
    }
    const to = layerOf(e.to, layers);
    if (!to) {
      if (/^(src|dsl|codegen|test|bench|scripts|examples)\//.test(e.to))
        out.push({ ...e, message: `${at}: ${from.name} imports ${e.to}, which belongs to no layer it may use` });
      continue;
    }
    if (to === from || from.uses.includes(to.name)) continue;
    const below = layers.indexOf(to) > layers.indexOf(from);
    out.push({
      ...e,
      message: `${at}: ${from.name} imports ${e.to} (${to.name}), ${below ? "a layer above it" : "a layer it may not use"}; ${from.name} may use ${from.uses.join(", ") || "nothing of ours"}`,
    });
  }
  return out;
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[\w*${}\s,]+?\s+from\s+)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** The imports of one source text (static, re-exports, side-effect and literal dynamic imports). */
export function importsOf(text: string): { spec: string; line: number }[] {
  const out: { spec: string; line: number }[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2]!;
    out.push({ spec, line: text.slice(0, m.index! + m[0].length).split("\n").length });
  }
  return out;
}

function walk(dir: string, root: string, out: string[]): void {
  for (const e of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) walk(rel, root, out);
    else if (/\.(ts|mts|js|mjs)$/.test(e.name) && !e.name.endsWith(".d.ts")) out.push(rel);
  }
}

/** The import graph of the repository's layered folders: relative imports resolved to repository paths. */
export function importGraph(root: string, dirs = ["src", "dsl", "codegen"]): Edge[] {
  const files: string[] = [];
  for (const d of dirs) walk(d, root, files);
  const edges: Edge[] = [];
  for (const f of files) {
    for (const { spec, line } of importsOf(readFileSync(path.join(root, f), "utf8"))) {
      if (spec.startsWith("node:")) continue;
      const to = spec.startsWith(".") ? path.posix.normalize(path.posix.join(path.posix.dirname(f), spec)) : spec;
      edges.push({ from: f, to, line });
    }
  }
  return edges;
}
