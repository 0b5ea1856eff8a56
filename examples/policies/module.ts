import { config, defineModule } from "opm-ts";
import { Expose, NoLatestTag, ResourcesRequired, StatelessWorkload } from "opm-ts/catalog";

/**
 * A module that attaches its own policies: images must be pinned (warn) and resource
 * requests/limits are audited. Build it under the platform policies in platform.ts to see a
 * blocking violation as well:
 *
 *   opm build examples/policies/module.ts --policy examples/policies/platform.ts   # exits 2
 */
export default defineModule({
  metadata: { modulePath: "example.com/modules", name: "governed", version: "1.0.0" },
  config: {
    image: config.string().default("nginx:latest"),
    replicas: config.int().min(1).default(1),
  },
  policies: [NoLatestTag({ onViolation: "warn" }), ResourcesRequired({ onViolation: "audit" })],
  components: (cfg) => ({
    web: StatelessWorkload({
      container: { image: cfg.image, ports: { http: { targetPort: 8080 } } },
      scaling: { count: cfg.replicas },
    }).with(Expose({ ports: { http: { targetPort: 8080, exposedPort: 80 } } })),
  }),
});
