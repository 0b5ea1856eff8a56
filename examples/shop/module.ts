import { config, defineModule } from "opm-ts";
import {
  DisruptionBudget,
  Expose,
  HealthCheck,
  Ingress,
  NetworkRules,
  PersistentClaims,
  Role,
  ScheduledTaskWorkload,
  Secrets,
  SecurityContext,
  ServiceAccount,
  Sizing,
  StatefulWorkload,
  StatelessWorkload,
  UpdateStrategy,
  Volumes,
} from "opm-ts/catalog";

/**
 * A multi-component application in one module: a web frontend, an API, a background worker,
 * a PostgreSQL database and a nightly clean-up CronJob. They share one config: `cfg.db.*` is
 * used by the database and by every client (template strings build the connection URL), and
 * `cfg.version` tags every image. The clients find the database through references to the db
 * component (`ctx.components.db`): its Service host, its port and its Secret follow the
 * release name and namespace, so `--name acme -n prod` points every client at `acme-db`. The API runs as its own ServiceAccount with a Role that
 * lets it read its ConfigMaps, the worker keeps uploads on a PersistentVolumeClaim, and only
 * the API, worker and clean-up job may reach the database.
 *
 *   opm build examples/shop/module.ts -n shop
 */
export default defineModule({
  metadata: {
    modulePath: "example.com/modules",
    name: "shop",
    version: "3.0.0",
    description: "An online shop: web, API, worker, database and nightly clean-up",
  },
  config: {
    registry: config.string().default("ghcr.io/example").describe("Registry of the shop images."),
    version: config.string().default("3.0.0").describe("Tag of the web, api and worker images."),
    host: config.string().default("shop.example.com").describe("Public host name."),
    web: config.object({
      replicas: config.int().min(1).max(20).default(2),
    }),
    api: config.object({
      replicas: config.int().min(1).max(20).default(3),
      logLevel: config.enum(["debug", "info", "warn"]).default("info"),
    }),
    worker: config.object({
      concurrency: config.int().min(1).max(64).default(4),
      uploadsSize: config.quantity().default("20Gi"),
    }),
    db: config.object({
      port: config.int().default(5432),
      name: config.dnsLabel().default("shop"),
      user: config.string().default("shop"),
      password: config.string().minLength(12).default("dev-only-password").describe("Set it from a values file in production."),
      storage: config.quantity().default("20Gi"),
    }),
    cleanupSchedule: config.string().default("0 4 * * *").describe("When expired carts and sessions are purged."),
  },
  components: (cfg, ctx) => {
    // References to the db component: "<release>-db", its Service port, "<release>-db-credentials".
    const db = ctx.components.db;
    const dbUrl = `postgres://${cfg.db.user}@${db.dns.short}:${db.service.port("postgres")}/${cfg.db.name}?sslmode=disable`;
    const dbPassword = { fromSecret: { name: db.secret("credentials"), key: "password" } };
    const hardened = SecurityContext({
      runAsNonRoot: true,
      runAsUser: 10001,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: "RuntimeDefault",
    });

    return {
      web: StatelessWorkload({
        container: {
          image: `${cfg.registry}/shop-web:${cfg.version}`,
          ports: { http: { targetPort: 8080 } },
          env: { API_URL: { value: `https://${cfg.host}/api` } },
        },
        scaling: { count: cfg.web.replicas },
      })
        .with(Expose({ ports: { http: { targetPort: 8080, exposedPort: 80 } } }))
        .with(
          Ingress({
            className: "nginx",
            host: cfg.host,
            tlsSecretName: "shop-tls",
            paths: [{ path: "/", port: "http" }],
          }),
        )
        .with(HealthCheck({ readiness: { httpGet: { path: "/healthz", port: "http" } } }))
        .with(Sizing({ cpu: { request: "100m" }, memory: { request: "128Mi", limit: "256Mi" } }))
        .with(DisruptionBudget({ maxUnavailable: 1 }))
        .with(hardened),

      api: StatelessWorkload({
        container: {
          image: `${cfg.registry}/shop-api:${cfg.version}`,
          ports: { http: { targetPort: 9000 } },
          env: {
            DATABASE_URL: { value: dbUrl },
            DATABASE_PASSWORD: dbPassword,
            LOG_LEVEL: { value: cfg.api.logLevel },
          },
          volumeMounts: { tmp: { mountPath: "/tmp" } },
        },
        scaling: { count: cfg.api.replicas },
      })
        .with(Volumes({ tmp: { emptyDir: { sizeLimit: "256Mi" } } }))
        .with(Expose({ ports: { http: { targetPort: 9000, exposedPort: 80 } } }))
        .with(
          Ingress({
            className: "nginx",
            host: cfg.host,
            tlsSecretName: "shop-tls",
            paths: [{ path: "/api", port: "http" }],
          }),
        )
        .with(
          HealthCheck({
            readiness: { httpGet: { path: "/api/health", port: "http" }, periodSeconds: 5 },
            liveness: { httpGet: { path: "/api/health", port: "http" }, initialDelaySeconds: 15 },
          }),
        )
        .with(ServiceAccount({ automountToken: true }))
        .with(Role({ config: { rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] }] } }))
        .with(Sizing({ cpu: { request: "250m", limit: "1" }, memory: { request: "256Mi", limit: "512Mi" } }))
        .with(hardened),

      worker: StatelessWorkload({
        container: {
          image: `${cfg.registry}/shop-worker:${cfg.version}`,
          args: ["--queue=orders", `--concurrency=${cfg.worker.concurrency}`],
          env: { DATABASE_URL: { value: dbUrl }, DATABASE_PASSWORD: dbPassword },
          volumeMounts: { uploads: { mountPath: "/data/uploads" } },
        },
        scaling: { count: 1 },
      })
        .with(PersistentClaims({ uploads: { size: cfg.worker.uploadsSize, accessModes: ["ReadWriteOnce"] } }))
        .with(Volumes({ uploads: { persistentClaim: { name: "uploads" } } }))
        // A ReadWriteOnce claim cannot be attached to a new pod on another node while the old
        // one still runs: replace the pod instead of rolling.
        .with(UpdateStrategy({ type: "Recreate" }))
        .with(Sizing({ cpu: { request: "250m" }, memory: { request: "256Mi", limit: "1Gi" } }))
        .with(hardened),

      db: StatefulWorkload({
        container: {
          image: "postgres:16.4-alpine",
          ports: { postgres: { targetPort: 5432 } },
          env: {
            POSTGRES_DB: { value: cfg.db.name },
            POSTGRES_USER: { value: cfg.db.user },
            POSTGRES_PASSWORD: { fromSecret: { name: "credentials", key: "password" } },
            PGDATA: { value: "/var/lib/postgresql/data/pgdata" },
          },
          volumeMounts: { data: { mountPath: "/var/lib/postgresql/data" } },
        },
        volumeClaimTemplates: { data: { size: cfg.db.storage } },
      })
        .with(Secrets({ credentials: { data: { password: cfg.db.password } } }))
        .with(Expose({ ports: { postgres: { targetPort: 5432, exposedPort: cfg.db.port } } }))
        .with(HealthCheck({ readiness: { exec: { command: ["pg_isready", "-h", "127.0.0.1"] } } }))
        .with(SecurityContext({ runAsNonRoot: true, runAsUser: 70, fsGroup: 70 }))
        .with(Sizing({ cpu: { request: "500m" }, memory: { request: "1Gi", limit: "2Gi" } }))
        .with(
          NetworkRules({
            ingress: [{ peers: [{ component: "api" }, { component: "worker" }, { component: "cleanup" }], ports: [{ port: 5432 }] }],
          }),
        ),

      cleanup: ScheduledTaskWorkload({
        container: {
          image: `${cfg.registry}/shop-api:${cfg.version}`,
          command: ["/app/shop-admin"],
          args: ["purge", "--expired-carts", "--sessions-older-than=30d"],
          env: { DATABASE_URL: { value: dbUrl }, DATABASE_PASSWORD: dbPassword },
        },
        cronJobConfig: { schedule: cfg.cleanupSchedule, concurrencyPolicy: "Forbid" },
        jobConfig: { backoffLimit: 1, activeDeadlineSeconds: 1800 },
      }).with(hardened),
    };
  },
});
