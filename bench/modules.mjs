// Generated benchmark modules, built with the public API from dist/.
import { config, defineModule } from "../dist/src/index.js";
import { Expose, StatelessWorkload } from "../dist/dsl/catalog.js";

/** A module of `n` components, each a StatelessWorkload with Scaling and Expose. */
export function statelessModule(n) {
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
            container: { image: cfg.image, ports: { http: { targetPort: 8080 } } },
            scaling: { count: cfg.replicas },
          }).with(Expose({ ports: { http: { targetPort: 8080, exposedPort: 80 } } })),
        ]),
      ),
  });
}
