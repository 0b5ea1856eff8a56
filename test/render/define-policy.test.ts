import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { config, defineModule, definePolicy, expr, render, violation, when, PolicyError, ValidationError, loadCueModule, toCueFiles } from "opm-ts";
import { Expose, StatelessWorkload } from "opm-ts/catalog";

/** A team-label rule on components and a max-replicas rule on rendered objects, with a parameter. */
const TeamRules = definePolicy({
  modulePath: "example.com/policies",
  name: "team-rules",
  description: "Components carry a team label; Deployments stay under a replica ceiling.",
  params: { maxReplicas: config.int().min(1).default(10), team: config.string().optional() },
  rules: {
    "team-label": {
      description: "Every component has a team label.",
      onViolation: "warn",
      target: "component",
      check: ({ input }) => [when(expr`${input.labels.team} == _|_`, violation("labels.team", `component ${input.name} has no team label`))],
    },
    "max-replicas": {
      description: "Deployments run at most maxReplicas replicas.",
      target: "object",
      check: ({ input, params }) => [
        when(
          expr`${input.kind} == "Deployment" && ${input.spec.replicas} > ${params.maxReplicas}`,
          violation("spec.replicas", `${input.spec.replicas} replicas is more than ${params.maxReplicas}`),
        ),
      ],
    },
  },
});

const app = (replicas: number, policies = [] as ReturnType<typeof TeamRules>[]) =>
  defineModule({
    metadata: { modulePath: "example.com/t", name: "team", version: "1.0.0" },
    config: {},
    policies,
    components: () => ({
      web: StatelessWorkload({ container: { image: "nginx:1.27" }, scaling: { count: replicas } }),
      api: StatelessWorkload({ container: { image: "nginx:1.27" }, scaling: { count: 1 } }).labels({ team: "core" }),
    }),
  });

const Broken = definePolicy({
  modulePath: "example.com/policies",
  name: "broken",
  description: "A rule whose check does not compile.",
  rules: {
    oops: {
      description: "compares with an undefined name",
      target: "object",
      check: ({ input }) => [when(expr`${input.kind} == undefinedName`, violation("kind", "never"))],
    },
  },
});

describe("definePolicy", () => {
  it("a policy that fails to compile is a clear error naming the policy", async () => {
    const err = await render(app(1), { policies: [Broken()] }).catch((e) => e);
    expect(ValidationError.is(err)).toBe(true);
    expect(err.message).toMatch(/policy example\.com\/policies\/broken@v1/);
    expect(err.message).toMatch(/undefinedName/);
  });

  it("checks components and objects, with parameters and default severities", async () => {
    const out = await render(app(3), { policies: [TeamRules({ maxReplicas: 5 })] });
    expect(out.violations).toEqual([
      expect.objectContaining({
        policy: "example.com/policies/team-rules@v1",
        rule: "team-label",
        severity: "warn",
        component: "web",
        path: "labels.team",
        message: "component web has no team label",
      }),
    ]);
    const err = await render(app(8), { policies: [TeamRules({ maxReplicas: 5 })] }).catch((e) => e);
    expect(PolicyError.is(err)).toBe(true);
    expect(err.issues[0].message).toMatch(/^8 replicas is more than 5 \(policy example\.com\/policies\/team-rules@v1, rule max-replicas\)/);
  });

  it("applies parameter defaults and validates parameters", async () => {
    const ok = await render(app(8), { policies: [TeamRules()] });
    expect(ok.violations.map((v) => v.rule)).toEqual(["team-label"]);
    const bad = await render(app(1), { policies: [TeamRules({ maxReplica: 3 } as never)] }).catch((e) => e);
    expect(ValidationError.is(bad)).toBe(true);
    expect(bad.issues[0].message).toMatch(/^unknown policy parameter: unknown field "maxReplica" \(did you mean "maxReplicas"\?\)/);
  });

  it("compiles into the module's custom package and renders the same from the CUE", async () => {
    const m = app(8, [TeamRules({ maxReplicas: 20 }, { onViolation: "audit" })]);
    const files = toCueFiles(m);
    const custom = files.find((f) => f.name === "custom.cue")!.text;
    expect(custom).toContain("#TeamRulesPolicy: core.#Policy & {");
    expect(custom).toContain("if (#in.labels.team == _|_) {");
    const dir = mkdtempSync(path.join(tmpdir(), "opm-pol-"));
    for (const f of files) writeFileSync(path.join(dir, f.name), f.text);
    const fromTs = await render(m);
    const fromCue = await render(loadCueModule(dir));
    expect(fromTs.violations).toEqual([expect.objectContaining({ rule: "team-label", severity: "audit" })]);
    expect(fromCue.violations).toEqual(fromTs.violations);
    expect(fromCue.yaml()).toBe(fromTs.yaml());
  });

  it("object rules are total over kinds: a rule reading a field a kind lacks does not match it", async () => {
    // The docs' TeamRules example on a module with a Service (which has no spec.replicas).
    const exposed = defineModule({
      metadata: { modulePath: "example.com/t", name: "team", version: "1.0.0" },
      config: {},
      components: () => ({
        web: StatelessWorkload({ container: { image: "nginx:1.27", ports: { http: { targetPort: 8080 } } }, scaling: { count: 8 } })
          .with(Expose({ ports: { http: { targetPort: 8080 } } }))
          .labels({ team: "web" }),
      }),
    });
    const ok = await render(exposed, { policies: [TeamRules({ maxReplicas: 10 })] });
    expect(ok.objects.map((o) => o.kind)).toEqual(["Service", "Deployment"]);
    expect(ok.violations).toEqual([]);
    const err = await render(exposed, { policies: [TeamRules({ maxReplicas: 5 })] }).catch((e) => e);
    expect(PolicyError.is(err)).toBe(true);
    expect(err.issues.map((i: { path: string }) => i.path)).toEqual(["Deployment/team-web.spec.replicas"]);
  });
});
