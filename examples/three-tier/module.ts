import { config, defineModule } from "opm-ts";
import { Expose, HealthCheck, Secrets, StatefulWorkload, StatelessWorkload } from "opm-ts/catalog";

/**
 * Three tiers that find each other only through references: the web frontend calls the API,
 * the API connects to the database. No host name is written down anywhere: each one is a
 * reference to the other component's names (`ctx.components.<name>`), so a release named
 * `store` in namespace `prod` wires `store-web` → `store-api` → `store-db.prod.svc.cluster.local`.
 *
 *   opm build examples/three-tier/module.ts -n prod --name store
 */
export default defineModule({
  metadata: { modulePath: "example.com/modules", name: "three-tier", version: "1.0.0" },
  config: {
    dbPassword: config.string().minLength(12).default("dev-only-password").describe("Set it from a values file in production."),
  },
  components: (cfg, ctx) => {
    const { api, db } = ctx.components;
    return {
      web: StatelessWorkload({
        container: {
          image: "ghcr.io/example/web:1.0.0",
          ports: { http: { targetPort: 8080 } },
          // "http://<release>-api:<port>": the API's Service in the same namespace.
          env: { API_URL: { value: `http://${api.dns.short}:${api.service.port("http")}` } },
        },
      }).with(Expose({ ports: { http: { targetPort: 8080, exposedPort: 80 } } })),

      api: StatelessWorkload({
        container: {
          image: "ghcr.io/example/api:1.0.0",
          ports: { http: { targetPort: 9000 } },
          env: {
            DATABASE_HOST: { value: db.service.host },
            DATABASE_PORT: { value: `${db.service.port("postgres")}` },
            DATABASE_PASSWORD: { fromSecret: { name: db.secret("credentials"), key: "password" } },
            // Release context: where this copy runs.
            RELEASE: { value: `${ctx.release.name}.${ctx.release.namespace} (${ctx.module.version})` },
          },
        },
      })
        .with(Expose({ ports: { http: { targetPort: 9000, exposedPort: 8000 } } }))
        .with(HealthCheck({ readiness: { httpGet: { path: "/health", port: "http" } } })),

      db: StatefulWorkload({
        container: {
          image: "postgres:16.4-alpine",
          ports: { postgres: { targetPort: 5432 } },
          env: { POSTGRES_PASSWORD: { fromSecret: { name: "credentials", key: "password" } } },
        },
        volumeClaimTemplates: { data: { size: "10Gi" } },
      })
        .with(Secrets({ credentials: { data: { password: cfg.dbPassword } } }))
        .with(Expose({ ports: { postgres: { targetPort: 5432, exposedPort: 5432 } } })),
    };
  },
});
