import { config, defineModule } from "opm-ts";
import { Sizing, TaskWorkload } from "opm-ts/catalog";

/**
 * A one-off batch Job: a database schema migration that runs to completion. Job config bounds
 * it: a few retries, a deadline for the whole run, one completion, and clean-up an hour after it
 * finishes. Credentials come from an existing Secret the platform provides.
 *
 *   opm build examples/batch-job/module.ts -n shop --name migrate-42 -f values.yaml
 */
export default defineModule({
  metadata: {
    modulePath: "example.com/modules",
    name: "batch-job",
    version: "1.0.0",
    description: "A database migration Job",
  },
  config: {
    image: config.string().default("ghcr.io/example/shop-migrations:42").describe("Image holding the migrations."),
    targetVersion: config.string().default("latest").describe('Schema version to migrate to ("latest" for the newest).'),
    databaseSecret: config.string().default("shop-db-credentials").describe("Existing Secret with a `url` key."),
    retries: config.int().min(0).max(10).default(3).describe("Retries before the Job fails."),
    deadlineSeconds: config.int().min(60).default(900).describe("Seconds the whole migration may take."),
  },
  components: (cfg) => ({
    migrate: TaskWorkload({
      container: {
        image: cfg.image,
        command: ["/app/migrate"],
        args: ["up", `--to=${cfg.targetVersion}`],
        env: {
          DATABASE_URL: { fromSecret: { name: cfg.databaseSecret, key: "url" } },
          MIGRATION_LOCK_TIMEOUT: { value: "60s" },
        },
      },
      jobConfig: {
        completions: 1,
        parallelism: 1,
        backoffLimit: cfg.retries,
        activeDeadlineSeconds: cfg.deadlineSeconds,
        ttlSecondsAfterFinished: 3600,
      },
    }).with(Sizing({ cpu: { request: "100m", limit: "1" }, memory: { request: "128Mi", limit: "512Mi" } })),
  }),
});
