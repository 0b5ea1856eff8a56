/**
 * Every example lives through a real release: apply with --wait, status (the `opm` CLI, from the
 * inventory alone) reports every object healthy as the real controllers see it, a re-apply changes
 * nothing and `diff` exits 0, and `opm delete` leaves no object of the release and no inventory.
 * Then values change: a new image rolls the Deployment (a new ReplicaSet), a change to immutable
 * config creates the new hash-named ConfigMap, rewires the Deployment and prunes the old one, and
 * a component dropped from the module is pruned.
 *
 * The kinds the examples render that a bare cluster does not serve (Gateway API HTTPRoute, External
 * Secrets ExternalSecret) come from the minimal CRDs in test/fixtures/crds, installed first.
 * See test/e2e/support.ts for the environment variables.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, test } from "vitest";
import { apply, readInventory, type KObject } from "../../src/apply/index.js";
import { objectId } from "../../src/apply/objects.js";
import { INVENTORY_LABEL } from "../../src/apply/inventory.js";
import { runApply, runDiff } from "../../src/cli/lifecycle-run.js";
import { loadInput } from "../../src/cli/load.js";
import { render } from "../../src/render/render.js";
import type { RenderResult } from "../../src/render/types.js";
import { captureIO } from "../support/harness.js";
import { cleanup, connect, enabled, fake, installCrds, nsName, opm, releaseObjects, root, run, until, type Env } from "./support.js";

const examples = readdirSync(path.join(root, "examples")).filter(
  (d) => existsSync(path.join(root, "examples", d, "module.ts")) || existsSync(path.join(root, "examples", d, "module.cue")),
);
const tmp = mkdtempSync(path.join(tmpdir(), "opm-e2e-values-"));

function moduleArg(name: string): string {
  const ts = path.join("examples", name, "module.ts");
  return existsSync(path.join(root, ts)) ? ts : path.join("examples", name);
}

/** Render an example the way `opm build` does, with values given as a values file. */
async function renderExample(name: string, namespace: string, values?: Record<string, unknown>): Promise<RenderResult> {
  const valuesFiles: string[] = [];
  if (values) {
    const f = path.join(tmp, `${name}-${Object.keys(values).join("-")}.yaml`);
    writeFileSync(f, stringify(values));
    valuesFiles.push(f);
  }
  return render(await loadInput(path.join(root, moduleArg(name)), { namespace, valuesFiles }));
}

const kindsOf = (r: RenderResult): Array<[string, string]> => [
  ...new Map(r.objects.map((o) => [`${o.apiVersion}|${o.kind}`, [o.apiVersion, o.kind] as [string, string]])).values(),
];

describe.skipIf(!enabled)("every example through a real release", () => {
  let env: Env;
  const namespaces: string[] = [];
  const clusterObjects: KObject[] = [];

  beforeAll(async () => {
    env = await connect();
    await installCrds(env.client);
  });
  afterAll(async () => {
    await cleanup(env?.client, namespaces);
    for (const o of clusterObjects) await env?.client.delete({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name }).catch(() => {});
    await env?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test.concurrent.for(examples)("%s: apply --wait, status healthy, re-apply unchanged, diff 0, delete leaves nothing", async (name, { expect }) => {
    const ns = nsName(name);
    namespaces.push(ns);
    const result = await renderExample(name, ns);
    // Every kind it renders is served (no object is quietly left out).
    for (const [apiVersion, kind] of kindsOf(result)) expect(await env.client.knows(apiVersion, kind), `${apiVersion} ${kind}`).toBe(true);

    // Storage for the PersistentVolumeClaims it renders (the cluster has no provisioner): a volume
    // bound in advance to each claim, so no other claim (a StatefulSet's) can take it.
    for (const pvc of result.objects.filter((o) => o.kind === "PersistentVolumeClaim")) {
      const spec = pvc.spec as { accessModes?: string[]; storageClassName?: string; resources: { requests: { storage: string } } };
      const pv: KObject = {
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name: `${ns}-${pvc.metadata.name}`, labels: { "opm-e2e": run } },
        spec: {
          capacity: { storage: spec.resources.requests.storage },
          accessModes: spec.accessModes ?? ["ReadWriteOnce"],
          storageClassName: spec.storageClassName ?? "",
          persistentVolumeReclaimPolicy: "Retain",
          hostPath: { path: `/tmp/${ns}-${pvc.metadata.name}` },
          claimRef: { namespace: ns, name: pvc.metadata.name },
        },
      };
      await env.client.apply(pv, { fieldManager: "opm-e2e" });
      clusterObjects.push(pv);
    }

    const io = captureIO();
    const code = await runApply(result, { client: env.client, createNamespace: true, wait: true, timeout: "4m", pollIntervalMs: 500 }, io.io);
    expect(code, io.all()).toBe(0);
    expect(io.out.at(-1)).toMatch(
      new RegExp(`^release ${result.release.name} in ${ns}: ${result.objects.length} created, 0 configured, 0 unchanged, 0 pruned$`),
    );

    const st = await opm(["status", "--name", result.release.name, "-n", ns, "-o", "json"], { kubeconfig: env.kubeconfig });
    expect(st.code, st.stdout + st.stderr).toBe(0);
    const report = JSON.parse(st.stdout) as { healthy: boolean; objects: Array<{ id: string; health: string; message: string }> };
    expect(report.objects.map((o) => o.id).sort()).toEqual(result.objects.map((o) => objectId(o as KObject)).sort());
    expect(report.objects.filter((o) => o.health !== "Current")).toEqual([]);

    const again = await apply(result, { client: env.client });
    expect(again.changed).toBe(false);
    expect(again.objects.filter((o) => o.action !== "unchanged")).toEqual([]);
    const d = captureIO();
    expect(await runDiff(result, { client: env.client }, d.io), d.all()).toBe(0);

    const del = await opm(["delete", "--name", result.release.name, "-n", ns], { kubeconfig: env.kubeconfig });
    expect(del.code, del.stdout + del.stderr).toBe(0);
    expect(await releaseObjects(env.client, ns, result.release.uuid, kindsOf(result))).toEqual([]);
    for (const o of result.objects.filter((x) => !x.metadata.namespace)) {
      expect(await env.client.get({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name }), objectId(o as KObject)).toBeUndefined();
    }
    expect(await readInventory(env.client, result.release.name, ns)).toBeUndefined();
    expect(await env.client.list("v1", "Secret", ns, `${INVENTORY_LABEL}=true`)).toEqual([]);
  });

  (fake ? test.skip : test.concurrent)("hello with the opm CLI: a new image rolls the Deployment (a new ReplicaSet)", async ({ expect }) => {
    const ns = nsName("hello-cli");
    namespaces.push(ns);
    const k = { kubeconfig: env.kubeconfig };
    const rsOf = async () =>
      (await env.client.list("apps/v1", "ReplicaSet", ns, "module-release.opmodel.dev/name=hello")).map((rs) => ({
        name: rs.metadata.name,
        image: (rs.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers[0]!.image,
        replicas: (rs.spec as { replicas?: number }).replicas,
      }));
    const first = await opm(["apply", "examples/hello/module.ts", "-n", ns, "--create-namespace", "--wait", "--timeout", "3m"], k);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const before = await rsOf();
    expect(before).toHaveLength(1);

    const values = path.join(tmp, "hello-image.yaml");
    writeFileSync(values, "image: nginx:1.27.1\n");
    const diffBefore = await opm(["diff", "examples/hello/module.ts", "-n", ns, "-f", values], k);
    expect(diffBefore.code, diffBefore.stderr).toBe(1);
    expect(diffBefore.stdout).toMatch(/^\+\s+- image: nginx:1\.27\.1$/m);
    const second = await opm(["apply", "examples/hello/module.ts", "-n", ns, "-f", values, "--wait", "--timeout", "3m"], k);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toContain("Deployment " + ns + "/hello-web configured");
    const after = await rsOf();
    const fresh = after.filter((rs) => !before.some((b) => b.name === rs.name));
    expect(fresh).toHaveLength(1);
    expect(fresh[0]!.image).toBe("nginx:1.27.1");
    // The rollout finished: the old ReplicaSet is scaled to zero.
    expect(after.find((rs) => rs.name === before[0]!.name)?.replicas).toBe(0);
    const diffAfter = await opm(["diff", "examples/hello/module.ts", "-n", ns, "-f", values], k);
    expect(diffAfter.code, diffAfter.stdout + diffAfter.stderr).toBe(0);
    const st = await opm(["status", "--name", "hello", "-n", ns], k);
    expect(st.code, st.stdout).toBe(0);
  });

  test.concurrent("web-app: changing immutable config creates the new hash-named ConfigMap, rewires the Deployment, prunes the old one", async ({ expect }) => {
    const ns = nsName("web-app-cfg");
    namespaces.push(ns);
    const v1 = await renderExample("web-app", ns);
    const v2 = await renderExample("web-app", ns, { logLevel: "debug" });
    const cmName = (r: RenderResult) => r.objects.find((o) => o.kind === "ConfigMap")!.metadata.name;
    expect(cmName(v2)).not.toBe(cmName(v1));
    await apply(v1, { client: env.client, createNamespace: true, wait: true, timeoutMs: 240_000, pollIntervalMs: 500 });
    const rep = await apply(v2, { client: env.client, wait: true, timeoutMs: 240_000, pollIntervalMs: 500 });
    expect(rep.objects.find((o) => o.ref.kind === "ConfigMap")!.action).toBe("created");
    expect(rep.pruned.map((p) => p.id)).toEqual([`ConfigMap ${ns}/${cmName(v1)}`]);
    expect(await env.client.get({ apiVersion: "v1", kind: "ConfigMap", name: cmName(v1), namespace: ns })).toBeUndefined();
    const live: any = await env.client.get({ apiVersion: "v1", kind: "ConfigMap", name: cmName(v2), namespace: ns });
    expect(live.data.LOG_LEVEL).toBe("debug");
    const dep = await env.client.get({ apiVersion: "apps/v1", kind: "Deployment", name: "web-app-web", namespace: ns });
    const refs = JSON.stringify((dep!.spec as { template: unknown }).template);
    expect(refs).toContain(cmName(v2));
    expect(refs).not.toContain(cmName(v1));
  });

  test.concurrent("a component removed from the module is pruned", async ({ expect }) => {
    const ns = nsName("parts");
    namespaces.push(ns);
    const mod = await import("../fixtures/modules/parts.js");
    const v1 = await render(mod.default.release({ name: "parts", namespace: ns }));
    const v2 = await render((mod.webOnly as typeof mod.default).release({ name: "parts", namespace: ns }));
    const worker = v1.objects.filter((o) => o.metadata.labels?.["component.opmodel.dev/name"] === "worker").map((o) => `${o.kind}/${o.metadata.name}`);
    expect(worker.sort()).toEqual(["ConfigMap/parts-worker-queue", "Deployment/parts-worker"]);
    await apply(v1, { client: env.client, createNamespace: true, wait: true, timeoutMs: 240_000, pollIntervalMs: 500 });
    const rep = await apply(v2, { client: env.client, wait: true, timeoutMs: 240_000, pollIntervalMs: 500 });
    expect(rep.pruned.map((p) => p.id).sort()).toEqual([`ConfigMap ${ns}/parts-worker-queue`, `Deployment ${ns}/parts-worker`]);
    expect(
      await releaseObjects(env.client, ns, v1.release.uuid, [
        ["apps/v1", "Deployment"],
        ["v1", "ConfigMap"],
      ]),
    ).toEqual(["Deployment/parts-web"]);
    await until("the worker's pods to go", async () => (await env.client.list("v1", "Pod", ns, "component.opmodel.dev/name=worker")).length === 0, 120_000);
  });
});
