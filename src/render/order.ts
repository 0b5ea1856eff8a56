/** Where objects go and in which order: cluster-scoped kinds, and the one sort order of rendered objects. */
import { kindWeight, type K8sObject } from "./types.js";

const CLUSTER_SCOPED = new Set([
  "Namespace",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "PersistentVolume",
  "StorageClass",
  "PriorityClass",
  "IngressClass",
  "RuntimeClass",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
  "APIService",
  "CSIDriver",
  "ClusterIssuer",
  "GatewayClass",
  "ClusterSecretStore",
]);

export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind);
}

/** Kind weight, then namespace, then name, then kind and apiVersion. */
export function compareObjects(a: K8sObject, b: K8sObject): number {
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return (
    kindWeight(a.kind) - kindWeight(b.kind) ||
    cmp(a.metadata.namespace ?? "", b.metadata.namespace ?? "") ||
    cmp(a.metadata.name, b.metadata.name) ||
    cmp(a.kind, b.kind) ||
    cmp(a.apiVersion, b.apiVersion)
  );
}
