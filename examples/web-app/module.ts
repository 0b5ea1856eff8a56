import { config, defineModule } from "opm-ts";
import { ConfigMaps, DisruptionBudget, Expose, HealthCheck, HttpRoute, Ingress, Sizing, StatelessWorkload, Volumes } from "opm-ts/catalog";

/**
 * A stateless web app published to the outside world: a Deployment behind a Service, an
 * Ingress (and, when `gateway` is set, a Gateway API HTTPRoute), a HorizontalPodAutoscaler
 * instead of a fixed replica count, probes, sizing, a PodDisruptionBudget, and an immutable
 * ConfigMap used both as environment (envFrom) and as a mounted file. The ConfigMap's name gets
 * a content-hash suffix and the Deployment follows it, so a config change rolls the pods.
 *
 *   opm build examples/web-app/module.ts -n web
 */
export default defineModule({
  metadata: {
    modulePath: "example.com/modules",
    name: "web-app",
    version: "1.2.0",
    description: "A stateless web app with ingress, autoscaling and immutable config",
  },
  config: {
    image: config.string().default("ghcr.io/example/storefront:2.4.1").describe("Container image of the web app."),
    host: config.string().default("shop.example.com").describe("Public host name."),
    tlsSecret: config.string().default("shop-example-com-tls").describe("Existing TLS Secret for the host."),
    gateway: config.string().default("public").describe("Gateway API gateway the HTTPRoute attaches to."),
    minReplicas: config.int().min(1).max(50).default(2).describe("Fewest replicas the autoscaler keeps."),
    maxReplicas: config.int().min(1).max(100).default(10).describe("Most replicas the autoscaler may start."),
    cpuTarget: config.int().min(10).max(95).default(70).describe("Target CPU utilisation in percent."),
    logLevel: config.enum(["debug", "info", "warn", "error"]).default("info").describe("Log level."),
    featureFlags: config.string().default("checkout-v2,search").describe("Comma-separated feature flags."),
  },
  components: (cfg) => ({
    web: StatelessWorkload({
      container: {
        image: cfg.image,
        ports: { http: { targetPort: 8080 } },
        envFrom: [{ configMap: "settings" }],
        env: { POD_NAME: { fromField: "metadata.name" } },
        volumeMounts: { config: { mountPath: "/etc/storefront", readOnly: true } },
      },
      scaling: { auto: { min: cfg.minReplicas, max: cfg.maxReplicas, cpuUtilization: cfg.cpuTarget } },
    })
      .with(
        ConfigMaps({
          settings: {
            immutable: true,
            data: {
              LOG_LEVEL: cfg.logLevel,
              FEATURE_FLAGS: cfg.featureFlags,
              PUBLIC_URL: `https://${cfg.host}`,
              "storefront.yaml": "cache:\n  ttl: 60s\nsession:\n  cookie: sid\n",
            },
          },
        }),
      )
      .with(Volumes({ config: { configMap: { name: "settings" } } }))
      .with(Expose({ ports: { http: { targetPort: 8080, exposedPort: 80 } } }))
      .with(
        Ingress({
          className: "nginx",
          host: cfg.host,
          tlsSecretName: cfg.tlsSecret,
          annotations: { "nginx.ingress.kubernetes.io/proxy-body-size": "8m" },
          paths: [{ path: "/", pathType: "Prefix", port: "http" }],
        }),
      )
      .with(HttpRoute({ gateways: [{ name: cfg.gateway, namespace: "gateway-system" }], hostnames: [cfg.host], rules: [{ path: "/", port: "http" }] }))
      .with(
        HealthCheck({
          readiness: { httpGet: { path: "/healthz/ready", port: "http" }, periodSeconds: 5 },
          liveness: { httpGet: { path: "/healthz/live", port: "http" }, initialDelaySeconds: 10, periodSeconds: 10 },
          startup: { httpGet: { path: "/healthz/live", port: "http" }, failureThreshold: 30, periodSeconds: 2 },
        }),
      )
      .with(Sizing({ cpu: { request: "250m", limit: "1" }, memory: { request: "256Mi", limit: "512Mi" } }))
      .with(DisruptionBudget({ minAvailable: 1 })),
  }),
});
