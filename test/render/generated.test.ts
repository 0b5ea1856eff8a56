import { beforeAll, describe, expect, it } from "vitest";
import { render, toCueFiles } from "opm-ts";
import { defaultEngine } from "../../src/engine/engine.js";
import { generateModule, readGeneratorCatalog, rng, type GeneratorCatalog } from "../support/generated-components.js";

let cat: GeneratorCatalog;
beforeAll(async () => {
  cat = await readGeneratorCatalog(defaultEngine());
});

const cueText = (seed: number, count: number) =>
  toCueFiles(generateModule(cat, { seed, count }))
    .map((f) => f.text)
    .join("\n");

/** Every FQN a module's components carry (parts and what blueprints compose). */
function fqnsOf(m: ReturnType<typeof generateModule>): Set<string> {
  const seen = new Set<string>();
  for (const c of Object.values(m.components())) {
    for (const p of c.parts) {
      seen.add(p.fqn);
      for (const x of p.composes ?? []) seen.add(x);
    }
  }
  return seen;
}

describe("generated components (seeded)", () => {
  it("the PRNG is seeded: the same seed gives the same sequence, another seed another", () => {
    const a = rng(42);
    const b = rng(42);
    const c = rng(43);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs);
  });

  it("the same seed compiles to the same CUE; another seed to different CUE", () => {
    const one = cueText(7, 30);
    expect(cueText(7, 30)).toBe(one);
    expect(cueText(8, 30)).not.toBe(one);
  });

  it("covers every blueprint, resource and trait of the catalog, in 200 components as in 20", () => {
    const all = [...cat.index.resources, ...cat.index.traits, ...cat.index.blueprints].map((e) => e.fqn);
    expect(all.length).toBeGreaterThan(30);
    for (const count of [20, 200]) {
      const m = generateModule(cat, { seed: 1, count });
      expect(Object.keys(m.components())).toHaveLength(count);
      const seen = fqnsOf(m);
      expect(all.filter((f) => !seen.has(f))).toEqual([]);
    }
  });

  it("draws valid specs: a generated module renders every workload kind without an error", async () => {
    const out = await render(generateModule(cat, { seed: 3, count: 10 }));
    const kinds = new Set(out.objects.map((o) => o.kind));
    for (const k of ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"]) expect(kinds).toContain(k);
  });
});
