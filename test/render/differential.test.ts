/**
 * The staged render against the reference program: every case is rendered both ways and
 * must give byte-identical YAML (and the same release, digests and violations), or the
 * same error (class, code, summary and every issue's code, path, message, constraint and
 * source). A valid case must be answered by the staged render itself, not handed over to
 * the reference program (only a CUE module's policies are).
 *
 * Cases: every example (TypeScript modules and the CUE folder examples/hello-cue), the
 * bench modules (bench/modules.mjs, which imports the built package: run `npm run build`
 * first), 200 generated components (test/support/generated-components.ts, seeded, covering
 * every blueprint, resource and trait of the catalog), the test fixtures, and the bad
 * inputs of the other render tests.
 */
import { readdirSync, existsSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { config, defineModule, Engine } from "../../src/index.js";
import { OpmError } from "../../src/core/errors.js";
import { ConfigMaps, Expose, Ingress, PodMetadata, ScheduledTaskWorkload, StatelessWorkload } from "../../dsl/catalog.js";
import { AllowedRegistries, MinReplicas, NoHostAccess, NoLatestTag, ResourcesRequired, RunAsNonRoot } from "../../dsl/policy.js";
import { loadCueModule, render, type RenderOptions, type RenderStats } from "../../src/render/render.js";
import { parseValues } from "../../src/render/values.js";
import { importModuleFile } from "../../src/cli/load.js";
import { generateModule, readGeneratorCatalog, type GeneratorCatalog } from "../support/generated-components.js";
import { Echo } from "../fixtures/modules/echo-policies.js";
import { secretData } from "../fixtures/modules/secret-data.js";
import shop from "../fixtures/modules/shop.js";
import parts, { webOnly } from "../fixtures/modules/parts.js";
import labWorkloads from "../fixtures/modules/lab-workloads.js";
import badComponent from "../fixtures/modules/bad-component.js";
import mistakes from "../fixtures/modules/mistakes.js";
import { arithmetic, badDefault, nested } from "../fixtures/modules/author-mistakes.js";
import hello from "../../examples/hello/module.js";
import { billing } from "../../examples/secrets/module.js";

type Input = Parameters<typeof render>[0];
interface Case {
  name: string;
  input: () => Input | Promise<Input>;
  options?: RenderOptions;
  /** Whether the staged render may hand over to the reference program for this case. */
  handsOver?: boolean;
}

const engine = new Engine({ timeoutMs: 600_000 });
afterAll(() => engine.close());

const PLANTED = "pl4nted-S3cret-differential";

const policyModule = (image: string, replicas = 1) =>
  defineModule({
    metadata: { modulePath: "example.com/t", name: "pol", version: "1.0.0" },
    config: {},
    policies: [MinReplicas({ min: 2 }, { onViolation: "warn", selector: { components: ["web"] } })],
    components: () => ({
      web: StatelessWorkload({ container: { image, ports: { http: { targetPort: 80 } } }, scaling: { count: replicas } }).with(
        Expose({ ports: { http: { targetPort: 80 } } }),
      ),
      api: StatelessWorkload({ container: { image: "registry.example.com/api:1.0" }, scaling: { count: 3 } }).labels({ tier: "backend" }),
    }),
  });

const longNames = defineModule({
  metadata: { modulePath: "example.com/t", name: "limits", version: "1.0.0" },
  config: {},
  components: () => ({
    "nightly-report-generator": ScheduledTaskWorkload({ container: { image: "busybox:1.36" }, cronJobConfig: { schedule: "0 3 * * *" } }),
    web: StatelessWorkload({ container: { image: "nginx:1.27", ports: { http: { targetPort: 80 } } } })
      .with(Expose({ ports: { http: { targetPort: 80 } } }))
      .with(ConfigMaps({ "a-b": { data: { k: "v" } } }))
      .with(PodMetadata({ labels: { team: "x".repeat(64) }, annotations: { "bad key!": "v" } })),
    "web-a": StatelessWorkload({ container: { image: "nginx:1.27" } }).with(ConfigMaps({ b: { data: { k: "v" } } })),
  }),
});

const latePort = defineModule({
  metadata: { modulePath: "example.com/t", name: "late", version: "0.1.0" },
  config: { port: config.string().default("htp") },
  components: (cfg) => ({
    web: StatelessWorkload({ container: { image: "nginx:1.27", ports: { http: { targetPort: 8080 } } } })
      .with(Expose({ ports: { http: { targetPort: 8080 } } }))
      .with(Ingress({ paths: [{ port: cfg.port }] })),
  }),
});

const examples = readdirSync("examples", { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

let generator: Promise<GeneratorCatalog> | undefined;
const generatorCatalog = () => (generator ??= readGeneratorCatalog(engine));

/** The bench's modules (built from the package in dist/). */
const benchModules = (): Promise<{ statelessModule(n: number): any; manyTraitsModule(n: number): Promise<any> }> => import(BENCH_MODULES);
const BENCH_MODULES = "../../bench/modules.mjs";

const cueVariant = (dir: string, edit: (t: string) => string) => {
  const m = loadCueModule(dir);
  return { ...m, files: m.files.map((f) => ({ ...f, text: edit(f.text) })) };
};

const cases: Case[] = [
  // Every example, with its default release.
  ...examples.map(
    (name): Case =>
      existsSync(path.join("examples", name, "module.ts"))
        ? { name: `example ${name}`, input: async () => importModuleFile(path.resolve("examples", name, "module.ts")) as Promise<Input> }
        : { name: `example ${name} (CUE)`, input: () => loadCueModule(path.join("examples", name)) },
  ),
  // The bench modules.
  { name: "bench: 10 stateless components", input: async () => (await benchModules()).statelessModule(10).release({ name: "bench", namespace: "bench" }) },
  {
    name: "bench: many traits, 5 components",
    input: async () => (await (await benchModules()).manyTraitsModule(5)).release({ name: "bench", namespace: "bench" }),
  },
  // 200 generated components covering every blueprint, resource and trait (seeded), in four modules.
  ...[1, 2, 3, 4].map(
    (seed): Case => ({ name: `generated: 50 components, seed ${seed}`, input: async () => generateModule(await generatorCatalog(), { seed, count: 50 }) }),
  ),
  // Fixtures that render.
  { name: "fixture shop", input: () => shop.release({ values: { image: "shop:1.0" } }) },
  { name: "bad: shop without its required image", input: () => shop as never },
  { name: "fixture parts", input: () => parts },
  { name: "fixture parts, web only", input: () => webOnly },
  { name: "fixture lab workloads", input: () => labWorkloads },
  { name: "fixture secret data (literal secret)", input: () => secretData(PLANTED) },
  { name: "CUE fixture full", input: () => loadCueModule("test/fixtures/cue-modules/full") },
  {
    name: "CUE fixture refs, flags",
    input: () => loadCueModule("test/fixtures/cue-modules/refs", { name: "cue", namespace: "gamma", clusterDomain: "k8s.internal" }),
  },
  {
    name: "hello with values and another namespace",
    input: () => hello.release({ name: "h", namespace: "demo", values: { replicas: 5, image: "nginx:1.28" } }),
  },
  { name: "secrets example, literal values", input: () => billing.release({ name: "b", values: { db: { password: PLANTED }, apiToken: "tok-en" } }) },
  {
    name: "secrets example, a referenced Secret",
    input: () => billing.release({ name: "b", values: { db: { password: { secretRef: { name: "corp-db", key: "pw" } } }, apiToken: "t" } } as never),
  },
  { name: "CUE secrets from values", input: () => loadCueModule("examples/hello-cue", { values: { replicas: 3 } }) },
  // Policies: the module's, built-in platform policies, a platform policy written in TypeScript.
  { name: "module policy, warn", input: () => policyModule("nginx:1.27") },
  {
    name: "platform policies, audit",
    input: () => policyModule("nginx"),
    options: { policies: [NoLatestTag({ onViolation: "audit" }), RunAsNonRoot({ onViolation: "audit" }), NoHostAccess({ onViolation: "audit" })] },
  },
  {
    name: "platform policies by label and by name",
    input: () => policyModule("nginx:1.27"),
    options: {
      policies: [
        MinReplicas({ min: 5 }, { onViolation: "audit", selector: { labels: { tier: "backend" } } }),
        AllowedRegistries({ registries: ["registry.example.com"] }, { onViolation: "warn" }),
      ],
    },
  },
  { name: "platform policy in TypeScript", input: () => secretData(PLANTED), options: { policies: [Echo()] } },
  // Bad input.
  {
    name: "bad: a value out of range and of the wrong type, from a values file",
    input: () => {
      const vf = parseValues("replicas: -1\nimage: 42\n", "prod.yaml");
      return shop.release({ values: { image: "ok" } }).withValues(vf.values, vf.provenance);
    },
  },
  { name: "bad: a value failing its pattern", input: () => shop.release({ values: { image: "UPPER CASE" } }) },
  { name: "bad: release name and namespace", input: () => hello.release({ name: "Hello", namespace: "my_ns" }) },
  { name: "bad: component", input: () => badComponent },
  { name: "bad: author mistakes", input: () => mistakes },
  { name: "bad: arithmetic on config", input: () => arithmetic },
  { name: "bad: a default out of its bounds", input: () => badDefault },
  { name: "bad: nested config", input: () => nested },
  { name: "bad: CUE module", input: () => loadCueModule("test/fixtures/cue-bad") },
  { name: "bad: CUE unmatched component", input: () => loadCueModule("test/fixtures/cue-unmatched") },
  { name: "bad: CUE fixture unmatched", input: () => loadCueModule("test/fixtures/cue-modules/unmatched") },
  { name: "bad: CUE fixture unhandled trait", input: () => loadCueModule("test/fixtures/cue-modules/unhandled-trait") },
  { name: "bad: CUE transformer errors", input: () => loadCueModule("test/fixtures/cue-transformer-errors") },
  {
    name: "bad: CUE values of the wrong type",
    input: () => {
      const vf = parseValues("replicas: many\n", "values.yaml");
      return loadCueModule("examples/hello-cue", { values: vf.values, provenance: vf.provenance });
    },
  },
  { name: "bad: CUE Kubernetes limits", input: () => loadCueModule("test/fixtures/cue-k8s-limits") },
  {
    name: "bad: CUE structural cycle",
    input: () =>
      cueVariant("test/fixtures/cue-k8s-limits", (t) =>
        t.replace(
          /#components: \{[\s\S]*$/,
          '#T: {next: #T}\n#components: web: {\n\tblueprints.#StatelessWorkload\n\tspec: container: image: "nginx:1.27"\n\t_loop: #T\n}\n',
        ),
      ),
  },
  {
    name: "bad: CUE reference cycle",
    input: () =>
      cueVariant("test/fixtures/cue-k8s-limits", (t) =>
        t.replace(
          /#components: \{[\s\S]*$/,
          '#components: web: {\n\tblueprints.#StatelessWorkload\n\tspec: {\n\t\tcontainer: image: "nginx:1.27"\n\t\tscaling: count: _a\n\t}\n\t_a: _b + 1\n\t_b: _a - 1\n}\n',
        ),
      ),
  },
  { name: "bad: names over the Kubernetes limits, a duplicate object", input: () => longNames.release({ name: "a-release-name-of-thirty-chars" }) },
  { name: "bad: an ingress on a port only the release names (a transformer fails)", input: () => latePort },
  {
    name: "bad: a blocking policy",
    input: () => policyModule("nginx:latest"),
    options: { policies: [NoLatestTag(), ResourcesRequired({ onViolation: "warn" })] },
  },
  { name: "bad: a blocking platform policy in TypeScript", input: () => secretData(PLANTED), options: { policies: [Echo({ block: true })] } },
  { name: "bad: secrets missing", input: () => billing.release({ values: { db: {} } } as never) },
];

type Outcome = { ok: true; yaml: string; json: string; rest: string } | { ok: false; error: string };

async function outcome(c: Case, mode: "staged" | "reference", stats: RenderStats): Promise<Outcome> {
  try {
    // The reference program's answer may come from the result cache (it is a function of the
    // program's text); the staged render always evaluates.
    const r = await render(await c.input(), { ...c.options, engine, mode, stats, cache: mode === "reference" });
    return {
      ok: true,
      yaml: r.yaml(),
      json: r.json(),
      rest: JSON.stringify({ release: r.release, digest: r.digest, valuesDigest: r.valuesDigest, violations: r.violations }),
    };
  } catch (e) {
    if (!OpmError.is(e)) throw e;
    const issues = e.issues.map((i) => ({ code: i.code, path: i.path, message: i.message, constraint: i.constraint, source: i.source }));
    return {
      ok: false,
      error: JSON.stringify({ name: e.name, code: e.code, message: e.message, issues, warnings: (e as { warnings?: unknown }).warnings }, null, 1),
    };
  }
}

describe("the staged render gives the reference program's answer", () => {
  it("covers every example", () => {
    expect(cases.filter((c) => c.name.startsWith("example ")).length).toBe(examples.length);
    expect(examples).toContain("hello-cue");
  });

  for (const c of cases) {
    it(c.name, { timeout: 900_000 }, async () => {
      const refStats: RenderStats = {} as RenderStats;
      const stagedStats: RenderStats = {} as RenderStats;
      const want = await outcome(c, "reference", refStats);
      const got = await outcome(c, "staged", stagedStats);
      expect(refStats.mode === undefined || refStats.mode === "reference").toBe(true);
      expect(want.ok, "a bad input fails, a valid one renders").toBe(!c.name.startsWith("bad: "));
      expect(got).toEqual(want);
      if (want.ok && !c.handsOver) {
        // The valid case was answered by the stages, not by the reference program.
        expect(stagedStats.mode).toBe("staged");
        expect(stagedStats.fallback).toBe(false);
        expect(stagedStats.stages!.pairs).toBeGreaterThan(0);
      }
    });
  }
});

// The staged render's own promises, beyond equality.
describe("staged render", () => {
  it("re-evaluates only the pairs of a changed component", async () => {
    // A tag of this run: nothing of it is in the disk cache yet.
    const tag = `1.${Date.now()}`;
    const make = (image: string) =>
      defineModule({
        metadata: { modulePath: "example.com/t", name: "inc", version: "1.0.0" },
        config: {},
        components: () => ({
          a: StatelessWorkload({ container: { image: `nginx:a-${tag}`, ports: { http: { targetPort: 80 } } } }).with(
            Expose({ ports: { http: { targetPort: 80 } } }),
          ),
          b: StatelessWorkload({ container: { image, ports: { http: { targetPort: 80 } } } }).with(Expose({ ports: { http: { targetPort: 80 } } })),
        }),
      });
    const first: RenderStats = {} as RenderStats;
    await render(make(`nginx:${tag}`), { engine, mode: "staged", stats: first });
    const again: RenderStats = {} as RenderStats;
    const same = await render(make(`nginx:${tag}`), { engine, mode: "staged", stats: again });
    const pairs = first.stages!.pairs;
    expect(pairs % 2).toBe(0);
    expect(first.stages!.pairsCached).toBe(0);
    expect(again.stages).toMatchObject({ pairs, pairsCached: pairs });
    expect(again.cached).toBe(true);
    const changed: RenderStats = {} as RenderStats;
    const other = await render(make(`nginx:${tag}-b`), { engine, mode: "staged", stats: changed });
    // a's pairs come from the cache; b's are evaluated.
    expect(changed.stages).toMatchObject({ pairs, pairsCached: pairs / 2 });
    expect(changed.cached).toBe(false);
    expect(other.yaml()).not.toBe(same.yaml());
    expect(other.yaml()).toContain(`nginx:${tag}-b`);
  });

  it("gives the same bytes whatever the pool size", async () => {
    const one = new Engine({ workers: 1, timeoutMs: 600_000 });
    try {
      const rel = shop.release({ name: "pool", namespace: "p", values: { image: "shop:1.0" } });
      const a = await render(rel, { engine: one, mode: "staged", cache: false });
      const b = await render(rel, { engine, mode: "staged", cache: false });
      expect(a.yaml()).toBe(b.yaml());
    } finally {
      await one.close();
    }
  });
});
