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
  for (const f of pkg.files)
    for (const i of f.imports) {
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

/** What matching reads of a component: its labels and the FQNs of its resources and traits. */
export interface MatchSubject {
  labels: Record<string, string>;
  resources: ReadonlySet<string> | readonly string[];
  traits: ReadonlySet<string> | readonly string[];
}

const has = (xs: ReadonlySet<string> | readonly string[], x: string) => ("has" in xs ? xs.has(x) : xs.includes(x));

/**
 * What a component lacks for a transformer, by the rules `core.#Match` applies (required
 * labels equal, required resources and traits present): empty when the transformer matches.
 * The one TypeScript copy of those rules.
 */
export function missingFor(c: MatchSubject, r: TransformerRule): string[] {
  return [
    ...Object.entries(r.requiredLabels)
      .filter(([k, v]) => c.labels[k] !== v)
      .map(([k, v]) => `label ${k}=${v}`),
    ...r.requiredResources.filter((f) => !has(c.resources, f)).map((f) => `resource ${f}`),
    ...r.requiredTraits.filter((f) => !has(c.traits, f)).map((f) => `trait ${f}`),
  ];
}

/** The transformers closest to matching a component that none matches, each with what it needs. */
export function nearestTransformers(c: MatchSubject, rules: Record<string, TransformerRule>): string {
  // Transformers whose required resources the component has come first, then fewer missing things.
  const ranked = Object.entries(rules)
    .map(([tn, t]) => ({ tn, resources: t.requiredResources.filter((f) => !has(c.resources, f)).length, missing: missingFor(c, t) }))
    .sort((a, b) => a.resources - b.resources || a.missing.length - b.missing.length || a.tn.localeCompare(b.tn));
  return ranked
    .slice(0, 6)
    .map((r) => `${r.tn} needs ${r.missing.join(", ")}`)
    .join("; ");
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
      .filter(([, r]) => missingFor({ labels, resources: fqns, traits: fqns }, r).length === 0)
      .map(([tn]) => tn);
  }
  return out;
}
