import { config, defineModule, defineTrait, defineTransformer, forEach, rawCue, when } from "opm-ts";
import { Expose, FQN, StatelessWorkload } from "opm-ts/catalog";

/** A trait defined in TypeScript: back up a component's data on a schedule. */
export const Backup = defineTrait({
  modulePath: "example.com/traits",
  name: "backup",
  description: "Back up the component's data on a schedule with a CronJob.",
  appliesTo: [FQN.Container],
  spec: {
    schedule: config.string().default("0 3 * * *").describe("Cron schedule of the backup."),
    image: config.string().default("restic/restic:0.17.3").describe("Image that runs the backup."),
    retentionDays: config.int().min(1).max(365).optional().describe("Days to keep backups."),
    paths: config.map(config.string()).describe("Paths to back up, keyed by a short name."),
  },
});

/** The Kubernetes side of Backup: a batch/v1 CronJob per component with the trait. */
export const BackupCronJob = defineTransformer({
  modulePath: "example.com/transformers",
  name: "backup-cronjob",
  description: "The Backup trait as a batch/v1 CronJob.",
  requiredResources: [FQN.Container],
  requiredTraits: [Backup],
  output: ({ spec, context }) => [
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: `${context.name}-backup`, namespace: context.release.namespace, labels: context.labels },
      spec: {
        schedule: spec.backup.schedule,
        concurrencyPolicy: "Forbid",
        jobTemplate: {
          spec: {
            template: {
              spec: {
                restartPolicy: "OnFailure",
                containers: [
                  {
                    name: "backup",
                    image: spec.backup.image,
                    args: ["backup", "--tag", rawCue<string>(`"component=\\(#context.component)"`)],
                    env: [
                      ...[when(spec.backup.retentionDays, { name: "RETENTION_DAYS", value: rawCue<string>('"\\(#component.spec.backup.retentionDays)"') })],
                      forEach(spec.backup.paths, (key, path) => ({ name: `BACKUP_PATH_${key}`, value: path })),
                    ],
                  },
                ],
              },
            },
          },
        },
      },
    },
  ],
});

export default defineModule({
  metadata: { modulePath: "example.com/modules", name: "notes", version: "0.1.0", description: "A notes app whose data is backed up nightly." },
  config: {
    image: config.string().default("ghcr.io/example/notes:1.4.0"),
    schedule: config.string().default("30 2 * * *"),
  },
  transformers: [BackupCronJob],
  components: (cfg) => ({
    app: StatelessWorkload({
      container: { image: cfg.image, ports: { http: { targetPort: 8080 } } },
      scaling: { count: 2 },
    })
      .with(Expose({ ports: { http: { targetPort: 8080, exposedPort: 80 } } }))
      .with(Backup({ schedule: cfg.schedule, retentionDays: 14, paths: { data: "/var/lib/notes", uploads: "/srv/uploads" } })),
  }),
});
