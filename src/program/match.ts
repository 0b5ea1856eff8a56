import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ModuleRelease } from "../../dsl/module.js";
import { cacheFile, type Engine } from "../engine/engine.js";
import { catalogPackage, link, packageField, type CuePackage } from "./link.js";
import { sha256 } from "../core/hash.js";
import * as ast from "../core/cue/ast.js";
import { printDeclList } from "../core/cue/print.js";

/** What a transformer requires of a component (its match rules). */
export interface TransformerRule {
  requiredLabels: Record<string, string>;
  requiredResources: string[];
  requiredTraits: string[];
}

const memory = new Map<string, Promise<Record<string, TransformerRule>>>();

/** Every package a package depends on (itself included), for a content key. */
function closure(pkg: CuePackage, seen = new Map<string, CuePackage>()): Map<string, CuePackage> {
  if (seen.has(pkg.importPath)) return seen;
  seen.set(pkg.importPath, pkg);
  for (const f of pkg.files) for (const i of f.imports) {
    const dep = catalogPackage(i.path);
    if (dep) closure(dep, seen);
  }
  return seen;
}

/**
 * The match rules of every transformer of a provider, evaluated by the engine once per
 * process (and cached on disk, keyed by the provider's CUE text, for the next process).
 */
export function transformerRules(engine: Engine, provider: string): Promise<Record<string, TransformerRule>> {
  const pkg = catalogPackage(provider);
  if (!pkg) return Promise.reject(new Error(`unknown provider package ${provider}`));
  const key = sha256([...closure(pkg).values()].flatMap((p) => p.files.map((f) => f.file.text)).join("\u0000")).slice(0, 16);
  const cached = memory.get(key);
  if (cached) return cached;
  const file = cacheFile(`rules-${key}.json`);
  const load = (async () => {
    if (file) {
      try {
        return JSON.parse(readFileSync(file, "utf8")) as Record<string, TransformerRule>;
      } catch {
        /* not cached yet */
      }
    }
    const t = ast.ident("t");
    const rule = ast.struct((["requiredLabels", "requiredResources", "requiredTraits"] as const).map((k) => ast.field(k, ast.sel(t, k))));
    const each = ast.comprehension(
      [{ kind: "for", key: "tn", value: "t", source: ast.sel(ast.ident(packageField(provider)), "#Provider", "transformers") }],
      ast.struct([ast.field({ dynamic: ast.ident("tn") }, rule)]),
    );
    const { source } = link([pkg], printDeclList([ast.field("out", ast.struct([each]))]));
    const rules = (await engine.eval<{ out: Record<string, TransformerRule> }>(source)).out;
    if (file) {
      try {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, JSON.stringify(rules));
      } catch {
        /* a read-only install: keep it in memory only */
      }
    }
    return rules;
  })();
  memory.set(key, load);
  load.catch(() => memory.delete(key));
  return load;
}

/**
 * The transformers that match each component of a TypeScript release, by the same rules
 * `core.#Match` applies (required labels equal, required resources and traits present).
 * Undefined when the release uses transformers defined in TypeScript (CUE matches then).
 */
export function matchRelease(rel: ModuleRelease<any>, rules: Record<string, TransformerRule>): Record<string, string[]> | undefined {
  if (rel.module.transformers.length) return undefined;
  const out: Record<string, string[]> = {};
  for (const [name, c] of Object.entries(rel.module.components())) {
    const { labels, fqns } = c.summary();
    out[name] = Object.entries(rules)
      .filter(([, r]) => Object.entries(r.requiredLabels).every(([k, v]) => labels[k] === v) && r.requiredResources.every((f) => fqns.has(f)) && r.requiredTraits.every((f) => fqns.has(f)))
      .map(([tn]) => tn);
  }
  return out;
}
