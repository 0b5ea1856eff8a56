import { config, defineModule } from "opm-ts";
import { Expose, HealthCheck, NetworkRules, Secrets, SecurityContext, Sizing, StatefulWorkload } from "opm-ts/catalog";

/**
 * A stateful PostgreSQL database: a StatefulSet with a per-replica volume claim template and
 * its headless Service, a ClusterIP Service for clients, a Secret with the credentials (the
 * password has no default, so every release must supply it), a restrictive security context
 * and a NetworkPolicy that only lets pods labelled `postgres.example.com/client: "true"` reach
 * port 5432.
 *
 * The default export is a ModuleRelease (the module is the named export `database`), showing
 * how a team pins one deployment in code:
 *
 *   opm build examples/database/module.ts
 */
export const database = defineModule({
  metadata: {
    modulePath: "example.com/modules",
    name: "database",
    version: "16.4.0",
    description: "PostgreSQL with persistent storage",
  },
  config: {
    image: config.string().default("postgres:16.4-alpine").describe("PostgreSQL image."),
    storageSize: config.quantity().default("10Gi").describe("Size of each replica's data volume."),
    database: config.dnsLabel().default("app").describe("Name of the database created on first start."),
    user: config.string().default("app").describe("Owner of the database."),
    password: config.string().minLength(12).describe("Password of the database owner (set it from a values file)."),
  },
  components: (cfg) => ({
    postgres: StatefulWorkload({
      container: {
        image: cfg.image,
        ports: { postgres: { targetPort: 5432 } },
        env: {
          POSTGRES_DB: { value: cfg.database },
          POSTGRES_USER: { fromSecret: { name: "credentials", key: "username" } },
          POSTGRES_PASSWORD: { fromSecret: { name: "credentials", key: "password" } },
          PGDATA: { value: "/var/lib/postgresql/data/pgdata" },
        },
        volumeMounts: { data: { mountPath: "/var/lib/postgresql/data" } },
      },
      volumeClaimTemplates: { data: { size: cfg.storageSize } },
      scaling: { count: 1 },
    })
      .with(Secrets({ credentials: { data: { username: cfg.user, password: cfg.password } } }))
      .with(Expose({ ports: { postgres: { targetPort: 5432 } } }))
      .with(
        HealthCheck({
          readiness: { exec: { command: ["pg_isready", "-h", "127.0.0.1", "-p", "5432"] }, periodSeconds: 5 },
          liveness: { tcpSocket: { port: "postgres" }, initialDelaySeconds: 30, periodSeconds: 10 },
        }),
      )
      .with(
        SecurityContext({
          runAsNonRoot: true,
          runAsUser: 70,
          runAsGroup: 70,
          fsGroup: 70,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
          seccompProfile: "RuntimeDefault",
        }),
      )
      .with(Sizing({ cpu: { request: "500m", limit: "2" }, memory: { request: "1Gi", limit: "2Gi" } }))
      .with(
        NetworkRules({
          ingress: [{ peers: [{ selector: { pods: { "postgres.example.com/client": "true" } } }], ports: [{ port: 5432 }] }],
        }),
      ),
  }),
});

export default database.release({
  name: "orders-db",
  namespace: "data",
  values: { password: "change-me-in-a-values-file" },
});
