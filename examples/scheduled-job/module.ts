import { config, defineModule } from "opm-ts";
import { ScheduledTaskWorkload, Secrets, SecurityContext, Volumes } from "opm-ts/catalog";

/**
 * A scheduled CronJob: a nightly sales report, run in the business's time zone, never two
 * runs at once, with a few finished Jobs kept for inspection. The report is written to a
 * scratch volume and mailed through an SMTP relay whose password is a Secret of the module.
 *
 *   opm build examples/scheduled-job/module.ts -n reporting
 */
export default defineModule({
  metadata: {
    modulePath: "example.com/modules",
    name: "scheduled-job",
    version: "0.3.0",
    description: "A nightly report CronJob",
  },
  config: {
    image: config.string().default("ghcr.io/example/sales-report:0.3.0").describe("Image of the report generator."),
    schedule: config.string().default("15 2 * * *").describe("Cron schedule (in timeZone)."),
    timeZone: config.string().default("Europe/Berlin").describe("IANA time zone of the schedule."),
    recipients: config.string().default("sales@example.com").describe("Comma-separated report recipients."),
    smtpPassword: config.string().default("smtp-password-placeholder").describe("Password of the SMTP relay."),
  },
  components: (cfg) => ({
    report: ScheduledTaskWorkload({
      container: {
        image: cfg.image,
        args: ["--period=yesterday", "--out=/reports", `--mail-to=${cfg.recipients}`],
        env: {
          SMTP_HOST: { value: "smtp.example.com:587" },
          SMTP_PASSWORD: { fromSecret: { name: "smtp", key: "password" } },
        },
        volumeMounts: { reports: { mountPath: "/reports" } },
      },
      cronJobConfig: {
        schedule: cfg.schedule,
        timeZone: cfg.timeZone,
        concurrencyPolicy: "Forbid",
        startingDeadlineSeconds: 600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 5,
      },
      jobConfig: { backoffLimit: 2, activeDeadlineSeconds: 3600, ttlSecondsAfterFinished: 86400 },
    })
      .with(Secrets({ smtp: { data: { password: cfg.smtpPassword } } }))
      .with(Volumes({ reports: { emptyDir: { sizeLimit: "1Gi" } } }))
      .with(SecurityContext({ runAsNonRoot: true, runAsUser: 10001, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false })),
  }),
});
