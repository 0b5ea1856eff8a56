import { readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadCueModule, render, RenderError } from "../../src/index.js";
import type { K8sObject } from "../../src/render/types.js";
import { formatValidationErrors, validateObjects } from "../support/k8s-validate.js";

const fixtures = path.resolve(__dirname, "../fixtures/cue-modules");
const load = (name: string, ns = "prod") => loadCueModule(path.join(fixtures, name), { namespace: ns });
const find = (objs: K8sObject[], kind: string, name: string) => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} among ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(", ")}`);
  return o as K8sObject & { spec: any } & Record<string, any>;
};

describe("catalog: the full fixture", async () => {
  const result = await render(load("full"));
  const objs = result.objects;

  it("matches the golden file", () => {
    const golden = path.join(fixtures, "full/expected.yaml");
    const yaml = result.yaml({ showSecrets: true });
    if (process.env.UPDATE_GOLDEN || !existsSync(golden)) writeFileSync(golden, yaml);
    expect(yaml).toBe(readFileSync(golden, "utf8"));
  });

  it("renders every kind the provider knows, all valid Kubernetes", () => {
    const kinds = new Set(objs.map((o) => o.kind));
    for (const k of [
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
      "PodDisruptionBudget",
      "NetworkPolicy",
      "Role",
      "RoleBinding",
      "ClusterRole",
      "ClusterRoleBinding",
      "HTTPRoute",
    ]) {
      expect(kinds, k).toContain(k);
    }
    const errors = validateObjects(objs);
    expect(errors, formatValidationErrors(errors)).toEqual([]);
  });

  it("leaves replicas to the autoscaler and targets the Deployment", () => {
    const dep = find(objs, "Deployment", "full-web");
    expect(dep.spec.replicas).toBeUndefined();
    const hpa = find(objs, "HorizontalPodAutoscaler", "full-web");
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "full-web" });
    expect(hpa.spec.minReplicas).toBe(2);
    expect(hpa.spec.maxReplicas).toBe(10);
    expect(hpa.spec.metrics.map((m: any) => m.resource.name)).toEqual(["cpu", "memory"]);
    expect(find(objs, "StatefulSet", "full-db").spec.replicas).toBe(3);
  });

  it("selectors equal the pod labels they must select", () => {
    for (const o of objs.filter((x) => ["Deployment", "StatefulSet", "DaemonSet"].includes(x.kind)) as any[]) {
      const pod = o.spec.template.metadata.labels;
      for (const [k, v] of Object.entries(o.spec.selector.matchLabels)) expect(pod[k], `${o.kind} ${k}`).toBe(v);
    }
    const web = find(objs, "Deployment", "full-web").spec.template.metadata.labels;
    for (const kind of ["Service", "PodDisruptionBudget"]) {
      const o = find(objs, kind, "full-web");
      const sel = kind === "Service" ? o.spec.selector : o.spec.selector.matchLabels;
      for (const [k, v] of Object.entries(sel)) expect(web[k]).toBe(v);
    }
    expect(web.team).toBe("web");
  });

  it("wires probes, sizing, env, volumes and mounts", () => {
    const pod = find(objs, "Deployment", "full-web").spec.template.spec;
    const [main, sidecar] = pod.containers;
    expect(main.livenessProbe).toEqual({ httpGet: { path: "/healthz", port: "http" }, periodSeconds: 10 });
    expect(main.readinessProbe.httpGet.port).toBe(8080);
    expect(main.startupProbe.tcpSocket.port).toBe(8080);
    expect(main.resources).toEqual({ requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } });
    const env = Object.fromEntries(main.env.map((e: any) => [e.name, e]));
    expect(env.MODE.value).toBe("production");
    expect(env.REGION.value).toBe("eu-1");
    expect(env.LEVEL.valueFrom.configMapKeyRef).toEqual({ name: "full-web-settings", key: "level" });
    expect(env.PASSWORD.valueFrom.secretKeyRef).toEqual({ name: "full-web-creds-0c8ea7f07b", key: "password" });
    expect(env.EXTERNAL.valueFrom.secretKeyRef.name).toBe("shared-token");
    expect(env.POD_NAME.valueFrom.fieldRef.fieldPath).toBe("metadata.name");
    expect(sidecar.name).toBe("log-shipper");
    expect(pod.initContainers[0].name).toBe("wait-db");
    const volumes = new Set(pod.volumes.map((v: any) => v.name));
    for (const c of [...pod.containers, ...pod.initContainers]) for (const m of c.volumeMounts ?? []) expect(volumes, m.name).toContain(m.name);
    const byName = Object.fromEntries(pod.volumes.map((v: any) => [v.name, v]));
    expect(byName.config.configMap.name).toBe("full-web-settings");
    expect(byName.tls.secret.secretName).toBe("full-web-creds-0c8ea7f07b");
    expect(byName.uploads.persistentVolumeClaim.claimName).toBe("full-web-uploads");
    find(objs, "PersistentVolumeClaim", "full-web-uploads");
    find(objs, "ConfigMap", "full-web-settings");
    expect(find(objs, "Secret", "full-web-creds-0c8ea7f07b").data.password).toBe(Buffer.from("s3cret").toString("base64"));
    expect(pod.serviceAccountName).toBe("full-web");
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 2000, seccompProfile: { type: "RuntimeDefault" } });
    expect(pod.topologySpreadConstraints[0].labelSelector.matchLabels).toEqual(find(objs, "Deployment", "full-web").spec.selector.matchLabels);
    expect(pod.terminationGracePeriodSeconds).toBe(45);
  });

  it("routes ingress and HTTPRoute to exposed ports", () => {
    const ing = find(objs, "Ingress", "full-web");
    expect(ing.spec.rules[0].http.paths[0].backend.service).toEqual({ name: "full-web", port: { number: 80 } });
    const route = find(objs, "HTTPRoute", "full-web");
    expect(route.spec.rules[0].backendRefs).toEqual([{ name: "full-web", port: 80 }]);
  });

  it("renders stateful, daemon, job and cron workloads", () => {
    const sts = find(objs, "StatefulSet", "full-db");
    expect(sts.spec.serviceName).toBe("full-db-headless");
    expect(find(objs, "Service", "full-db-headless").spec.clusterIP).toBe("None");
    expect(sts.spec.volumeClaimTemplates[0].metadata.name).toBe("data");
    expect(sts.spec.template.spec.containers[0].volumeMounts[0].name).toBe("data");
    expect(sts.spec.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { partition: 1 } });
    const ds = find(objs, "DaemonSet", "full-agent");
    expect(ds.spec.template.spec.hostNetwork).toBe(true);
    expect(ds.spec.template.spec.dnsPolicy).toBe("ClusterFirstWithHostNet");
    expect(find(objs, "ClusterRoleBinding", "prod-full-agent-nodes").subjects).toEqual([{ kind: "ServiceAccount", name: "full-agent", namespace: "prod" }]);
    const job = find(objs, "Job", "full-migrate");
    expect(job.spec.template.spec.restartPolicy).toBe("Never");
    expect(job.spec.backoffLimit).toBe(2);
    const cron = find(objs, "CronJob", "full-backup");
    expect(cron.spec.schedule).toBe("0 3 * * *");
    expect(cron.spec.jobTemplate.spec.template.spec.restartPolicy).toBe("OnFailure");
    expect(cron.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(600);
  });
});

describe("catalog: failures", () => {
  it("a trait no matching transformer handles fails the render", async () => {
    const e = await render(load("unhandled-trait")).then(
      () => undefined,
      (x) => x,
    );
    expect(RenderError.is(e)).toBe(true);
    expect(String(e.issues.map((i: any) => i.code))).toContain("unhandled_trait");
    expect(e.issues[0].message).toContain("cron-job-config");
  });
  it("a component no transformer matches fails the render", async () => {
    const e = await render(load("unmatched")).then(
      () => undefined,
      (x) => x,
    );
    expect(RenderError.is(e)).toBe(true);
    expect(e.issues[0].code).toBe("unmatched_component");
  });
});
