import { afterAll, describe, expect, it } from "vitest";
import { component, defineModule, Engine, RenderError, render, type RenderStats } from "opm-ts";
import { Container, CronJobConfig, Expose, StatelessWorkload } from "opm-ts/catalog";
import { buildProgram } from "../../src/render/render.js";

const engine = new Engine();
afterAll(() => engine.close());

const web = (i: number) =>
  StatelessWorkload({
    container: { image: "nginx:1.27", ports: { http: { targetPort: 8080 } } },
    scaling: { count: i + 1 },
  }).with(Expose({ ports: { http: { targetPort: 8080, exposedPort: 80 } } }));

const many = defineModule({
  metadata: { modulePath: "example.com/modules", name: "many", version: "1.0.0" },
  config: {},
  components: () => ({ a: web(0), b: web(1), c: web(2) }),
});

describe("render (#Render and its consumer)", () => {
  it("runs every matched transformer once per component and reports timings", async () => {
    const stats = {} as RenderStats;
    const out = await render(many.release({ name: "r", namespace: "ns" }), { engine, stats, cache: false });
    expect(out.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Service/r-a",
      "Service/r-b",
      "Service/r-c",
      "Deployment/r-a",
      "Deployment/r-b",
      "Deployment/r-c",
    ]);
    const d = out.objects.find((o) => o.kind === "Deployment" && o.metadata.name === "r-c") as { spec: { replicas: number } } | undefined;
    expect(d?.spec.replicas).toBe(3);
    expect(out.objects.every((o) => o.metadata.namespace === "ns" && o.metadata.labels?.["component.opmodel.dev/name"])).toBe(true);
    expect(stats.evalMs).toBeGreaterThan(0);
    expect(stats.cached).toBe(false);
    expect(stats.programBytes).toBeGreaterThan(1000);
  });

  it("renders byte-identical output twice", async () => {
    const rel = many.release({ name: "r", namespace: "ns" });
    const [a, b] = [await render(rel, { engine, cache: false }), await render(rel, { engine, cache: false })];
    expect(a.yaml()).toBe(b.yaml());
    expect(a.digest).toBe(b.digest);
  });

  it("names an unmatched component, what it has and what the closest transformers need", async () => {
    const lonely = defineModule({
      metadata: { modulePath: "example.com/modules", name: "lonely", version: "1.0.0" },
      config: {},
      components: () => ({ job: component().with(Container({ image: "busybox" })) }),
    });
    const e = await render(lonely.release({ name: "r", namespace: "ns" }), { engine }).catch((x: unknown) => x);
    expect(RenderError.is(e)).toBe(true);
    const [issue] = (e as RenderError).issues;
    expect(issue).toMatchObject({ code: "unmatched_component", path: "components.job" });
    expect(issue!.message).toMatch(/no transformer matches component "job"/);
    expect(issue!.message).toMatch(/deployment@v1 needs label core\.opmodel\.dev\/workload-type=stateless/);
    expect(issue!.message).toMatch(/job@v1 needs label core\.opmodel\.dev\/workload-type=task/);
  });

  it("reports a trait no matched transformer handles", async () => {
    const odd = defineModule({
      metadata: { modulePath: "example.com/modules", name: "odd", version: "1.0.0" },
      config: {},
      // Expose matches the Service transformer; CronJobConfig is handled only by the CronJob one.
      components: () => ({
        svc: component().with(
          Container({ image: "busybox", ports: { http: { targetPort: 80 } } }),
          CronJobConfig({ schedule: "0 * * * *" }),
          Expose({ ports: { http: { targetPort: 80 } } }),
        ),
      }),
    });
    const e = await render(odd.release({ name: "r", namespace: "ns" }), { engine }).catch((x: unknown) => x);
    expect(RenderError.is(e)).toBe(true);
    expect((e as RenderError).issues).toEqual([
      expect.objectContaining({ code: "unhandled_trait", path: "components.svc", message: expect.stringMatching(/cron-job-config@v1 on component "svc"/) }),
    ]);
  });

  it("evaluates the release once: it is placed inside #release, not linked as a field", () => {
    const { source } = buildProgram(many.release({ name: "r", namespace: "ns" }).compile().files);
    expect(source).not.toMatch(/^_pkg_local_release:/m);
    expect(source).toMatch(/#release: \{\n\t*\/\/ /);
  });
});
