/**
 * What the test API server knows about objects: the built-in resource kinds, the errors it answers
 * with, label selectors, and the defaulting, validation and ready status of a few kinds. Part of the
 * test API server (test/support/kube-api-server.ts).
 */
import type { Obj } from "./fields.js";

export interface ResourceDef {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export const BUILTIN: Array<[string, string, Array<[string, string, boolean]>]> = [
  [
    "",
    "v1",
    [
      ["Namespace", "namespaces", false],
      ["ConfigMap", "configmaps", true],
      ["Secret", "secrets", true],
      ["Service", "services", true],
      ["ServiceAccount", "serviceaccounts", true],
      ["PersistentVolumeClaim", "persistentvolumeclaims", true],
      ["PersistentVolume", "persistentvolumes", false],
      ["Pod", "pods", true],
      ["Event", "events", true],
      ["ResourceQuota", "resourcequotas", true],
      ["LimitRange", "limitranges", true],
    ],
  ],
  [
    "apps",
    "v1",
    [
      ["Deployment", "deployments", true],
      ["StatefulSet", "statefulsets", true],
      ["DaemonSet", "daemonsets", true],
      ["ReplicaSet", "replicasets", true],
    ],
  ],
  [
    "batch",
    "v1",
    [
      ["Job", "jobs", true],
      ["CronJob", "cronjobs", true],
    ],
  ],
  [
    "networking.k8s.io",
    "v1",
    [
      ["Ingress", "ingresses", true],
      ["NetworkPolicy", "networkpolicies", true],
      ["IngressClass", "ingressclasses", false],
    ],
  ],
  ["autoscaling", "v2", [["HorizontalPodAutoscaler", "horizontalpodautoscalers", true]]],
  ["policy", "v1", [["PodDisruptionBudget", "poddisruptionbudgets", true]]],
  [
    "rbac.authorization.k8s.io",
    "v1",
    [
      ["Role", "roles", true],
      ["RoleBinding", "rolebindings", true],
      ["ClusterRole", "clusterroles", false],
      ["ClusterRoleBinding", "clusterrolebindings", false],
    ],
  ],
  ["coordination.k8s.io", "v1", [["Lease", "leases", true]]],
  ["storage.k8s.io", "v1", [["StorageClass", "storageclasses", false]]],
  [
    "admissionregistration.k8s.io",
    "v1",
    [
      ["MutatingWebhookConfiguration", "mutatingwebhookconfigurations", false],
      ["ValidatingWebhookConfiguration", "validatingwebhookconfigurations", false],
    ],
  ],
  ["apiextensions.k8s.io", "v1", [["CustomResourceDefinition", "customresourcedefinitions", false]]],
  [
    "gateway.networking.k8s.io",
    "v1",
    [
      ["Gateway", "gateways", true],
      ["HTTPRoute", "httproutes", true],
      ["GRPCRoute", "grpcroutes", true],
      ["GatewayClass", "gatewayclasses", false],
    ],
  ],
  [
    "external-secrets.io",
    "v1beta1",
    [
      ["ExternalSecret", "externalsecrets", true],
      ["SecretStore", "secretstores", true],
      ["ClusterSecretStore", "clustersecretstores", false],
    ],
  ],
];

const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** An API error: answered as a `Status` object with this code and reason. */
export class HttpErr extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Obj,
  ) {
    super(message);
  }
}

export function matchSelector(labels: Record<string, string>, selector: string): boolean {
  if (!selector.trim()) return true;
  const parts = selector.match(/([^,(]+(\([^)]*\))?)/g) ?? [];
  return parts.every((raw) => {
    const s = raw.trim();
    const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(s);
    if (set) {
      const vals = set[3]!.split(",").map((x) => x.trim());
      return set[2] === "in" ? vals.includes(labels[set[1]!] ?? "\u0001") : !vals.includes(labels[set[1]!] ?? "\u0001");
    }
    const ne = /^([^!=]+)!=(.*)$/.exec(s);
    if (ne) return labels[ne[1]!.trim()] !== ne[2]!.trim();
    const eq = /^([^=]+)==?(.*)$/.exec(s);
    if (eq) return labels[eq[1]!.trim()] === eq[2]!.trim();
    if (s.startsWith("!")) return !(s.slice(1) in labels);
    return s in labels;
  });
}

export function defaults(o: Obj): void {
  const kind = o.kind;
  const podSpec = (ps: Obj | undefined) => {
    if (!ps) return;
    ps.restartPolicy ??= "Always";
    ps.dnsPolicy ??= "ClusterFirst";
    ps.terminationGracePeriodSeconds ??= 30;
    ps.schedulerName ??= "default-scheduler";
    ps.securityContext ??= {};
    for (const c of [...(ps.containers ?? []), ...(ps.initContainers ?? [])]) {
      c.imagePullPolicy ??= String(c.image ?? "").endsWith(":latest") ? "Always" : "IfNotPresent";
      c.terminationMessagePath ??= "/dev/termination-log";
      c.terminationMessagePolicy ??= "File";
      c.resources ??= {};
      for (const p of c.ports ?? []) p.protocol ??= "TCP";
    }
  };
  if (kind === "Deployment") {
    o.spec ??= {};
    const s = o.spec;
    s.replicas ??= 1;
    s.revisionHistoryLimit ??= 10;
    s.progressDeadlineSeconds ??= 600;
    s.strategy ??= { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } };
    podSpec(s.template?.spec);
  } else if (kind === "StatefulSet" || kind === "DaemonSet" || kind === "ReplicaSet") {
    o.spec ??= {};
    const s = o.spec;
    if (kind !== "DaemonSet") s.replicas ??= 1;
    s.revisionHistoryLimit ??= 10;
    podSpec(s.template?.spec);
  } else if (kind === "Job") {
    o.spec ??= {};
    const s = o.spec;
    s.backoffLimit ??= 6;
    s.completions ??= 1;
    s.parallelism ??= 1;
    podSpec(s.template?.spec);
  } else if (kind === "Service") {
    o.spec ??= {};
    const s = o.spec;
    s.type ??= "ClusterIP";
    s.sessionAffinity ??= "None";
    s.clusterIP ??= `10.96.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    s.clusterIPs ??= [s.clusterIP];
    for (const p of s.ports ?? []) {
      p.protocol ??= "TCP";
      p.targetPort ??= p.port;
    }
  } else if (kind === "Secret") {
    o.type ??= "Opaque";
  } else if (kind === "Pod") {
    podSpec(o.spec);
  }
}

export function validate(o: Obj, def: ResourceDef): void {
  const causes: Obj[] = [];
  const name = o.metadata?.name;
  if (!name) causes.push({ type: "FieldValueRequired", field: "metadata.name", message: "Required value: name or generateName is required" });
  else if (name.length > 253 || !DNS1123.test(name))
    causes.push({
      type: "FieldValueInvalid",
      field: "metadata.name",
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`,
    });
  for (const [k, v] of Object.entries(o.metadata?.labels ?? {})) {
    if (typeof v !== "string" || v.length > 63)
      causes.push({ type: "FieldValueInvalid", field: `metadata.labels.${k}`, message: "Invalid value: must be a string of at most 63 characters" });
  }
  if (def.kind === "Deployment" || def.kind === "StatefulSet" || def.kind === "DaemonSet") {
    if (!o.spec?.selector) causes.push({ type: "FieldValueRequired", field: "spec.selector", message: "Required value" });
    const cs = o.spec?.template?.spec?.containers;
    if (!Array.isArray(cs) || cs.length === 0) causes.push({ type: "FieldValueRequired", field: "spec.template.spec.containers", message: "Required value" });
    for (const [i, c] of (Array.isArray(cs) ? cs : []).entries()) {
      if (!c.image) causes.push({ type: "FieldValueRequired", field: `spec.template.spec.containers[${i}].image`, message: "Required value" });
    }
    if (o.spec?.replicas !== undefined && (typeof o.spec.replicas !== "number" || o.spec.replicas < 0))
      causes.push({
        type: "FieldValueInvalid",
        field: "spec.replicas",
        message: `Invalid value: ${JSON.stringify(o.spec.replicas)}: must be greater than or equal to 0`,
      });
  }
  if (def.kind === "Secret") {
    // As the real API server: a Secret's data (decoded) totals at most 1 MiB.
    let total = 0;
    for (const v of Object.values(o.data ?? {})) total += typeof v === "string" ? Buffer.from(v, "base64").length : 0;
    for (const v of Object.values(o.stringData ?? {})) total += typeof v === "string" ? Buffer.byteLength(v) : 0;
    if (total > 1024 * 1024) causes.push({ type: "FieldValueTooLong", field: "data", message: "Too long: may not be more than 1048576 bytes" });
  }
  if (def.kind === "Service") {
    for (const [i, p] of (o.spec?.ports ?? []).entries()) {
      if (typeof p.port !== "number" || p.port < 1 || p.port > 65535)
        causes.push({ type: "FieldValueInvalid", field: `spec.ports[${i}].port`, message: "Invalid value: must be between 1 and 65535, inclusive" });
    }
  }
  if (causes.length) {
    const group = def.group ? `${def.kind}.${def.group}` : def.kind;
    throw new HttpErr(422, "Invalid", `${group} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(", ")}`, {
      name,
      group: def.group,
      kind: def.kind,
      causes,
    });
  }
}

export function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

/** The status a controller reports once a workload is fully rolled out. */
export function readyStatus(o: Obj): Obj | undefined {
  const gen = o.metadata?.generation ?? 1;
  const replicas = o.spec?.replicas ?? 1;
  switch (o.kind) {
    case "Deployment":
      return {
        observedGeneration: gen,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        conditions: [
          { type: "Available", status: "True", reason: "MinimumReplicasAvailable" },
          { type: "Progressing", status: "True", reason: "NewReplicaSetAvailable" },
        ],
      };
    case "StatefulSet":
      return {
        observedGeneration: gen,
        replicas,
        readyReplicas: replicas,
        currentReplicas: replicas,
        updatedReplicas: replicas,
        currentRevision: "r1",
        updateRevision: "r1",
        availableReplicas: replicas,
      };
    case "DaemonSet":
      return {
        observedGeneration: gen,
        desiredNumberScheduled: 2,
        currentNumberScheduled: 2,
        numberReady: 2,
        updatedNumberScheduled: 2,
        numberAvailable: 2,
        numberMisscheduled: 0,
      };
    case "Job":
      return { succeeded: 1, conditions: [{ type: "Complete", status: "True" }] };
    case "PersistentVolumeClaim":
      return { phase: "Bound" };
    default:
      return o.status;
  }
}
