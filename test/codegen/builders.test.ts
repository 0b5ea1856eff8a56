import { describe, expect, it } from "vitest";
import { defineModule, render, ValidationError } from "opm-ts";
import { AllowedRegistries, BUILTIN_POLICIES, Container, Expose, MinReplicas, Scaling, StatelessWorkload } from "opm-ts/catalog";
import { checkValue as validate } from "../../src/core/schema.js";

describe("generated builders validate when called", () => {
  it("collects bounds, enum, pattern and unknown-field issues onto the part", () => {
    const p = Expose({ type: "Internal" as never, ports: { http: { targetPort: 70000 } } });
    expect(p.issues!.map((i) => [i.code, i.path])).toEqual([
      ["enum", "expose.type"],
      ["out_of_range", "expose.ports.http.targetPort"],
    ]);
    const c = Container({ image: "has space", extra: 1 } as never);
    expect(c.issues!.map((i) => [i.code, i.path])).toEqual([
      ["pattern", "container.image"],
      ["unknown_field", "container.extra"],
    ]);
    expect(Scaling().issues).toEqual([]);
  });

  it("generated policy builders check their parameters against the catalog's #XParams", () => {
    expect(AllowedRegistries({ registries: [] }).issues.map((i) => [i.code, i.path])).toEqual([
      ["out_of_range", "policies.opm.dev/catalog/policies/allowed-registries@v1.params.registries"],
    ]);
    expect(MinReplicas({ min: 0 }).issues.map((i) => i.code)).toEqual(["out_of_range"]);
    expect(MinReplicas().issues).toEqual([]);
    expect(BUILTIN_POLICIES.minReplicas.description).toBe(
      "Deployments and StatefulSets run at least min replicas (autoscalers at least min as their minimum).",
    );
  });

  it("the schema validator handles every keyword", () => {
    expect(validate({ type: "array", items: { type: "integer" }, maxItems: 1 }, [1, "x"], "l").map((i) => i.code)).toEqual(["out_of_range", "invalid_type"]);
    expect(validate({ type: "object", properties: { a: { type: "string" } }, required: ["a"] }, {}, "o").map((i) => i.code)).toEqual(["required"]);
    expect(validate({ type: "string", minLength: 2 }, "x", "s").map((i) => i.code)).toEqual(["out_of_range"]);
    expect(validate({ oneOf: [{ type: "string" }, { type: "integer" }] }, true, "u").map((i) => i.code)).toEqual(["invalid_type"]);
  });

  it("reports part issues at render with the author's file and line", async () => {
    const m = defineModule({
      metadata: { modulePath: "example.com/m", name: "bad", version: "0.1.0" },
      components: () => ({
        web: StatelessWorkload({ container: { image: "nginx" }, scaling: { count: 5000 } }),
      }),
    });
    const err = await render(m).catch((e: unknown) => e);
    expect(ValidationError.is(err)).toBe(true);
    const issue = (err as ValidationError).issues[0]!;
    expect(issue).toMatchObject({ code: "out_of_range", path: "components.web.spec.scaling.count", constraint: "<=1000" });
    expect(issue.source?.file).toMatch(/builders\.test\.ts$/);
    expect(issue.source?.line).toBeGreaterThan(0);
  });

  it("renders a module built from generated builders", async () => {
    const m = defineModule({
      metadata: { modulePath: "example.com/m", name: "ok", version: "0.1.0" },
      components: () => ({
        web: StatelessWorkload({ container: { image: "nginx", ports: { http: { targetPort: 80 } } }, scaling: { count: 2 } }).with(
          Expose({ ports: { http: { targetPort: 80 } } }),
        ),
      }),
    });
    const out = await render(m);
    expect(out.objects.map((o) => o.kind)).toEqual(["Service", "Deployment"]);
    expect((out.objects[1]!.spec as { replicas: number }).replicas).toBe(2);
    expect((out.objects[0]!.spec as { ports: { port: number }[] }).ports[0]!.port).toBe(80);
  });
});
