/**
 * Shapes produced by the render step and consumed by the apply step.
 * This file is the contract between `src/render/` and `src/apply/`.
 */

/** A Kubernetes object as plain JSON. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** Identity of one release of one module. */
export interface ReleaseInfo {
  /** Release name (a DNS label). */
  name: string;
  /** Namespace the release is deployed to. */
  namespace: string;
  /** Stable release id: UUIDv5 of module FQN + release name + namespace. */
  uuid: string;
  module: {
    /** `<modulePath>/<name>@v<major>` */
    fqn: string;
    name: string;
    version: string;
    uuid: string;
  };
}

/** A policy violation recorded during render (see the policy issue). */
export interface Violation {
  policy: string;
  rule: string;
  severity: "block" | "warn" | "audit";
  component?: string;
  object?: string;
  path?: string;
  message: string;
}

/** How {@link RenderResult.yaml} and {@link RenderResult.json} print Secrets. */
export interface OutputOptions {
  /** Print Secret data as rendered (default: every value redacted). */
  showSecrets?: boolean;
  /** Leave `v1` Secrets out altogether (e.g. to pipe the rest to a tool that must not see them). */
  excludeSecrets?: boolean;
}

/** Everything `render()` returns. */
export interface RenderResult {
  release: ReleaseInfo;
  /** Rendered objects, sorted by kind weight, namespace, name. Standard labels stamped. */
  objects: K8sObject[];
  /** SHA-256 (hex) over the canonical JSON of `objects`. */
  digest: string;
  /** SHA-256 (hex) over the canonical JSON of the release values. */
  valuesDigest: string;
  /** Policy violations that did not block the render (warn and audit). */
  violations: Violation[];
  /** Multi-document YAML, byte-deterministic. Secret data redacted unless `showSecrets`. */
  yaml(options?: OutputOptions): string;
  /**
   * A kubectl-compatible `v1` `List` (`{"apiVersion": "v1", "kind": "List", "items": [...]}`) as
   * JSON text, byte-deterministic. Secret data redacted unless `showSecrets`.
   */
  json(options?: OutputOptions): string;
}

/** Standard label keys stamped on every rendered object. */
export const LABELS = {
  name: "app.kubernetes.io/name",
  instance: "app.kubernetes.io/instance",
  version: "app.kubernetes.io/version",
  managedBy: "app.kubernetes.io/managed-by",
  moduleName: "module.opmodel.dev/name",
  moduleVersion: "module.opmodel.dev/version",
  moduleUuid: "module.opmodel.dev/uuid",
  releaseName: "module-release.opmodel.dev/name",
  releaseNamespace: "module-release.opmodel.dev/namespace",
  releaseUuid: "module-release.opmodel.dev/uuid",
  component: "component.opmodel.dev/name",
  workloadType: "core.opmodel.dev/workload-type",
} as const;

/** Value of `app.kubernetes.io/managed-by` and the server-side apply field manager. */
export const MANAGER = "opm";

/**
 * Kind weights (lower applies first; prune and delete go in reverse).
 * Unknown kinds weigh 1000.
 */
export const KIND_WEIGHTS: Readonly<Record<string, number>> = {
  CustomResourceDefinition: -100,
  Namespace: 0,
  ResourceQuota: 1,
  LimitRange: 1,
  PodSecurityPolicy: 2,
  ServiceAccount: 5,
  ClusterRole: 6,
  Role: 7,
  ClusterRoleBinding: 8,
  RoleBinding: 9,
  Secret: 15,
  ExternalSecret: 15,
  ConfigMap: 15,
  StorageClass: 20,
  PersistentVolume: 20,
  PersistentVolumeClaim: 20,
  Service: 50,
  Deployment: 100,
  StatefulSet: 100,
  DaemonSet: 100,
  ReplicaSet: 100,
  Pod: 100,
  Job: 110,
  CronJob: 110,
  Ingress: 150,
  IngressClass: 150,
  Gateway: 150,
  HTTPRoute: 150,
  GRPCRoute: 150,
  TCPRoute: 150,
  TLSRoute: 150,
  NetworkPolicy: 150,
  HorizontalPodAutoscaler: 200,
  PodDisruptionBudget: 200,
  MutatingWebhookConfiguration: 500,
  ValidatingWebhookConfiguration: 500,
};

export function kindWeight(kind: string): number {
  return KIND_WEIGHTS[kind] ?? 1000;
}
