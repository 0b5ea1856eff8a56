import path from "node:path";
import { describe, expect, it } from "vitest";
import { RenderError, ValidationError, type Issue } from "../../src/core/errors.js";
import { config, defineModule } from "opm-ts";
import { Expose, Ingress, StatelessWorkload } from "opm-ts/catalog";
import { loadCueModule, render } from "../../src/render/render.js";
import { parseValues } from "../../src/render/values.js";
import hello from "../../examples/hello/module.js";
import shop from "../fixtures/modules/shop.js";
import badComponent from "../fixtures/modules/bad-component.js";
import mistakes from "../fixtures/modules/mistakes.js";
import { markLine } from "../support/lines.js";
import { issuesOf } from "../support/issues.js";

const SHOP = "test/fixtures/modules/shop.ts";
const BAD = "test/fixtures/modules/bad-component.ts";
const MISTAKES = "test/fixtures/modules/mistakes.ts";
const THIS = "test/render/errors.test.ts";

const byPath = (issues: Issue[]) => Object.fromEntries(issues.map((i) => [i.path, i]));
const norm = (f?: string) => (f ? path.normalize(f) : f);

describe("errors a user can act on", () => {
  it("negative replicas, wrong type and unknown field in a values file: all at once, with the file line", async () => {
    const vf = parseValues("replicas: -1\nimage: 42\nimagePullPolicy: Always\n", "prod.yaml");
    const rel = shop.release({ values: { image: "ok" } }).withValues(vf.values, vf.provenance);
    const err = await render(rel).catch((e) => e);
    expect(ValidationError.is(err)).toBe(true);
    const issues = byPath(err.issues);
    expect(issues["values.replicas"]).toMatchObject({
      code: "out_of_range",
      constraint: ">=1",
      message: "-1 is less than the minimum 1",
      source: { file: "prod.yaml", line: 1 },
    });
    expect(issues["values.image"]).toMatchObject({ code: "invalid_type", constraint: "string", source: { file: "prod.yaml", line: 2 } });
    expect(issues["values.imagePullPolicy"]).toMatchObject({ code: "unknown_field", source: { file: "prod.yaml", line: 3 } });
    expect(err.issues).toHaveLength(3);
    expect(err.message).toContain("prod.yaml:1");
  });

  it("a value set in TypeScript points at the release() call", async () => {
    const line = new Error().stack!.split("\n")[1]!.match(/:(\d+):\d+\)?$/)![1];
    const issues = await issuesOf(render(shop.release({ values: { image: "UPPER CASE" } })));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ code: "pattern", path: "values.image" });
    expect(norm(issues[0]!.source?.file)).toBe(THIS);
    expect(issues[0]!.source!.line).toBe(Number(line) + 1);
  });

  it("a missing required value names the field and where it was declared", async () => {
    const issues = await issuesOf(render(shop as never));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ code: "required", path: "values.image", message: "a value is required and has no default" });
    expect(norm(issues[0]!.source?.file)).toBe(SHOP);
    expect(issues[0]!.source!.line).toBe(markLine(SHOP, "image"));
  });

  it("bad DNS names for release, namespace and component", async () => {
    const issues = byPath(await issuesOf(render(hello.release({ name: "Hello", namespace: "my_ns" }))));
    expect(issues["release.name"]).toMatchObject({ code: "invalid_name", message: expect.stringContaining('"Hello" is not a valid name') });
    expect(issues["release.namespace"]).toMatchObject({ code: "invalid_name" });
    expect(norm(issues["release.name"]!.source?.file)).toBe(THIS);

    const comp = byPath(await issuesOf(render(badComponent)));
    expect(comp["components.Web_2"]).toMatchObject({ code: "invalid_name" });
    expect(comp["components.Web_2"]!.source!.line).toBe(markLine(BAD, "badname"));
  });

  it("values broken inside component literals are reported with the builder call site", async () => {
    const issues = byPath(await issuesOf(render(badComponent)));
    expect(issues["components.web.spec.container.ports.http.targetPort"]).toMatchObject({ code: "out_of_range", constraint: "<=65535" });
    expect(issues["components.web.spec.container.ports.http.targetPort"]!.source!.line).toBe(markLine(BAD, "port") - 1);
    expect(issues["components.web.spec.scaling.count"]).toMatchObject({ code: "out_of_range" });
    expect(issues["components.web.spec.expose.type"]).toMatchObject({ code: "enum" });
    expect(issues["components.web.spec.expose.type"]!.source!.line).toBe(markLine(BAD, "expose"));
  });

  it("hand-written CUE modules get the same checks from their #config schema", async () => {
    const vf = parseValues("replicas: 0\nimage: true\nreplicaz: 3\n", "values.yaml");
    const issues = byPath(await issuesOf(render(loadCueModule("examples/hello-cue", { values: vf.values, provenance: vf.provenance }))));
    expect(issues["values.replicas"]).toMatchObject({ code: "out_of_range", constraint: ">=1", source: { file: "values.yaml", line: 1 } });
    expect(issues["values.image"]).toMatchObject({ code: "invalid_type", source: { file: "values.yaml", line: 2 } });
    expect(issues["values.replicaz"]).toMatchObject({ code: "unknown_field", message: expect.stringContaining('did you mean "replicas"') });
  });

  it("errors the engine finds are mapped to the author's path", async () => {
    // The component literal breaks the catalog's bound for scaling.count; only the engine sees it.
    const issues = await issuesOf(render(loadCueModule("test/fixtures/cue-bad")));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: "components.web.spec.scaling.count", message: expect.stringMatching(/none of the allowed alternatives/) });
  });

  it("a component no transformer matches is an error naming what it lacks", async () => {
    const err = await render(loadCueModule("test/fixtures/cue-unmatched")).catch((e) => e);
    expect(RenderError.is(err)).toBe(true);
    expect(err.issues[0]).toMatchObject({ code: "unmatched_component", path: "components.lonely" });
    expect(err.issues[0].message).toMatch(/deployment@v1 needs label core\.opmodel\.dev\/workload-type=stateless/);
  });

  it("parts no transformer can render together are named before CUE runs, each with its line", async () => {
    const err = await render(mistakes).catch((e) => e);
    expect(ValidationError.is(err)).toBe(true);
    const at = (i: Issue) => [norm(i.source?.file), i.source?.line];
    const issues = byPath(err.issues);
    expect(Object.keys(issues).sort()).toEqual([
      "components.agent.spec.scaling.auto",
      "components.noexpose.spec.ingress",
      "components.typo.spec.expose.ports.metrics",
      "components.typo.spec.healthCheck.readiness.httpGet.port",
      "components.typo.spec.ingress.paths.1.port",
    ]);
    expect(issues["components.noexpose.spec.ingress"]).toMatchObject({
      code: "required",
      message: expect.stringContaining('component "noexpose" has the Ingress trait but no Expose trait'),
    });
    expect(at(issues["components.noexpose.spec.ingress"]!)).toEqual([MISTAKES, markLine(MISTAKES, "noexpose")]);
    expect(issues["components.typo.spec.ingress.paths.1.port"]).toMatchObject({
      code: "missing_key",
      message: 'port "htp" is not a port of spec.expose.ports (it has "http", "metrics")',
    });
    expect(at(issues["components.typo.spec.ingress.paths.1.port"]!)).toEqual([MISTAKES, markLine(MISTAKES, "htp")]);
    expect(issues["components.typo.spec.expose.ports.metrics"]).toMatchObject({
      code: "missing_key",
      message: 'port "metrics" is not a port of the container (spec.container.ports) (it has "http")',
    });
    expect(at(issues["components.typo.spec.expose.ports.metrics"]!)).toEqual([MISTAKES, markLine(MISTAKES, "expose")]);
    expect(issues["components.typo.spec.healthCheck.readiness.httpGet.port"]).toMatchObject({
      code: "missing_key",
      message: expect.stringContaining('port "health" is not a port of the container'),
    });
    expect(at(issues["components.typo.spec.healthCheck.readiness.httpGet.port"]!)).toEqual([MISTAKES, markLine(MISTAKES, "probe")]);
    expect(issues["components.agent.spec.scaling.auto"]).toMatchObject({
      code: "not_applicable",
      message: expect.stringContaining('component "agent" is a daemon workload, which a HorizontalPodAutoscaler cannot scale'),
    });
    expect(at(issues["components.agent.spec.scaling.auto"]!)).toEqual([MISTAKES, markLine(MISTAKES, "daemon")]);
  });

  it("every transformer the evaluator fails on is listed, with the component, the transformer and the author's line", async () => {
    // Hand-written CUE: no TypeScript checks run, so the evaluator finds both problems.
    const cue = await render(loadCueModule("test/fixtures/cue-transformer-errors")).catch((e) => e);
    expect(ValidationError.is(cue)).toBe(true);
    expect(cue.issues).toHaveLength(2);
    const [agent, web] = [...cue.issues].sort((a: Issue, b: Issue) => a.path.localeCompare(b.path));
    expect(web).toMatchObject({
      path: "components.web",
      constraint: "transformer opm.dev/catalog/providers/kubernetes/ingress@v1",
      message:
        'transformer ingress@v1 cannot render component "web": object 1 of its output, spec.rules[0].http.paths[0].backend.service.port.number: undefined field: expose (component "web" has no spec.expose, which transformer ingress@v1 reads)',
    });
    expect(agent).toMatchObject({
      path: "components.agent",
      message: expect.stringMatching(
        /^transformer horizontalpodautoscaler@v1 cannot render component "agent": object 1 of its output, spec\.scaleTargetRef\.kind: undefined field: daemon$/,
      ),
    });
    expect(cue.message).not.toMatch(/more errors/);
  });

  it("a transformer failure in a TypeScript module points at the trait's line", async () => {
    // A port name that only a release supplies cannot be checked before CUE runs.
    const line = new Error().stack!.split("\n")[1]!.match(/:(\d+):\d+\)?$/)![1];
    const m = defineModule({
      metadata: { modulePath: "example.com/t", name: "late", version: "0.1.0" },
      config: { port: config.string().default("htp") },
      components: (cfg) => ({
        web: StatelessWorkload({ container: { image: "nginx:1.27", ports: { http: { targetPort: 8080 } } } })
          .with(Expose({ ports: { http: { targetPort: 8080 } } }))
          .with(Ingress({ paths: [{ port: cfg.port }] })),
      }),
    });
    const ts = await issuesOf(render(m));
    expect(ts).toHaveLength(1);
    expect(ts[0]).toMatchObject({
      path: "components.web.spec.ingress",
      message: expect.stringContaining(
        'transformer ingress@v1 cannot render component "web": object 1 of its output, spec.rules[0].http.paths[0].backend.service.port.number: undefined field: htp',
      ),
    });
    expect([norm(ts[0]!.source?.file), ts[0]!.source?.line]).toEqual([THIS, Number(line) + 7]);
  });
});
