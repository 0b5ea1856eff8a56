// Generated benchmark modules, built with the public API from dist/.
import { config, defineModule } from "../dist/src/index.js";
import { Expose, StatelessWorkload } from "../dist/dsl/catalog.js";

/**
 * A module of `n` components, each a StatelessWorkload with Scaling and Expose. With
 * `changed`, component number `changed` runs another image (`tag`): one changed component.
 */
export function statelessModule(n, { changed, tag = "1.28" } = {}) {
  return defineModule({
    metadata: { modulePath: "bench.example.com/modules", name: `bench-${n}`, version: "1.0.0" },
    config: {
      image: config.string().default("nginx:1.27"),
      replicas: config.int().min(1).max(20).default(2),
    },
    components: (cfg) =>
      Object.fromEntries(
        Array.from({ length: n }, (_, i) => [
          `web-${i}`,
          StatelessWorkload({
            container: { image: i === changed ? `nginx:${tag}` : cfg.image, ports: { http: { targetPort: 8080 } } },
            scaling: { count: cfg.replicas },
          }).with(Expose({ ports: { http: { targetPort: 8080, exposedPort: 80 } } })),
        ]),
      ),
  });
}

/** A module of `n` components that each carry many traits (probes, sizing, security, PDB, ...). */
export async function manyTraitsModule(n) {
  const c = await import("../dist/dsl/catalog.js");
  return defineModule({
    metadata: { modulePath: "bench.example.com/modules", name: `traits-${n}`, version: "1.0.0" },
    config: { image: config.string().default("nginx:1.27") },
    components: (cfg) =>
      Object.fromEntries(
        Array.from({ length: n }, (_, i) => [
          `svc-${i}`,
          c
            .StatelessWorkload({ container: { image: cfg.image, ports: { http: { targetPort: 8080 } } }, scaling: { count: 3 } })
            .with(c.Expose({ ports: { http: { targetPort: 8080, exposedPort: 80 } } }))
            .with(c.HealthCheck({ liveness: { httpGet: { path: "/healthz", port: "http" } }, readiness: { httpGet: { path: "/ready", port: "http" } } }))
            .with(c.Sizing({ cpu: { request: "100m", limit: "500m" }, memory: { request: "128Mi", limit: "256Mi" } }))
            .with(c.SecurityContext({ runAsNonRoot: true, runAsUser: 10001 }))
            .with(c.DisruptionBudget({ minAvailable: 1 }))
            .with(c.UpdateStrategy({ type: "RollingUpdate", maxSurge: 1, maxUnavailable: 0 }))
            .with(c.PodMetadata({ annotations: { "prometheus.io/scrape": "true" } }))
            .with(c.GracefulShutdown({ terminationGracePeriodSeconds: 30 })),
        ]),
      ),
  });
}
