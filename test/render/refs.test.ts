// References between components and to the release: they compile to CUE references,
// follow the release name, namespace and cluster domain, and wrong ones are errors with
// the author's file:line.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, expectTypeOf, it } from "vitest";
import { config, defineModule, render, toCueFiles, ValidationError, type Ref } from "opm-ts";
import { ConfigMaps, Expose, PodMetadata, Secrets, StatelessWorkload } from "opm-ts/catalog";
import { getObject } from "opm-ts/testing";
import { loadCueModule } from "../../src/render/render.js";

const HERE = path.relative(process.cwd(), new URL(import.meta.url).pathname);

const app = defineModule({
  metadata: { modulePath: "example.com/t", name: "app", version: "2.4.0" },
  config: { dbName: config.string().default("orders") },
  components: (cfg, ctx) => ({
    db: StatelessWorkload({ container: { image: "postgres:16", ports: { pg: { targetPort: 5432 } }, env: { PEER: { value: ctx.components.api.dns.short } } } })
      .with(Expose({ ports: { pg: { targetPort: 5432, exposedPort: 6432 } } }))
      .with(Secrets({ creds: { data: { password: "not-a-real-one" } } }))
      .with(ConfigMaps({ tuning: { data: { max_connections: "50" }, immutable: true } })),
    api: StatelessWorkload({
      container: {
        image: "api:1",
        ports: { http: { targetPort: 8080 } },
        args: [`--db=${ctx.components.db.service.host}`],
        env: {
          DATABASE_URL: { value: `postgres://${ctx.components.db.dns.namespaced}:${ctx.components.db.service.port("pg")}/${cfg.dbName}` },
          DB_SERVICE: { value: ctx.components.db.service.name },
          DB_CREDS: { value: ctx.components.db.secret("creds") },
          DB_TUNING: { value: ctx.components.db.configMap("tuning") },
          WHO: { value: `${ctx.release.name}.${ctx.release.namespace}@${ctx.module.version} in ${ctx.release.clusterDomain}` },
        },
        volumeMounts: {},
      },
    })
      .with(Expose({ ports: { http: { targetPort: 8080 } } }))
      .with(ConfigMaps({ files: { data: { "app.ini": `[db]\nhost = ${ctx.components.db.name}\n` } } }))
      .with(PodMetadata({ annotations: { "example.com/release": `${ctx.release.name}` } }))
      .labels({ team: "payments" }),
  }),
});

describe("references between components", () => {
  it("compile to CUE references, not copied names", () => {
    const text = toCueFiles(app.release({ name: "one", namespace: "alpha" }))
      .map((f) => f.text)
      .join("\n");
    expect(text).toContain("#components.db.#names.dns.fqdn");
    expect(text).toContain("#components.db.spec.expose.ports.pg.exposedPort");
    expect(text).toContain("#context.release.name");
    expect(text).not.toContain("one-db");
  });

  it("follow the release name, namespace and cluster domain everywhere", async () => {
    for (const [name, namespace, clusterDomain] of [
      ["one", "alpha", undefined],
      ["two", "beta", "corp.example"],
    ] as const) {
      const out = await render(app.release({ name, namespace, ...(clusterDomain ? { clusterDomain } : {}) }));
      const domain = clusterDomain ?? "cluster.local";
      const api = getObject(out, "Deployment", `${name}-api`);
      const c = api.spec.template.spec.containers[0];
      const tuning = out.objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith(`${name}-db-tuning-`))!.metadata.name;
      expect(tuning).toMatch(new RegExp(`^${name}-db-tuning-[0-9a-f]{10}$`));
      expect(c.args).toEqual([`--db=${name}-db.${namespace}.svc.${domain}`]);
      expect(c.env).toEqual([
        { name: "DATABASE_URL", value: `postgres://${name}-db.${namespace}:6432/orders` },
        { name: "DB_SERVICE", value: `${name}-db` },
        { name: "DB_CREDS", value: `${name}-db-creds` },
        { name: "DB_TUNING", value: tuning },
        { name: "WHO", value: `${name}.${namespace}@2.4.0 in ${domain}` },
      ]);
      expect(getObject(out, "Service", `${name}-db`).spec.ports[0].port).toBe(6432);
      expect(getObject(out, "Secret", `${name}-db-creds`)).toBeDefined();
      expect(getObject(out, "ConfigMap", `${name}-api-files`).data["app.ini"]).toBe(`[db]\nhost = ${name}-db\n`);
      expect(api.spec.template.metadata.annotations).toEqual({ "example.com/release": name });
      // Names are known without rendering: db refers back to api's name, no cycle.
      expect(getObject(out, "Deployment", `${name}-db`).spec.template.spec.containers[0].env).toEqual([{ name: "PEER", value: `${name}-api` }]);
    }
  }, 120_000);

  it("labels set with .labels() reach every object of the component and its pods, blueprint labels do not", async () => {
    const out = await render(app.release({ name: "one", namespace: "alpha" }));
    for (const o of out.objects.filter((x) => x.metadata.labels?.["component.opmodel.dev/name"] === "api")) {
      expect(o.metadata.labels?.team, `${o.kind}/${o.metadata.name}`).toBe("payments");
      expect(o.metadata.labels?.["core.opmodel.dev/workload-type"]).toBeUndefined();
    }
    expect(getObject(out, "Deployment", "one-api").spec.template.metadata.labels.team).toBe("payments");
    expect(getObject(out, "Deployment", "one-db").metadata.labels?.team).toBeUndefined();
  }, 60_000);

  it("work the same in a hand-written CUE module", async () => {
    const out = await render(loadCueModule("test/fixtures/cue-modules/refs", { name: "cue", namespace: "gamma", clusterDomain: "k8s.internal" }));
    expect(getObject(out, "Deployment", "cue-api").spec.template.spec.containers[0].env).toEqual([
      { name: "DB_HOST", value: "cue-db.gamma.svc.k8s.internal" },
      { name: "DB_PORT", value: "5433" },
      { name: "RELEASE", value: "cue/gamma@1.0.0" },
    ]);
  }, 60_000);

  it("are typed", () => {
    defineModule({
      metadata: { modulePath: "example.com/t", name: "typed", version: "1.0.0" },
      components: (_cfg, ctx) => {
        expectTypeOf(ctx.release.name).toEqualTypeOf<Ref<string>>();
        expectTypeOf(ctx.components.db.service.port("pg")).toEqualTypeOf<Ref<number>>();
        return {
          // @ts-expect-error a port number is not an image name
          web: StatelessWorkload({ container: { image: ctx.components.db.service.port("pg") } }),
          // @ts-expect-error ports are named by strings
          api: StatelessWorkload({ container: { image: ctx.components.db.service.port(5432) } }),
        };
      },
    });
  });
});

/** Validates a release of a module with the given components function; returns the issues. */
function issuesOf(components: Parameters<typeof defineModule>[0]["components"]) {
  const m = defineModule({ metadata: { modulePath: "example.com/t", name: "bad", version: "1.0.0" }, components });
  try {
    m.release().validate();
  } catch (e) {
    if (ValidationError.is(e)) return e.issues;
    throw e;
  }
  return [];
}

describe("wrong references", () => {
  const web = (env: Record<string, { value: string | Ref<string> }> = {}, port?: string) =>
    StatelessWorkload({ container: { image: "web:1", env, ...(port ? { ports: { [port]: { targetPort: 8080 } } } : {}) } });

  it("to a component the module does not have: an error at the line that refers to it", () => {
    const issues = issuesOf((_cfg, ctx) => ({
      db: web(),
      api: web({ DB: { value: ctx.components.dbb.service.host } }), // line A
    }));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      code: "unknown_reference",
      path: "components.api",
      message: 'component "api" refers to component "dbb", which the module does not have (it has db, api)',
    });
    expect(issues[0]!.source?.file).toBe(HERE);
    expect(issues[0]!.source?.line).toBe(lineOf("// line A"));
  });

  it("to a port the component does not expose, or a Secret or ConfigMap it does not have", () => {
    const issues = issuesOf((_cfg, ctx) => ({
      db: web({}, "pg").with(Expose({ ports: { pg: { targetPort: 8080 } } })),
      cache: web(),
      api: web({
        A: { value: `${ctx.components.db.service.port("postgres")}` },
        B: { value: `${ctx.components.cache.service.port("redis")}` },
        C: { value: ctx.components.db.secret("creds") },
      }),
    }));
    expect(issues.map((i) => i.message)).toEqual([
      'component "api" refers to port "postgres" of component "db", which exposes only pg',
      'component "api" refers to port "redis" of component "cache", which exposes no ports (add the Expose trait)',
      'component "api" refers to Secret "creds" of component "db", which has no Secrets',
    ]);
    expect(issues.every((i) => i.source?.file === HERE)).toBe(true);
  });

  it("names in both directions are fine; rendered values in a cycle are an error naming it", () => {
    expect(
      issuesOf((_cfg, ctx) => ({
        a: web({ PEER: { value: ctx.components.b.service.host } }),
        b: web({ PEER: { value: ctx.components.a.dns.fqdn } }),
      })),
    ).toEqual([]);
    const issues = issuesOf((_cfg, ctx) => ({
      a: web({ PEER: { value: `${ctx.components.b.service.port("http")}` } }, "http").with(Expose({ ports: { http: { targetPort: 8080 } } })),
      b: web({ PEER: { value: `${ctx.components.c.service.port("http")}` } }, "http").with(Expose({ ports: { http: { targetPort: 8080 } } })),
      c: web({ PEER: { value: `${ctx.components.a.service.port("http")}` } }, "http").with(Expose({ ports: { http: { targetPort: 8080 } } })),
    }));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.code).toBe("cycle");
    expect(issues[0]!.message).toMatch(
      /^components a → b → c → a need each other's rendered values in a cycle: a → b \(port http\), b → c \(port http\), c → a \(port http\)/,
    );
    expect(issues[0]!.source?.file).toBe(HERE);
  });

  it("a cluster domain that is not a DNS domain", () => {
    const m = defineModule({ metadata: { modulePath: "example.com/t", name: "d", version: "1.0.0" }, components: () => ({ web: web() }) });
    expect(() => m.release({ clusterDomain: "Cluster Local" }).validate()).toThrow(/"Cluster Local" is not a DNS domain such as cluster.local/);
  });
});

function lineOf(marker: string): number {
  const src = readFileSync(HERE, "utf8");
  return src.split("\n").findIndex((l: string) => l.includes(marker) && !l.includes("lineOf")) + 1;
}
