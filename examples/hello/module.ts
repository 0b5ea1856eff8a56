import { config, defineModule } from "opm-ts";
import { Expose, StatelessWorkload } from "opm-ts/catalog";

/** A web server: one stateless workload published as a Service. */
export default defineModule({
  metadata: {
    modulePath: "example.com/modules",
    name: "hello",
    version: "0.1.0",
    description: "A small web server",
  },
  config: {
    image: config.string().default("nginx:1.27").describe("Container image to run."),
    replicas: config.int().min(1).max(20).default(2).describe("Number of replicas."),
  },
  components: (cfg) => ({
    web: StatelessWorkload({
      container: { image: cfg.image, ports: { http: { targetPort: 8080 } } },
      scaling: { count: cfg.replicas },
    }).with(Expose({ ports: { http: { targetPort: 8080, exposedPort: 80 } } })),
  }),
});
