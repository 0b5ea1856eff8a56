import { describe, expect, it } from "vitest";
import { defineModule } from "../../dsl/module.js";
import { PolicyError, ValidationError } from "../../src/core/errors.js";
import { AllowedRegistries, MinReplicas, NoHostAccess, NoLatestTag, ResourcesRequired, RunAsNonRoot, usePolicy, BUILTIN_POLICIES } from "../../dsl/policy.js";
import { Expose, StatelessWorkload } from "../../dsl/catalog.js";
import { render } from "../../src/render/render.js";

const mod = (image: string, replicas = 1, policies = [] as ReturnType<typeof NoLatestTag>[]) =>
  defineModule({
    metadata: { modulePath: "example.com/t", name: "pol", version: "1.0.0" },
    config: {},
    policies,
    components: () => ({
      web: StatelessWorkload({ container: { image, ports: { http: { targetPort: 80 } } }, scaling: { count: replicas } }).with(
        Expose({ ports: { http: { targetPort: 80 } } }),
      ),
      api: StatelessWorkload({ container: { image: "registry.example.com/api:1.0" }, scaling: { count: 3 } }).labels({ tier: "backend" }),
    }),
  });

describe("built-in policies", () => {
  it("no-latest-tag flags latest and untagged images, accepts tags and digests", async () => {
    for (const [image, bad] of [
      ["nginx", true],
      ["nginx:latest", true],
      ["registry:5000/team/app", true],
      ["registry:5000/team/app:1.2", false],
      ["nginx@sha256:abc", false],
      ["nginx:1.27", false],
    ] as const) {
      const out = await render(mod(image), { policies: [NoLatestTag({ onViolation: "audit" })] });
      const v = out.violations.filter((x) => x.component === "web");
      expect(v.length, image).toBe(bad ? 1 : 0);
      if (bad)
        expect(v[0]).toMatchObject({ rule: "pinned-image", severity: "audit", object: "Deployment/pol-web", path: "spec.template.spec.containers[0].image" });
    }
  });

  it("block fails the render with every blocking violation; warn and audit render", async () => {
    const err = await render(mod("nginx:latest"), { policies: [NoLatestTag(), ResourcesRequired({ onViolation: "warn" })] }).catch((e) => e);
    expect(PolicyError.is(err)).toBe(true);
    expect(err.exitCode).toBe(2);
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0].path).toBe("Deployment/pol-web.spec.template.spec.containers[0].image");
    expect(err.warnings.length).toBe(8); // 2 containers x 4 missing settings
    const ok = await render(mod("nginx:1.27"), { policies: [NoLatestTag(), ResourcesRequired({ onViolation: "warn" })] });
    expect(ok.violations.map((v) => v.severity)).toEqual(Array(8).fill("warn"));
  });

  it("run-as-non-root and no-host-access find nothing in a plain pod but flag what they must", async () => {
    const out = await render(mod("nginx:1.27"), { policies: [RunAsNonRoot({ onViolation: "audit" }), NoHostAccess({ onViolation: "audit" })] });
    expect(out.violations.filter((v) => v.policy.endsWith("run-as-non-root@v1"))).toHaveLength(2);
    expect(out.violations.filter((v) => v.policy.endsWith("no-host-access@v1"))).toHaveLength(0);
  });

  it("allowed-registries and min-replicas take parameters (defaults apply)", async () => {
    const out = await render(mod("nginx:1.27"), {
      policies: [AllowedRegistries({ registries: ["registry.example.com/"] }, { onViolation: "warn" }), MinReplicas({}, { onViolation: "audit" })],
    });
    const reg = out.violations.filter((v) => v.rule === "allowed-registry");
    expect(reg.map((v) => v.component)).toEqual(["web"]);
    const min = out.violations.filter((v) => v.rule === "min-replicas");
    expect(min).toHaveLength(1);
    expect(min[0]!.message).toBe("Deployment runs 1 replicas; at least 2 are required");
  });

  it("selectors restrict a policy to components by label or name", async () => {
    const byLabel = await render(mod("nginx:1.27"), {
      policies: [MinReplicas({ min: 5 }, { onViolation: "audit", selector: { labels: { tier: "backend" } } })],
    });
    expect(byLabel.violations.map((v) => v.component)).toEqual(["api"]);
    const byName = await render(mod("nginx:1.27"), { policies: [MinReplicas({ min: 5 }, { onViolation: "audit", selector: { components: ["web"] } })] });
    expect(byName.violations.map((v) => v.component)).toEqual(["web"]);
  });

  it("module policies are compiled into the module's CUE and checked", async () => {
    const m = mod("nginx:latest", 1, [NoLatestTag({ onViolation: "warn" })]);
    expect(m.toCue()).toContain('#policies: [\n\tpolicies.#NoLatestTagPolicy & {\n\t\trules: [string]: onViolation: "warn"\n\t},\n]');
    expect(m.toCue()).toContain('import (\n\tcore "opm.dev/catalog/core@v1"\n\tpolicies "opm.dev/catalog/policies@v1"\n)');
    const out = await render(m);
    expect(out.violations).toHaveLength(1);
  });

  it("an unknown policy parameter or a bad severity is a clear error", async () => {
    const err = await render(mod("nginx:1.27"), {
      policies: [usePolicy(BUILTIN_POLICIES.minReplicas, { minimum: 3 }), NoLatestTag({ onViolation: "loud" as never })],
    }).catch((e) => e);
    expect(ValidationError.is(err)).toBe(true);
    const msgs = err.issues.map((i: { message: string }) => i.message);
    expect(msgs.some((m: string) => m.startsWith('unknown policy parameter: unknown field "minimum"'))).toBe(true);
    expect(msgs.some((m: string) => m.includes('"loud" is not one of "block" | "warn" | "audit"'))).toBe(true);
    expect(err.issues[0].source.file).toBe("test/render/policy.test.ts");
    const missing = await render(mod("nginx:1.27"), { policies: [AllowedRegistries({} as never)] }).catch((e) => e);
    expect(missing.issues[0]).toMatchObject({ code: "required", path: "policies.opm.dev/catalog/policies/allowed-registries@v1.params.registries" });
  });
});
