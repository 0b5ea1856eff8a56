import { describe, expect, it } from "vitest";
import { defineModule } from "../../dsl/module.js";
import { PodScheduling, SecurityContext, StatelessWorkload } from "../../dsl/catalog.js";
import { render } from "../../src/render/render.js";

/**
 * Regressions found while writing the examples:
 * - PodScheduling without `affinity` and without `spreadAcrossNodes` (e.g. only tolerations)
 *   failed to evaluate ("undefined field: spreadAcrossNodes").
 * - SecurityContext with only pod-level fields left `securityContext: {}` on the container.
 */
const m = defineModule({
  metadata: { modulePath: "example.com/t", name: "podreg", version: "1.0.0" },
  components: () => ({
    tolerant: StatelessWorkload({ container: { image: "nginx:1.27" } })
      .with(PodScheduling({ tolerations: [{ operator: "Exists" }], nodeSelector: { "kubernetes.io/os": "linux" } }))
      .with(SecurityContext({ runAsUser: 1000, fsGroup: 1000 })),
    spread: StatelessWorkload({ container: { image: "nginx:1.27" } }).with(
      PodScheduling({
        spreadAcrossNodes: true,
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "pool", operator: "In", values: ["web"] }] }] },
          },
        },
      }),
    ),
  }),
});

describe("pod trait regressions", () => {
  it("renders tolerations alone, pod-only security context, and spread merged with affinity", async () => {
    const out = await render(m.release({ name: "r" }));
    const pod = (name: string) => (out.objects.find((o) => o.kind === "Deployment" && o.metadata.name === name) as Record<string, any>).spec.template.spec;
    const t = pod("r-tolerant");
    expect(t.tolerations).toEqual([{ operator: "Exists" }]);
    expect(t.nodeSelector).toEqual({ "kubernetes.io/os": "linux" });
    expect(t.affinity).toBeUndefined();
    expect(t.securityContext).toEqual({ runAsUser: 1000, fsGroup: 1000 });
    expect(t.containers[0].securityContext).toBeUndefined();
    const s = pod("r-spread");
    expect(Object.keys(s.affinity).sort()).toEqual(["nodeAffinity", "podAntiAffinity"]);
    expect(s.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey).toBe("kubernetes.io/hostname");
  });
});
