// Every error of a failed evaluation is listed, each with its path and source, once.
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Issue } from "../../src/core/errors.js";
import { config, defineModule } from "opm-ts";
import { Expose, Ingress, StatelessWorkload } from "opm-ts/catalog";
import { componentFields, declaredFields } from "../../src/render/all-errors.js";
import { loadCueModule, render } from "../../src/render/render.js";
import { parseHeader } from "../../src/program/link.js";
import manyErrors from "../fixtures/modules/many-errors.js";
import { markLine } from "../support/lines.js";
import { opm } from "../support/opm-cli.js";
import { issuesOf } from "../support/issues.js";

const TS = "test/fixtures/modules/many-errors.ts";
const CUE = "test/fixtures/cue-many-errors";

const at = (i: Issue) => [i.source?.file && path.normalize(i.source.file), i.source?.line];

describe("every error of a failed evaluation", () => {
  it("a TypeScript module: two bad fields in one component and one in another, each at its line", async () => {
    const issues = await issuesOf(render(manyErrors, { cache: false }));
    expect(issues.map((i) => i.path)).toEqual([
      "components.web.spec.container.ports.http.targetPort",
      "components.web.spec.scaling.count",
      "components.nightly.spec.cronJobConfig.schedule",
    ]);
    expect(at(issues[0]!)).toEqual([TS, markLine(TS, "web")]);
    expect(at(issues[1]!)).toEqual([TS, markLine(TS, "web")]);
    expect(at(issues[2]!)).toEqual([TS, markLine(TS, "nightly")]);
    expect(issues[2]).toMatchObject({ code: "out_of_range", message: 'minute "61" is out of range 0-59', constraint: "minute 0-59" });
    for (const i of issues) expect(i.message).not.toMatch(/more errors/);
  });

  it("a bad value and a transformer failure in one component, and a transformer failure in another", async () => {
    const line = Number(new Error().stack!.split("\n")[1]!.match(/:(\d+):\d+\)?$/)![1]);
    const m = defineModule({
      metadata: { modulePath: "example.com/t", name: "mixed", version: "0.1.0" },
      config: { port: config.string().default("htp"), replicas: config.int().default(-3) },
      components: (cfg) => ({
        web: StatelessWorkload({ container: { image: "nginx:1.27", ports: { http: { targetPort: 8080 } } }, scaling: { count: cfg.replicas } })
          .with(Expose({ ports: { http: { targetPort: 8080 } } }))
          .with(Ingress({ paths: [{ port: cfg.port }] })),
        api: StatelessWorkload({ container: { image: "nginx:1.27", ports: { http: { targetPort: 8080 } } } })
          .with(Expose({ ports: { http: { targetPort: 8080 } } }))
          .with(Ingress({ paths: [{ port: cfg.port }] })),
      }),
    });
    const issues = await issuesOf(render(m, { cache: false }));
    expect(issues.map((i) => [i.path, i.source?.line])).toEqual([
      ["components.web.spec.scaling.count", line + 5],
      ["components.web.spec.ingress", line + 7],
      ["components.api.spec.ingress", line + 10],
    ]);
    expect(issues[0]!.message).toBe("the value satisfies none of the allowed alternatives (wrong type or out of bounds)");
    for (const [i, cn] of [
      [1, "web"],
      [2, "api"],
    ] as const) {
      expect(issues[i]).toMatchObject({
        constraint: "transformer opm.dev/catalog/providers/kubernetes/ingress@v1",
        message: `transformer ingress@v1 cannot render component "${cn}": object 1 of its output, spec.rules[0].http.paths[0].backend.service.port.number: undefined field: htp`,
      });
    }
  });

  it("a CUE module folder: values its #config refuses, and bad fields in two components, each at its .cue line", async () => {
    const issues = await issuesOf(render(loadCueModule(CUE), { cache: false }));
    const mod = `${CUE}/module.cue`;
    const rel = `${CUE}/release.cue`;
    expect(issues.map((i) => [i.path, ...at(i)])).toEqual([
      ["values.replicas", rel, markLine(rel, "values")],
      ["values.port", rel, markLine(rel, "values")],
      ["components.web.spec.container.ports.http.targetPort", mod, markLine(mod, "port")],
      ["components.web.spec.scaling.count", mod, markLine(mod, "count")],
      ["components.worker.spec.container.env.1BAD", mod, markLine(mod, "env")],
    ]);
    expect(issues[0]).toMatchObject({ code: "out_of_range", constraint: ">=1", message: "0 is less than the minimum 1" });
    expect(issues[1]).toMatchObject({ code: "out_of_range", constraint: "<=65535", message: "99999 is greater than the maximum 65535" });
    expect(issues[2]).toMatchObject({ code: "out_of_range", message: "invalid value 70000 (out of bound <=65535)" });
    expect(issues[4]).toMatchObject({ code: "invalid_name", message: expect.stringContaining('"1BAD" is not a valid environment variable name') });
    // One cause is listed once, however many fields it breaks (the bad replicas value reaches worker's scaling.count).
    expect(new Set(issues.map((i) => `${i.path} ${i.message}`)).size).toBe(issues.length);
    expect(issues.some((i) => i.path.startsWith("components.worker.spec.scaling"))).toBe(false);
  });

  it("the same failing module lists the same errors in the same order every time", async () => {
    const a = await issuesOf(render(loadCueModule(CUE), { cache: false }));
    const b = await issuesOf(render(loadCueModule(CUE), { cache: false }));
    expect(b).toEqual(a);
  });

  it("opm build and opm vet print every error, one a line, with its source", async () => {
    for (const cmd of ["build", "vet"]) {
      const r = await opm([cmd, CUE]);
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split("\n");
      expect(lines[0]).toBe("error: 5 errors from CUE evaluation");
      expect(lines.slice(1).map((l) => /^ {2}- ([^:]+):.*\((\S+):\d+:\d+\)$/.exec(l)?.slice(1))).toEqual([
        ["values.replicas", `${CUE}/release.cue`],
        ["values.port", `${CUE}/release.cue`],
        ["components.web.spec.container.ports.http.targetPort", `${CUE}/module.cue`],
        ["components.web.spec.scaling.count", `${CUE}/module.cue`],
        ["components.worker.spec.container.env.1BAD", `${CUE}/module.cue`],
      ]);
      expect(r.stderr).not.toMatch(/more errors|\n\s+at /);
    }
  });
});

describe("the fields a CUE text declares", () => {
  it("follows label chains and struct literals, skips definitions, hidden fields and comprehensions, merges repeats", () => {
    const text = [
      "a: b: c: 1",
      'd: {e: "x", "f-g": {h: [1, {i: 2}]}, _hidden: 1, #def: 2}',
      "for k, v in x {(k): v}",
      "d: e2: int & >=1 // a comment: not a label",
      'j: "k: l" + """',
      "  m: n",
      '  """',
    ].join("\n");
    const lines = text.split("\n");
    const atLine = (i: number) => ({ file: "t.cue", line: text.slice(0, i).split("\n").length });
    const flat = (ns: ReturnType<typeof declaredFields>): string[] =>
      ns.flatMap((n) => [`${n.path.join(".")}@${n.source.line}${n.value !== undefined ? `=${n.value}` : ""}`, ...flat(n.children)]);
    expect(flat(declaredFields(text, 0, text.length, atLine))).toEqual([
      "a@1",
      "a.b@1",
      "a.b.c@1=1",
      "d@2",
      'd.e@2="x"',
      "d.f-g@2",
      "d.f-g.h@2=[1, {i: 2}]",
      "d.e2@4=int & >=1 // a comment: not a label",
      `j@5=${lines.slice(4).join("\n").slice(3)}`,
    ]);
  });

  it("finds every component of a package, across files", () => {
    const files = [
      { name: "a.cue", text: "package p\n\n#components: web: {\n\tspec: scaling: count: 1\n}\n" },
      { name: "b.cue", text: 'package p\n\n#components: {\n\tapi: spec: container: image: "x"\n\tweb: spec: container: image: "y"\n}\n' },
    ].map((f) => parseHeader(f));
    const comps = componentFields(files);
    expect(comps.map((c) => [c.path.join("."), c.source.file, c.source.line])).toEqual([
      ["components.web", "a.cue", 3],
      ["components.api", "b.cue", 4],
    ]);
    expect(comps[0]!.children[0]!.children.map((c) => c.path.join("."))).toEqual(["components.web.spec.scaling", "components.web.spec.container"]);
  });
});
