import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { importModuleFile } from "../src/cli/load.js";
import { render } from "../src/render/render.js";
import type { K8sObject } from "../src/render/types.js";
import { formatValidationErrors, validateObjects } from "./support/k8s-validate.js";

/**
 * Every rendered object of every example is valid Kubernetes (kubernetes-models schemas), the
 * objects of one example refer to each other consistently, and the examples together render
 * every kind the catalog promises.
 */
const examples = readdirSync("examples").filter((d) => existsSync(path.join("examples", d, "module.ts")));

const cache = new Map<string, Promise<K8sObject[]>>();
function objectsOf(name: string): Promise<K8sObject[]> {
  if (!cache.has(name))
    cache.set(
      name,
      importModuleFile(path.join("examples", name, "module.ts")).then(async (m) => (await render(m)).objects),
    );
  return cache.get(name)!;
}

/** Objects an example refers to on purpose without rendering them (they exist in the cluster). */
const EXTERNAL: Record<string, string[]> = {
  "batch-job": ["Secret/shop-db-credentials"],
  secrets: ["Secret/billing-db-credentials"],
};

/** Every kind the examples must render together. */
const REQUIRED_KINDS = [
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "Job",
  "CronJob",
  "Service",
  "PersistentVolumeClaim",
  "ConfigMap",
  "Secret",
  "ServiceAccount",
  "HorizontalPodAutoscaler",
  "Ingress",
  "HTTPRoute",
  "PodDisruptionBudget",
  "NetworkPolicy",
  "Role",
  "RoleBinding",
  "ClusterRole",
  "ClusterRoleBinding",
];

type Any = Record<string, any>;
const WORKLOADS = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];
const podTemplate = (o: Any): Any => (o.kind === "CronJob" ? o.spec.jobTemplate.spec.template : o.spec.template);
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Cross-object consistency: names, selectors and ports that must line up. Returns problems as lines. */
function checkReferences(example: string, objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const all = objects as readonly Any[];
  // An ExternalSecret creates the Secret its target names.
  const created = all.filter((o) => o.kind === "ExternalSecret").map((o) => `Secret/${(o as Record<string, any>).spec.target.name}`);
  const has = (kind: string, name: string) =>
    all.some((o) => o.kind === kind && o.metadata.name === name) || [...(EXTERNAL[example] ?? []), ...created].includes(`${kind}/${name}`);
  const workloads = all.filter((o) => WORKLOADS.includes(o.kind));
  const podsMatching = (sel: Record<string, string>) => workloads.filter((w) => matches(sel, podTemplate(w).metadata?.labels));
  const id = (o: Any) => `${o.kind}/${o.metadata.name}`;

  for (const w of workloads) {
    const tpl = podTemplate(w);
    if (w.spec.selector && !matches(w.spec.selector.matchLabels, tpl.metadata?.labels)) problems.push(`${id(w)}: selector does not match its pod labels`);
    const pod = tpl.spec;
    const volumes = new Set<string>((pod.volumes ?? []).map((v: Any) => v.name));
    for (const c of w.spec.volumeClaimTemplates ?? []) volumes.add(c.metadata.name);
    for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
      for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) problems.push(`${id(w)}: container ${c.name} mounts unknown volume ${m.name}`);
      for (const e of c.env ?? []) {
        const cm = e.valueFrom?.configMapKeyRef;
        const sec = e.valueFrom?.secretKeyRef;
        if (cm && !cm.optional && !has("ConfigMap", cm.name)) problems.push(`${id(w)}: env ${e.name} refers to missing ConfigMap ${cm.name}`);
        if (sec && !sec.optional && !has("Secret", sec.name)) problems.push(`${id(w)}: env ${e.name} refers to missing Secret ${sec.name}`);
      }
      for (const f of c.envFrom ?? []) {
        if (f.configMapRef && !has("ConfigMap", f.configMapRef.name)) problems.push(`${id(w)}: envFrom refers to missing ConfigMap ${f.configMapRef.name}`);
        if (f.secretRef && !has("Secret", f.secretRef.name)) problems.push(`${id(w)}: envFrom refers to missing Secret ${f.secretRef.name}`);
      }
      const portNames = new Set((c.ports ?? []).map((p: Any) => p.name));
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
        const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
        if (typeof port === "string" && !portNames.has(port)) problems.push(`${id(w)}: probe names unknown port ${port}`);
      }
    }
    for (const v of pod.volumes ?? []) {
      if (v.configMap && !v.configMap.optional && !has("ConfigMap", v.configMap.name))
        problems.push(`${id(w)}: volume ${v.name} refers to missing ConfigMap ${v.configMap.name}`);
      if (v.secret && !v.secret.optional && !has("Secret", v.secret.secretName))
        problems.push(`${id(w)}: volume ${v.name} refers to missing Secret ${v.secret.secretName}`);
      if (v.persistentVolumeClaim && !has("PersistentVolumeClaim", v.persistentVolumeClaim.claimName))
        problems.push(`${id(w)}: volume ${v.name} refers to missing claim ${v.persistentVolumeClaim.claimName}`);
    }
    if (pod.serviceAccountName && !has("ServiceAccount", pod.serviceAccountName))
      problems.push(`${id(w)}: runs as missing ServiceAccount ${pod.serviceAccountName}`);
    if (w.kind === "StatefulSet" && !all.some((s) => s.kind === "Service" && s.metadata.name === w.spec.serviceName && s.spec.clusterIP === "None"))
      problems.push(`${id(w)}: serviceName ${w.spec.serviceName} is not a headless Service`);
  }

  const servicePort = (name: string, port: number) =>
    all.some((s) => s.kind === "Service" && s.metadata.name === name && s.spec.ports.some((p: Any) => p.port === port));
  for (const s of all.filter((o) => o.kind === "Service")) {
    const targets = podsMatching(s.spec.selector ?? {});
    if (!targets.length) problems.push(`${id(s)}: selector matches no workload's pods`);
    for (const p of s.spec.ports) {
      const ok = targets.some((w) =>
        podTemplate(w).spec.containers.some((c: Any) => (c.ports ?? []).some((cp: Any) => cp.containerPort === p.targetPort || cp.name === p.targetPort)),
      );
      if (!ok) problems.push(`${id(s)}: targetPort ${p.targetPort} is not a container port of the selected pods`);
    }
  }
  for (const i of all.filter((o) => o.kind === "Ingress")) {
    for (const r of i.spec.rules)
      for (const p of r.http.paths) {
        const b = p.backend.service;
        if (!servicePort(b.name, b.port.number)) problems.push(`${id(i)}: backend ${b.name}:${b.port.number} is not a rendered Service port`);
      }
  }
  for (const h of all.filter((o) => o.kind === "HTTPRoute")) {
    for (const r of h.spec.rules)
      for (const b of r.backendRefs ?? [])
        if (!servicePort(b.name, b.port)) problems.push(`${id(h)}: backend ${b.name}:${b.port} is not a rendered Service port`);
  }
  for (const h of all.filter((o) => o.kind === "HorizontalPodAutoscaler")) {
    const t = all.find((o) => o.kind === h.spec.scaleTargetRef.kind && o.metadata.name === h.spec.scaleTargetRef.name);
    if (!t) problems.push(`${id(h)}: scale target ${h.spec.scaleTargetRef.kind}/${h.spec.scaleTargetRef.name} is not rendered`);
    else if (t.spec.replicas !== undefined) problems.push(`${id(t)}: sets replicas although ${id(h)} manages them`);
  }
  for (const o of all.filter((x) => x.kind === "PodDisruptionBudget" || x.kind === "NetworkPolicy")) {
    const sel = o.kind === "PodDisruptionBudget" ? o.spec.selector.matchLabels : o.spec.podSelector.matchLabels;
    if (!podsMatching(sel).length) problems.push(`${id(o)}: selector matches no workload's pods`);
  }
  for (const b of all.filter((o) => o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding")) {
    if (!has(b.roleRef.kind, b.roleRef.name)) problems.push(`${id(b)}: roleRef ${b.roleRef.kind}/${b.roleRef.name} is not rendered`);
    for (const s of b.subjects ?? [])
      if (s.kind === "ServiceAccount" && !has("ServiceAccount", s.name)) problems.push(`${id(b)}: subject ServiceAccount ${s.name} is not rendered`);
  }
  return problems;
}

describe.each(examples)("example %s", (name) => {
  it("renders only valid Kubernetes objects that refer to each other consistently", async () => {
    const objects = await objectsOf(name);
    const errors = validateObjects(objects as Parameters<typeof validateObjects>[0]);
    expect(errors, formatValidationErrors(errors)).toEqual([]);
    const problems = checkReferences(name, objects);
    expect(problems, problems.join("\n")).toEqual([]);
  });
});

describe("the examples together", () => {
  it("render every kind the catalog promises", async () => {
    const kinds = new Set<string>();
    for (const name of examples) for (const o of await objectsOf(name)) kinds.add(o.kind);
    const missing = REQUIRED_KINDS.filter((k) => !kinds.has(k));
    expect(missing, `no example renders: ${missing.join(", ")}`).toEqual([]);
  }, 300_000); // renders every example not rendered yet (e.g. when run alone with -t)

  it("the schema check catches an invalid field in an example's object", async () => {
    const dep = structuredClone((await objectsOf("web-app")).find((o) => o.kind === "Deployment")!) as Any;
    dep.spec.template.spec.containers[0].ports[0].containerPort = "8080";
    const errors = validateObjects([dep] as unknown as Parameters<typeof validateObjects>[0]);
    expect(errors.map((e) => e.path)).toContain("spec.template.spec.containers.0.ports.0.containerPort");
  });

  it("the reference check catches a broken reference", () => {
    const bad = [
      { apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: { selector: { app: "x" }, ports: [{ port: 80, targetPort: 8080 }] } },
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "d" },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "y" } },
          template: {
            metadata: { labels: { app: "y" } },
            spec: { containers: [{ name: "c", image: "i", volumeMounts: [{ name: "nope", mountPath: "/x" }] }] },
          },
        },
      },
      { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: "h" }, spec: { scaleTargetRef: { kind: "Deployment", name: "d" } } },
    ] as unknown as K8sObject[];
    expect(checkReferences("none", bad)).toEqual([
      "Deployment/d: container c mounts unknown volume nope",
      "Service/s: selector matches no workload's pods",
      "Service/s: targetPort 8080 is not a container port of the selected pods",
      "Deployment/d: sets replicas although HorizontalPodAutoscaler/h manages them",
    ]);
  });
});
