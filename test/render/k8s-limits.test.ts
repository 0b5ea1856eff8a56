/**
 * What Kubernetes would reject, or what would break at run time, is an error before apply:
 * with the component, the field path and the author's line (issue 9.12).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { config, defineModule, render, type CueModuleInput } from "opm-ts";
import { ConfigMaps, Expose, PodMetadata, ScheduledTaskWorkload, StatelessWorkload } from "opm-ts/catalog";
import type { Issue } from "../../src/core/errors.js";
import { loadCueModule } from "../../src/render/render.js";
import { issuesOf } from "../support/issues.js";

const THIS = "test/render/k8s-limits.test.ts";
const here = () => Number(new Error().stack!.split("\n")[2]!.match(/:(\d+):\d+\)?$/)![1]);

const where = (i: Issue | undefined) => [i?.source?.file && path.normalize(i.source.file), i?.source?.line];
const meta = (name: string) => ({ modulePath: "example.com/t", name, version: "0.1.0" });

/** The CUE fixture with its module text changed. */
function cueVariant(edit: (text: string) => string): CueModuleInput {
  const m = loadCueModule("test/fixtures/cue-k8s-limits");
  return { ...m, files: m.files.map((f) => ({ ...f, text: edit(f.text) })) };
}

describe("caught before apply", () => {
  it("in TypeScript: cron fields out of range, min > max, a bad env var name, each at its line", async () => {
    let line = 0;
    const m = defineModule({
      metadata: meta("limits"),
      components: () => ({
        nightly: ScheduledTaskWorkload({ container: { image: "busybox:1.36" }, cronJobConfig: { schedule: "61 25 * * *" } }),
        web: StatelessWorkload({ container: { image: "nginx:1.27", env: { "1BAD": { value: "x" } } }, scaling: { auto: { min: 5, max: 2 } } }), // line + 1
      }),
    });
    line = here() - 4;
    const issues = await issuesOf(render(m));
    const by = (p: string) => issues.filter((i) => i.path === p);
    expect(by("components.nightly.spec.cronJobConfig.schedule").map((i) => i.message)).toEqual([
      '"61 25 * * *": minute 61 is out of range 0-59',
      '"61 25 * * *": hour 25 is out of range 0-23',
    ]);
    expect(where(by("components.nightly.spec.cronJobConfig.schedule")[0])).toEqual([THIS, line]);
    expect(by("components.web.spec.scaling.auto.max")[0]).toMatchObject({ code: "out_of_range", message: "auto.max 2 is less than auto.min 5" });
    expect(by("components.web.spec.container.env.1BAD")[0]).toMatchObject({ code: "invalid_name" });
    expect(where(by("components.web.spec.container.env.1BAD")[0])).toEqual([THIS, line + 1]);
    expect(issues).toHaveLength(4);
  });

  it("in hand-written CUE, the catalog catches the same, on the author's field", async () => {
    const cron = await issuesOf(render(cueVariant((t) => t)));
    expect(cron[0]).toMatchObject({ path: "components.nightly.spec.cronJobConfig.schedule", message: 'minute "61" is out of range 0-59' });
    const auto = await issuesOf(render(cueVariant((t) => t.replace('"61 25 * * *"', '"0 3 * * *"'))));
    expect(auto[0]).toMatchObject({ path: "components.web.spec.scaling.auto.max", message: expect.stringMatching(/^invalid value 2 \(out of bound >=5\)/) });
    const env = await issuesOf(render(cueVariant((t) => t.replace('"61 25 * * *"', '"0 3 * * *"').replace("{min: 5, max: 2}", "{min: 2, max: 5}"))));
    expect(env[0]).toMatchObject({
      path: "components.web.spec.container.env.1BAD",
      code: "invalid_name",
      message: expect.stringContaining('"1BAD" is not a valid environment variable name'),
    });
    const ok = await render(
      cueVariant((t) => t.replace('"61 25 * * *"', '"*/15 0-6 ? JAN-MAR mon-fri"').replace("{min: 5, max: 2}", "{min: 2, max: 5}").replace('"1BAD"', "GOOD_1")),
    );
    expect(ok.objects.map((o) => o.kind)).toEqual(["Deployment", "CronJob", "HorizontalPodAutoscaler"]);
  });

  it("names too long for their kind, label values over 63, and two components rendering one object", async () => {
    let line = 0;
    const m = defineModule({
      metadata: meta("names"),
      config: { team: config.string().default("t") },
      components: () => ({
        "nightly-report-generator": ScheduledTaskWorkload({ container: { image: "busybox:1.36" }, cronJobConfig: { schedule: "0 3 * * *" } }),
        web: StatelessWorkload({ container: { image: "nginx:1.27", ports: { http: { targetPort: 80 } } } })
          .with(Expose({ ports: { http: { targetPort: 80 } } }))
          .with(ConfigMaps({ "a-b": { data: { k: "v" } } }))
          .with(PodMetadata({ labels: { team: "x".repeat(64) }, annotations: { "bad key!": "v" } })),
        "web-a": StatelessWorkload({ container: { image: "nginx:1.27" } }).with(ConfigMaps({ b: { data: { k: "v" } } })),
      }),
    });
    line = here() - 3;
    const issues = await issuesOf(render(m.release({ name: "a-release-name-of-thirty-chars" })));
    const by = Object.fromEntries(issues.map((i) => [i.path, i]));
    expect(by["CronJob/a-release-name-of-thirty-chars-nightly-report-generator.metadata.name"]).toMatchObject({
      code: "invalid_name",
      message: expect.stringMatching(/is 55 characters; a CronJob name may have at most 52/),
    });
    expect(by["Deployment/a-release-name-of-thirty-chars-web.spec.template.metadata.labels.team"]).toMatchObject({
      message: expect.stringContaining("the value is 64 characters (at most 63)"),
    });
    expect(by["Deployment/a-release-name-of-thirty-chars-web.spec.template.metadata.annotations.bad key!"]).toMatchObject({
      message: expect.stringContaining("the name part must be alphanumerics"),
    });
    const dup = issues.find((i) => i.code === "conflict")!;
    expect(dup.message).toMatch(/^ConfigMap default\/a-release-name-of-thirty-chars-web-a-b is rendered twice \(by components "web" and "web-a"\)$/);
    expect(where(dup)).toEqual([THIS, line]);
  });

  it("a reference cycle or a structural cycle in CUE is a clear error, not a timeout", async () => {
    const text = readFileSync("test/fixtures/cue-k8s-limits/module.cue", "utf8");
    const base = (extra: string) => ({
      ...loadCueModule("test/fixtures/cue-k8s-limits"),
      files: [{ name: "module.cue", text: text.replace(/#components: \{[\s\S]*$/, extra) }],
    });
    const structural = await issuesOf(
      render(base('#T: {next: #T}\n#components: web: {\n\tblueprints.#StatelessWorkload\n\tspec: container: image: "nginx:1.27"\n\t_loop: #T\n}\n')),
    );
    expect(structural[0]!.message).toMatch(/^a structural cycle/);
    const reference = await issuesOf(
      render(
        base(
          '#components: web: {\n\tblueprints.#StatelessWorkload\n\tspec: {\n\t\tcontainer: image: "nginx:1.27"\n\t\tscaling: count: _a\n\t}\n\t_a: _b + 1\n\t_b: _a - 1\n}\n',
        ),
      ),
    );
    expect(reference[0]!.message).toMatch(/^no concrete value can be computed .*a value that depends on itself/);
  });
});
