import { config, defineModule } from "opm-ts";
import { ConfigMaps, DaemonWorkload, PodScheduling, Role, SecurityContext, ServiceAccount, Sizing, UpdateStrategy, Volumes } from "opm-ts/catalog";

/**
 * A node agent: Fluent Bit as a DaemonSet, one pod per node, reading container logs from a
 * host path and enriching them with pod metadata from the API server. It tolerates every taint
 * (so it also runs on control-plane and dedicated nodes), runs as its own ServiceAccount, and
 * gets read access to pods and namespaces through a ClusterRole and ClusterRoleBinding.
 *
 *   opm build examples/node-agent/module.ts -n logging
 */
export default defineModule({
  metadata: {
    modulePath: "example.com/modules",
    name: "node-agent",
    version: "3.1.9",
    description: "Fluent Bit log shipper on every node",
  },
  config: {
    image: config.string().default("cr.fluentbit.io/fluent/fluent-bit:3.1.9").describe("Fluent Bit image."),
    outputHost: config.string().default("logs.observability.svc").describe("Where logs are forwarded to."),
    outputPort: config.int().min(1).max(65535).default(24224).describe("Forward protocol port of the receiver."),
    logPath: config.string().regex(/^\//).default("/var/log").describe("Node directory holding the container logs."),
  },
  components: (cfg) => ({
    agent: DaemonWorkload({
      container: {
        image: cfg.image,
        args: ["--config=/fluent-bit/etc/fluent-bit.conf"],
        ports: { metrics: { targetPort: 2020 } },
        env: { NODE_NAME: { fromField: "spec.nodeName" } },
        volumeMounts: {
          varlog: { mountPath: "/var/log", readOnly: true },
          config: { mountPath: "/fluent-bit/etc", readOnly: true },
          state: { mountPath: "/fluent-bit/state" },
        },
      },
    })
      .with(
        ConfigMaps({
          config: {
            data: {
              "fluent-bit.conf": `[SERVICE]
    HTTP_Server  On
    HTTP_Port    2020

[INPUT]
    Name         tail
    Path         /var/log/containers/*.log
    DB           /fluent-bit/state/tail.db
    Tag          kube.*
    multiline.parser cri

[FILTER]
    Name         kubernetes
    Match        kube.*

[OUTPUT]
    Name         forward
    Match        *
    Host         ${cfg.outputHost}
    Port         ${cfg.outputPort}
`,
            },
          },
        }),
      )
      .with(
        Volumes({
          varlog: { hostPath: { path: cfg.logPath, type: "Directory" } },
          config: { configMap: { name: "config" } },
          state: { hostPath: { path: "/var/lib/fluent-bit", type: "DirectoryOrCreate" } },
        }),
      )
      .with(ServiceAccount({ automountToken: true }))
      .with(
        Role({
          reader: {
            scope: "cluster",
            rules: [{ apiGroups: [""], resources: ["pods", "namespaces"], verbs: ["get", "list", "watch"] }],
          },
        }),
      )
      .with(PodScheduling({ tolerations: [{ operator: "Exists" }] }))
      .with(UpdateStrategy({ type: "RollingUpdate", maxUnavailable: "10%" }))
      .with(SecurityContext({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } }))
      .with(Sizing({ cpu: { request: "50m", limit: "500m" }, memory: { request: "64Mi", limit: "256Mi" } })),
  }),
});
