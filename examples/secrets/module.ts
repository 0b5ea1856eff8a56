import { config, defineModule } from "opm-ts";
import { ConfigMaps, Expose, StatelessWorkload } from "opm-ts/catalog";

/**
 * Secrets as a type: the database password and API token are declared with
 * `config.secret()`, supplied by the release (a values file, `--secret path=@file`, an
 * existing Secret or an External Secrets store) and reach the container by reference only.
 * The app's settings live in an immutable ConfigMap whose name carries a content hash, so a
 * settings change rolls the Deployment.
 *
 * The default export is a release that takes the password from an existing Secret and the
 * token from a Vault store through the External Secrets Operator; a literal can replace
 * either on the command line:
 *
 *   opm build examples/secrets/module.ts --secret db.password=@pw.txt
 */
export const billing = defineModule({
  metadata: { modulePath: "example.com/modules", name: "billing", version: "2.3.0", description: "A billing API with its credentials held as secrets." },
  config: {
    image: config.string().default("ghcr.io/example/billing:2.3.0"),
    logLevel: config.enum(["debug", "info", "warn"]).default("info"),
    db: config.object({
      host: config.string().default("postgres"),
      password: config.secret({ group: "db", key: "password" }).describe("Database password."),
    }),
    apiToken: config.secret({ group: "api", key: "token" }).describe("Token for the payment provider."),
  },
  components: (cfg) => ({
    api: StatelessWorkload({
      container: {
        image: cfg.image,
        ports: { http: { targetPort: 8080 } },
        env: {
          DB_HOST: { value: cfg.db.host },
          DB_PASSWORD: { secret: cfg.db.password },
          PAYMENT_TOKEN: { secret: cfg.apiToken },
        },
        envFrom: [{ configMap: "settings" }],
      },
      scaling: { count: 2 },
    })
      .with(ConfigMaps({ settings: { data: { LOG_LEVEL: cfg.logLevel, CURRENCY: "EUR" }, immutable: true } }))
      .with(Expose({ ports: { http: { targetPort: 8080, exposedPort: 80 } } })),
  }),
});

export default billing.release({
  name: "billing",
  namespace: "payments",
  values: {
    db: { password: { secretRef: { name: "billing-db-credentials", key: "password" } } },
    apiToken: { external: { store: "vault", remoteKey: "billing/payment", property: "token" } },
  },
});
