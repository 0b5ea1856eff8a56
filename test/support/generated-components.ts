/**
 * Seeded, reproducible modules of generated components for the differential render test and
 * the benchmarks: every blueprint, resource and trait of the catalog appears, each spec is a
 * random valid value drawn from the catalog's own JSON schemas (read through the engine, as
 * `opm catalog` does), and the same seed always gives the same module.
 *
 * Values a schema cannot express (a port an Ingress routes to must be one the component
 * exposes, a mount must name a volume the component has, ...) are tied together after drawing.
 */
import * as catalog from "../../dsl/catalog.js";
import { defineModule, type Module } from "../../src/index.js";
import type { Engine } from "../../src/engine/engine.js";
import { isSecretSchema } from "../../src/core/schema.js";
import { catalogPackages, readIndex, readSchemas, specSchema, type CatalogEntry, type CatalogIndex, type JsonSchema } from "../../src/program/catalog-index.js";

/** What the generator reads from the catalog: the index and the spec schema of each entry. */
export interface GeneratorCatalog {
  index: CatalogIndex;
  /** Spec schema of a resource or trait (the value under its spec key). */
  spec: ReadonlyMap<string, JsonSchema>;
}

/** Reads the catalog once through the engine (the same index `opm catalog` shows). */
export async function readGeneratorCatalog(engine: Engine): Promise<GeneratorCatalog> {
  const packages = catalogPackages();
  const index = await readIndex(engine, packages);
  const set = await readSchemas(engine, packages, (p) => !p.importPath.includes("/providers/"));
  const spec = new Map<string, JsonSchema>();
  for (const e of [...index.resources, ...index.traits]) {
    const s = specSchema(set, e);
    if (s) spec.set(e.fqn, s);
  }
  return { index, spec };
}

/** mulberry32: a small, fast, seeded PRNG (the same seed gives the same sequence everywhere). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

const WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];

/** Candidate strings for a pattern, tried in order; the first one the pattern accepts is used. */
const PATTERN_CANDIDATES = [
  "alpha",
  "a1",
  "ALPHA_1",
  "example.com",
  "/data",
  "128Mi",
  "250m",
  "1Gi",
  "*/5 * * * *",
  "@daily",
  "10s",
  "10%",
  "1",
  "nginx:1.27",
  "registry.example.com/app:1.0.0",
  "a",
];

function stringFor(s: JsonSchema, key: string, r: Rand): string {
  if (typeof s.pattern === "string") {
    const re = new RegExp(s.pattern);
    const ok = PATTERN_CANDIDATES.filter((c) => re.test(c));
    if (!ok.length) throw new Error(`generator: no candidate string matches pattern ${s.pattern} (field ${key})`);
    return pick(r, ok);
  }
  if (/image$/i.test(key)) return pick(r, ["nginx:1.27", "registry.example.com/app:1.0.0", "busybox:1.36"]);
  if (/path$/i.test(key)) return pick(r, ["/data", "/var/run/app", "/cache"]);
  const w = pick(r, WORDS);
  const min = typeof s.minLength === "number" ? s.minLength : 1;
  return w.length >= min ? w : w.padEnd(min, "x");
}

function numberFor(s: JsonSchema, key: string, r: Rand): number {
  let lo = typeof s.minimum === "number" ? s.minimum : typeof s.exclusiveMinimum === "number" ? s.exclusiveMinimum + 1 : 0;
  let hi = typeof s.maximum === "number" ? s.maximum : typeof s.exclusiveMaximum === "number" ? s.exclusiveMaximum - 1 : lo + 100;
  if (/port$/i.test(key) && lo <= 1 && hi >= 65535) [lo, hi] = [1024, 9999];
  hi = Math.min(hi, lo + 1000);
  return int(r, lo, hi);
}

/** Whether a value of the schema must hold a secret somewhere (a required field down the tree). */
function needsSecret(s: JsonSchema, depth = 0): boolean {
  if (isSecretSchema(s)) return true;
  if (depth > 4) return false;
  return (s.required ?? []).some((k) => s.properties?.[k] && needsSecret(s.properties[k]!, depth + 1));
}

function merged(s: JsonSchema, branch: JsonSchema): JsonSchema {
  const { oneOf: _o, anyOf: _a, ...base } = s;
  return {
    ...base,
    ...branch,
    properties: { ...(base.properties ?? {}), ...(branch.properties ?? {}) },
    required: [...new Set([...(base.required ?? []), ...(branch.required ?? [])])],
  };
}

/**
 * A random value of a schema. Optional fields (not required, or required with a default)
 * are set about half the time; maps get one or two keys.
 */
export function drawValue(s: JsonSchema, r: Rand, key = "", depth = 0): unknown {
  // Secrets come from a module's config (config.secret()), not from literal specs: a spec
  // alternative that holds a secret is not drawn.
  const branches = (s.oneOf ?? s.anyOf)?.filter((b) => !needsSecret(b));
  if (branches?.length) return drawValue(merged(s, pick(r, branches)), r, key, depth);
  if (s.enum?.length) return pick(r, s.enum);
  switch (s.type) {
    case "string":
      return stringFor(s, key, r);
    case "integer":
    case "number":
      return numberFor(s, key, r);
    case "boolean":
      return r() < 0.5;
    case "array": {
      if (!s.items || depth > 5) return [];
      const min = typeof s.minItems === "number" ? s.minItems : 0;
      const n = Math.max(min, int(r, min ? min : 1, 2));
      return Array.from({ length: n }, () => drawValue(s.items as JsonSchema, r, key, depth + 1));
    }
    default: {
      if (depth > 6) return {};
      const out: Record<string, unknown> = {};
      const required = new Set(s.required ?? []);
      for (const [k, p] of Object.entries(s.properties ?? {})) {
        const must = required.has(k) && p.default === undefined && !p["x-opm-derived-default"];
        if (needsSecret(p)) continue;
        if (must || r() < 0.5) out[k] = drawValue(p, r, k, depth + 1);
      }
      if (!s.properties && typeof s.additionalProperties === "object") {
        const n = int(r, 1, 2);
        for (let i = 0; i < n; i++) out[`${pick(r, WORDS)}${i}`] = drawValue(s.additionalProperties, r, key, depth + 1);
      }
      return out;
    }
  }
}

/** The builder function of a catalog entry, found by its FQN (`FQN.Scaling` → `Scaling`). */
function builder(fqn: string): (spec: unknown) => any {
  const name = Object.entries(catalog.FQN).find(([, f]) => f === fqn)?.[0];
  const fn = name ? (catalog as unknown as Record<string, (spec: unknown) => unknown>)[name] : undefined;
  if (!fn) throw new Error(`generator: no builder for ${fqn}`);
  return fn as (spec: unknown) => any;
}

export interface GenerateOptions {
  /** Seed of the PRNG (default 1). */
  seed?: number;
  /** Number of components (default 200). */
  count?: number;
  /** Module name (default `generated-<seed>-<count>`). */
  name?: string;
}

/** One component's recipe: its blueprint and the optional resources and traits it carries. */
interface Recipe {
  blueprint: CatalogEntry;
  resources: string[];
  traits: string[];
}

/**
 * Plans which parts each component gets: blueprints in turn, then every optional resource and
 * trait the matching transformers handle, dealt round-robin so that each one appears, with
 * random extras.
 */
function plan(cat: GeneratorCatalog, count: number, r: Rand): Recipe[] {
  const { blueprints, transformers } = cat.index;
  const handles = (b: CatalogEntry) => {
    const ts = transformers.filter((t) =>
      Object.entries(t.requiredLabels ?? {}).every(([k, v]) => k === "core.opmodel.dev/workload-type" && v === b.workloadType),
    );
    const resources = new Set(ts.flatMap((t) => t.optionalResources ?? []));
    // Transformers that match on a trait alone (Service on Expose, HPA on Scaling, ...) add what they handle.
    const traits = new Set(ts.flatMap((t) => t.optionalTraits ?? []));
    for (const t of transformers) {
      if (Object.keys(t.requiredLabels ?? {}).length) continue;
      if ((t.requiredTraits ?? []).length && (t.requiredResources ?? []).every((x) => x === "opm.dev/catalog/resources/container@v1")) {
        for (const x of t.requiredTraits ?? []) traits.add(x);
        for (const x of t.optionalTraits ?? []) traits.add(x);
      }
      if (!(t.requiredTraits ?? []).length) for (const x of t.requiredResources ?? []) resources.add(x);
    }
    const composed = new Set([...(b.composedResources ?? []), ...(b.composedTraits ?? [])]);
    // Only workloads that compose Scaling have a replica count (the DSL refuses it elsewhere).
    traits.delete(SCALING);
    return { resources: [...resources].filter((x) => !composed.has(x)).sort(), traits: [...traits].filter((x) => !composed.has(x)).sort() };
  };
  const byBlueprint = new Map(blueprints.map((b) => [b.fqn, handles(b)]));
  const recipes: Recipe[] = [];
  const turn = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const b = blueprints[i % blueprints.length]!;
    const h = byBlueprint.get(b.fqn)!;
    const k = turn.get(b.fqn) ?? 0;
    turn.set(b.fqn, k + 1);
    // Round-robin guarantees coverage; the PRNG adds a random selection on top.
    const resources = h.resources.filter((_x, j) => j === k % Math.max(1, h.resources.length) || r() < 0.25);
    const traits = h.traits.filter((_x, j) => j === k % Math.max(1, h.traits.length) || r() < 0.25);
    recipes.push({ blueprint: b, resources, traits });
  }
  return recipes;
}

const CONTAINER = "opm.dev/catalog/resources/container@v1";
const EXPOSE = "opm.dev/catalog/traits/expose@v1";
const SCALING = "opm.dev/catalog/traits/scaling@v1";
const VOLUMES = "opm.dev/catalog/resources/volumes@v1";

/**
 * The specs of one component, drawn from the schemas and tied together: the ports that
 * Expose, Ingress and HTTPRoute name are the container's, mounts name the component's volumes.
 */
function specsFor(cat: GeneratorCatalog, recipe: Recipe, r: Rand): Map<string, Record<string, unknown>> {
  const all = [...(recipe.blueprint.composedResources ?? []), ...(recipe.blueprint.composedTraits ?? []), ...recipe.resources, ...recipe.traits];
  // Routes need a published port.
  if (recipe.traits.some((t) => /\/(ingress|http-route)@/.test(t)) && !all.includes(EXPOSE)) all.push(EXPOSE);
  const specs = new Map<string, Record<string, unknown>>();
  for (const fqn of all) {
    const s = cat.spec.get(fqn);
    specs.set(fqn, s ? (drawValue(s, r) as Record<string, unknown>) : {});
  }
  const container = specs.get(CONTAINER) as Record<string, any> | undefined;
  if (container) {
    container.ports = { http: { targetPort: 8080 } };
    delete container.volumeMounts;
  }
  const expose = specs.get(EXPOSE) as Record<string, any> | undefined;
  if (expose) expose.ports = { http: { targetPort: 8080, exposedPort: 80 } };
  for (const [fqn, s] of specs) {
    if (/\/(ingress|http-route)@/.test(fqn)) tiePorts(s, "http", 80);
    if (/\/health-check@/.test(fqn)) tiePorts(s, "http", 8080);
  }
  if (!specs.has(VOLUMES) && container) delete container.volumeMounts;
  for (const s of specs.values()) orderBounds(s);
  return specs;
}

/** Bounds drawn independently are put in order: `max` (maxX) is never below `min` (minX). */
function orderBounds(v: unknown): void {
  if (!v || typeof v !== "object") return;
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const m = /^min(.*)$/.exec(k);
    const mk = m ? `max${m[1]}` : "";
    if (m && typeof o[k] === "number" && typeof o[mk] === "number" && (o[mk] as number) < (o[k] as number)) [o[k], o[mk]] = [o[mk], o[k]];
    orderBounds(o[k]);
  }
}

/** Every `port`-like reference inside a route spec points at the published port. */
function tiePorts(v: unknown, name: string, number: number): void {
  if (!v || typeof v !== "object") return;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (k === "port" && (typeof x === "string" || typeof x === "number")) (v as Record<string, unknown>)[k] = typeof x === "string" ? name : number;
    else tiePorts(x, name, number);
  }
}

/** A module of `count` generated components (see the file's comment). */
export function generateModule(cat: GeneratorCatalog, options: GenerateOptions = {}): Module<any> {
  const seed = options.seed ?? 1;
  const count = options.count ?? 200;
  const r = rng(seed);
  const recipes = plan(cat, count, r);
  const components: Record<string, unknown> = {};
  recipes.forEach((recipe, i) => {
    const specs = specsFor(cat, recipe, r);
    const entries = (fqns: readonly string[]) => fqns.map((f) => [cat.index.resources.concat(cat.index.traits).find((e) => e.fqn === f)!, f] as const);
    const bpSpec: Record<string, unknown> = {};
    for (const [e, f] of entries([...(recipe.blueprint.composedResources ?? []), ...(recipe.blueprint.composedTraits ?? [])]))
      bpSpec[e.specKey!] = specs.get(f);
    let c = builder(recipe.blueprint.fqn)(bpSpec);
    const composed = new Set([...(recipe.blueprint.composedResources ?? []), ...(recipe.blueprint.composedTraits ?? [])]);
    for (const [, f] of entries([...specs.keys()].filter((f) => !composed.has(f)))) c = c.with(builder(f)(specs.get(f)));
    components[`c${String(i).padStart(3, "0")}-${recipe.blueprint.name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`] = c;
  });
  return defineModule({
    metadata: { modulePath: "generated.example.com/modules", name: options.name ?? `generated-${seed}-${count}`, version: "1.0.0" },
    config: {},
    components: () => components as any,
  });
}
