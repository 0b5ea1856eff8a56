/**
 * Build RenderResult-like values by hand for apply tests, stamping labels the way the renderer does:
 * every key of LABELS except workloadType, with managed-by `opm`.
 */
import { createHash } from "node:crypto";
import { stringify } from "yaml";
import { LABELS, MANAGER, kindWeight, type K8sObject, type RenderResult } from "../../src/render/types.js";

/** Fixed namespace for OPM UUIDv5 ids in tests. */
const OPM_NS = "c1cbe76d-5687-5a47-bfe6-83b081b15413";

function uuidv5(name: string, namespace = OPM_NS): string {
  const ns = Buffer.from(namespace.replace(/-/g, ""), "hex");
  const h = createHash("sha1")
    .update(Buffer.concat([ns, Buffer.from(name, "utf8")]))
    .digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export interface FakeRenderOptions {
  name: string;
  namespace: string;
  module?: { modulePath?: string; name?: string; version?: string; major?: number };
  values?: unknown;
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  return v;
}

/** A RenderResult for `objects` (namespaced kinds get the release namespace unless they set one). */
export function fakeRender(objects: K8sObject[], opts: FakeRenderOptions): RenderResult {
  const modName = opts.module?.name ?? "demo";
  const modPath = opts.module?.modulePath ?? "example.com/modules";
  const version = opts.module?.version ?? "0.1.0";
  const fqn = `${modPath}/${modName}@v${opts.module?.major ?? Number(version.split(".")[0]) ?? 0}`;
  const moduleUuid = uuidv5(fqn);
  const releaseUuid = uuidv5(`${fqn}:${opts.name}:${opts.namespace}`);
  const CLUSTER = new Set([
    "Namespace",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "StorageClass",
    "PersistentVolume",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "GatewayClass",
    "ClusterSecretStore",
  ]);
  const stamped = objects.map((o) => {
    const c = JSON.parse(JSON.stringify(o)) as K8sObject;
    if (!CLUSTER.has(c.kind) && !c.metadata.namespace) c.metadata.namespace = opts.namespace;
    const component = c.metadata.labels?.[LABELS.component] ?? c.metadata.name;
    c.metadata.labels = {
      ...c.metadata.labels,
      [LABELS.name]: modName,
      [LABELS.instance]: opts.name,
      [LABELS.version]: version,
      [LABELS.managedBy]: MANAGER,
      [LABELS.moduleName]: modName,
      [LABELS.moduleVersion]: version,
      [LABELS.moduleUuid]: moduleUuid,
      [LABELS.releaseName]: opts.name,
      [LABELS.releaseNamespace]: opts.namespace,
      [LABELS.releaseUuid]: releaseUuid,
      [LABELS.component]: component,
    };
    return c;
  });
  stamped.sort(
    (a, b) =>
      kindWeight(a.kind) - kindWeight(b.kind) ||
      (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "") ||
      a.metadata.name.localeCompare(b.metadata.name),
  );
  const redactIt = (o: K8sObject, show?: boolean) =>
    !show && o.kind === "Secret" && o.data ? { ...o, data: Object.fromEntries(Object.keys(o.data as object).map((k) => [k, "<redacted>"])) } : o;
  return {
    release: { name: opts.name, namespace: opts.namespace, uuid: releaseUuid, module: { fqn, name: modName, version, uuid: moduleUuid } },
    objects: stamped,
    digest: sha(JSON.stringify(canonical(stamped))),
    valuesDigest: sha(JSON.stringify(canonical(opts.values ?? {}))),
    violations: [],
    yaml: (o) => stamped.map((x) => stringify(redactIt(x, o?.showSecrets))).join("---\n"),
    json: (o) =>
      JSON.stringify(
        stamped.map((x) => redactIt(x, o?.showSecrets)),
        null,
        2,
      ),
  };
}

// ───── object builders ─────

export const configMap = (name: string, data: Record<string, string> = { a: "1" }): K8sObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name },
  data,
});
export const secret = (name: string, data: Record<string, string>): K8sObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name },
  type: "Opaque",
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
});
export const service = (name: string, port = 80): K8sObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name },
  spec: { selector: { app: name }, ports: [{ name: "http", port, targetPort: 8080 }] },
});
export const deployment = (name: string, opts: { replicas?: number; image?: string } = {}): K8sObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name },
  spec: {
    ...(opts.replicas !== undefined ? { replicas: opts.replicas } : {}),
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: "main", image: opts.image ?? "nginx:1.27", ports: [{ name: "http", containerPort: 8080 }] }] },
    },
  },
});
export const crd = (group: string, kind: string, plural: string): K8sObject => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `${plural}.${group}` },
  spec: {
    group,
    scope: "Namespaced",
    names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
    versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
  },
});
