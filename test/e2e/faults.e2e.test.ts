/**
 * Faults survived on a real API server, with nothing lost. Each fault is triggered by an event (a
 * progress line of the apply under test, or a state seen on the server), never by a timer:
 * - `opm` SIGKILLed mid-apply of a 100-object release; the API server stopped mid-apply;
 * - two applies of one release at once; a lock left by a killed process;
 * - a field owned by another field manager; an object outside the inventory with the release's labels;
 * - an object the API server rejects; a namespace that does not exist; CRDs shipped by the release.
 * Needs a real cluster; the API-server-stop test also needs OPM_E2E_KUBE_DIR (see support.ts).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apply, ApplyError, deleteRelease, readInventory, status, type KObject } from "../../src/apply/index.js";
import { lockName } from "../../src/apply/lock.js";
import { runApply } from "../../src/cli/lifecycle-run.js";
import type { K8sObject } from "../../src/render/types.js";
import { captureIO } from "../support/harness.js";
import { configMap, crd, deployment, fakeRender, secret, service } from "../support/render-result.js";
import { cleanup, connect, kubeDir, kubectl, nsName, real, root, spawnLines, until, type Env, type OnLine } from "./support.js";

const tmp = mkdtempSync(path.join(tmpdir(), "opm-e2e-faults-"));

/** 100 objects: 25 × (ConfigMap, Secret, Service, Deployment with 0 replicas). `tag` changes every object's data. */
function hundred(tag: string, count = 25): K8sObject[] {
  const out: K8sObject[] = [];
  for (let i = 0; i < count; i++) {
    const n = `app-${String(i).padStart(3, "0")}`;
    const d = deployment(n, { replicas: 0, image: "registry.k8s.io/pause:3.10" });
    (d.metadata as { annotations?: Record<string, string> }).annotations = { tag };
    out.push(configMap(`${n}-cfg`, { tag }), secret(`${n}-sec`, { tag }), service(n), d);
  }
  return out;
}

const ids = (objs: Array<{ kind: string; name: string }>) => objs.map((o) => `${o.kind}/${o.name}`).sort();

/** Run apply-child.ts on `objects`; `onLine` may return "kill" (SIGKILL there and then) or act on the line. */
function child(
  env: Env,
  objects: K8sObject[],
  release: { name: string; namespace: string },
  onLine: OnLine,
  extra: { retries?: number; lockDurationSeconds?: number } = {},
) {
  const spec = path.join(tmp, `${release.name}-${Date.now()}.json`);
  writeFileSync(spec, JSON.stringify({ objects, release, lockDurationSeconds: extra.lockDurationSeconds ?? 5, retries: extra.retries ?? 2 }));
  return spawnLines(process.execPath, ["--import", "tsx", path.join(root, "test/e2e/apply-child.ts"), env.kubeconfig, spec], { onLine });
}

describe.skipIf(!real)("faults on a real API server", () => {
  let env: Env;
  const namespaces: string[] = [];
  const fresh = async (what: string) => {
    const ns = nsName(what);
    namespaces.push(ns);
    await env.client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }, { fieldManager: "opm-e2e" });
    return ns;
  };

  beforeAll(async () => {
    env = await connect();
  });
  afterAll(async () => {
    await cleanup(env?.client, namespaces);
    await env?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test("SIGKILL mid-apply of 100 objects: the inventory is intact, the lock expires, the next apply converges, nothing else is touched", async () => {
    const ns = await fresh("kill");
    const rel = { name: "big", namespace: ns };
    const bystander = await env.client.apply(
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "bystander", namespace: ns }, data: { keep: "me" } },
      { fieldManager: "someone-else" },
    );
    await apply(fakeRender(hundred("v1"), rel), { client: env.client });
    const v1 = await readInventory(env.client, "big", ns);
    expect(v1!.inventory.entries).toHaveLength(100);

    // v2 changes every object, drops app-024's four and adds app-025's four.
    const v2objs = hundred("v2", 26).filter((o) => !o.metadata.name.startsWith("app-024"));
    let seen = 0;
    let pid = 0;
    const r = await child(env, v2objs, rel, (line, p) => {
      pid = p.pid;
      if (line.startsWith("applied ") && ++seen === 40) return "kill";
    });
    expect(r.killed).toBe(true);
    expect(r.stdout).not.toContain("done");

    // Never half-written: the previous inventory, whole.
    const after = await readInventory(env.client, "big", ns);
    expect(ids(after!.inventory.entries)).toEqual(ids(v1!.inventory.entries));
    // Nothing was pruned, and the object outside the release is untouched.
    expect(await env.client.get({ apiVersion: "apps/v1", kind: "Deployment", name: "app-024", namespace: ns })).toBeDefined();
    expect((await env.client.get({ apiVersion: "v1", kind: "ConfigMap", name: "bystander", namespace: ns }))!.metadata.resourceVersion).toBe(
      bystander.object.metadata.resourceVersion,
    );

    // The killed process's lock: the next apply is refused, naming the holder...
    const e = await apply(fakeRender(v2objs, rel), { client: env.client, lockDurationSeconds: 5 }).catch((x) => x);
    expect(ApplyError.is(e, "locked"), String(e)).toBe(true);
    expect(e.message).toContain(`${hostname()}/${pid}/`);
    // ...until it expires (the Lease says when), then the apply converges.
    const lease = await env.client.get({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", name: lockName("big"), namespace: ns });
    const spec = lease!.spec as { renewTime: string; leaseDurationSeconds: number };
    await until("the killed apply's lock to expire", async () => Date.now() > Date.parse(spec.renewTime) + spec.leaseDurationSeconds * 1000 + 100, 60_000);
    const rep = await apply(fakeRender(v2objs, rel), { client: env.client });
    expect(rep.pruned.map((p) => p.id).sort()).toEqual([
      `ConfigMap ${ns}/app-024-cfg`,
      `Deployment ${ns}/app-024`,
      `Secret ${ns}/app-024-sec`,
      `Service ${ns}/app-024`,
    ]);
    const inv = await readInventory(env.client, "big", ns);
    expect(inv!.inventory.entries).toHaveLength(100);
    for (const o of await env.client.list("v1", "ConfigMap", ns, "module-release.opmodel.dev/name=big")) expect(o.data).toEqual({ tag: "v2" });
    expect((await env.client.get({ apiVersion: "v1", kind: "ConfigMap", name: "bystander", namespace: ns }))!.metadata.resourceVersion).toBe(
      bystander.object.metadata.resourceVersion,
    );
    expect((await apply(fakeRender(v2objs, rel), { client: env.client })).changed).toBe(false);
  });

  test.skipIf(!kubeDir)("the API server stopped mid-apply: a clear error, nothing pruned; after it is back the next apply converges", async () => {
    const ns = await fresh("down");
    const rel = { name: "down", namespace: ns };
    await apply(fakeRender([...hundred("v1"), configMap("old")], rel), { client: env.client });
    const v2objs = hundred("v2");
    let seen = 0;
    let stopped = false;
    const r = await child(
      env,
      v2objs,
      rel,
      (line, p) => {
        if (line.startsWith("applied ") && ++seen === 8 && !stopped) {
          stopped = true;
          // Freeze the apply while the API server stops, so it cannot finish in the meantime.
          process.kill(p.pid, "SIGSTOP");
          try {
            execFileSync(path.join(kubeDir!, "down"), { stdio: "ignore" });
          } finally {
            process.kill(p.pid, "SIGCONT");
          }
        }
      },
      { retries: 3 },
    );
    expect(stopped).toBe(true);
    try {
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).not.toContain("done");
      // Clear: one error naming the object, the server, the cause and the attempts; nothing else tried.
      expect(r.stderr).toMatch(
        /^error: (get|apply) (ConfigMap|Secret|Service|Deployment) opm-e2e-down-\S+: cannot reach the API server https:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED.*\(after 4 attempts\)$/m,
      );
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      execFileSync(path.join(kubeDir!, "up"), { stdio: "ignore" });
    }
    await until("the API server to answer", async () => !!(await env.client.get({ apiVersion: "v1", kind: "Namespace", name: ns }).catch(() => undefined)));
    expect(await env.client.get({ apiVersion: "v1", kind: "ConfigMap", name: "old", namespace: ns })).toBeDefined();
    const inv = await readInventory(env.client, "down", ns);
    expect(ids(inv!.inventory.entries)).toContain("ConfigMap/old");
    // The killed-by-outage apply could not release its lock: wait for it to expire, then converge.
    const lease = await env.client.get({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", name: lockName("down"), namespace: ns });
    if (lease) {
      const spec = lease.spec as { renewTime: string; leaseDurationSeconds: number };
      await until("the lock to expire", async () => Date.now() > Date.parse(spec.renewTime) + spec.leaseDurationSeconds * 1000 + 100, 60_000);
    }
    const rep = await apply(fakeRender(v2objs, rel), { client: env.client });
    expect(rep.pruned.map((p) => p.id)).toEqual([`ConfigMap ${ns}/old`]);
    for (const o of await env.client.list("v1", "ConfigMap", ns, "module-release.opmodel.dev/name=down")) expect(o.data).toEqual({ tag: "v2" });
  });

  test("two applies at once: the second is refused naming the holder; the first completes", async () => {
    const ns = await fresh("lock");
    const rel = { name: "pair", namespace: ns };
    const slow = deployment("slow", { replicas: 1, image: "registry.k8s.io/pause:3.10" });
    (slow.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata.annotations = { "lab.opm/fake-status": "not-ready" };
    let second: unknown;
    let holder = "";
    const first = apply(fakeRender([configMap("a"), slow], rel), {
      client: env.client,
      wait: true,
      timeoutMs: 240_000,
      pollIntervalMs: 500,
      onEvent: (e) => {
        // The first apply holds the lock while it waits: start the second one now.
        if (e.type === "waiting" && !second) {
          second = apply(fakeRender([configMap("a")], rel), { client: env.client }).catch((x) => x);
          void (second as Promise<unknown>).then(async (err) => {
            const lease = await env.client.get({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", name: lockName("pair"), namespace: ns });
            holder = (lease?.spec as { holderIdentity?: string } | undefined)?.holderIdentity ?? "";
            // Let the first one finish: make its pods ready (another manager edits the pod template).
            kubectl(env.kubeconfig, [
              "patch",
              "deployment",
              "slow",
              "-n",
              ns,
              "--type=merge",
              "-p",
              '{"spec":{"template":{"metadata":{"annotations":{"lab.opm/fake-status":"ok"}}}}}',
            ]);
            return err;
          });
        }
      },
    });
    const rep = await first.catch((x) => x);
    const e = await second;
    expect(ApplyError.is(e, "locked"), String(e)).toBe(true);
    expect(holder).toMatch(new RegExp(`^${hostname()}/${process.pid}/`));
    expect((e as Error).message).toContain(`is being applied by ${holder}`);
    expect(rep.ready, String(rep)).toBe(true);
    expect(await env.client.get({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", name: lockName("pair"), namespace: ns })).toBeUndefined();
  });

  test("a field another manager owns: the conflict names the manager; --force-conflicts takes the field", async () => {
    const ns = await fresh("conflict");
    const rel = { name: "owned", namespace: ns };
    const objs = [configMap("settings", { mode: "a" }), deployment("web", { replicas: 1, image: "registry.k8s.io/pause:3.10" })];
    await apply(fakeRender(objs, rel), { client: env.client });
    const edit = kubectl(env.kubeconfig, [
      "patch",
      "configmap",
      "settings",
      "-n",
      ns,
      "--type=merge",
      "-p",
      '{"data":{"mode":"edited"}}',
      "--field-manager=e2e-editor",
    ]);
    expect(edit.code, edit.stderr).toBe(0);
    const io = captureIO();
    expect(await runApply(fakeRender(objs, rel), { client: env.client }, io.io)).toBe(1);
    expect(io.err.join("\n")).toContain(`ConfigMap ${ns}/settings: server-side apply conflicts with fields owned by another manager:`);
    expect(io.err.join("\n")).toContain(`.data.mode is owned by "e2e-editor"`);
    expect(io.err.join("\n")).toContain("--force-conflicts");
    expect((await env.client.get({ apiVersion: "v1", kind: "ConfigMap", name: "settings", namespace: ns }))!.data).toEqual({ mode: "edited" });
    const forced = captureIO();
    expect(await runApply(fakeRender(objs, rel), { client: env.client, forceConflicts: true }, forced.io), forced.all()).toBe(0);
    const live = await env.client.get({ apiVersion: "v1", kind: "ConfigMap", name: "settings", namespace: ns });
    expect(live!.data).toEqual({ mode: "a" });
    const managers = (live!.metadata.managedFields as Array<{ manager: string; fieldsV1: unknown }>)
      .filter((m) => JSON.stringify(m.fieldsV1).includes('"f:mode"'))
      .map((m) => m.manager);
    expect(managers).toEqual(["opm"]);
  });

  test("an object outside the inventory that carries the release's labels is never pruned or deleted", async () => {
    const ns = await fresh("outside");
    const rel = { name: "lbl", namespace: ns };
    const v1 = fakeRender([configMap("a"), configMap("b")], rel);
    await apply(v1, { client: env.client });
    const intruder = { ...v1.objects[0]!, metadata: { ...v1.objects[0]!.metadata, name: "intruder" } } as KObject;
    await env.client.apply(intruder, { fieldManager: "someone-else" });
    const rep = await apply(fakeRender([configMap("a")], rel), { client: env.client });
    expect(rep.pruned.map((p) => p.id)).toEqual([`ConfigMap ${ns}/b`]);
    expect(await env.client.get({ apiVersion: "v1", kind: "ConfigMap", name: "intruder", namespace: ns })).toBeDefined();
    const del = await deleteRelease(rel, { client: env.client, timeoutMs: 120_000, pollIntervalMs: 250 });
    expect(del.deleted.map((d) => d.id)).toEqual([`ConfigMap ${ns}/a`]);
    expect(await env.client.get({ apiVersion: "v1", kind: "ConfigMap", name: "intruder", namespace: ns })).toBeDefined();
  });

  test("the API server rejects an object: the apply stops before pruning and the inventory records what was applied", async () => {
    const ns = await fresh("invalid");
    const rel = { name: "inv", namespace: ns };
    await apply(fakeRender([configMap("a"), configMap("old")], rel), { client: env.client });
    const bad = deployment("web", { replicas: 1 });
    (bad.spec as { replicas: number }).replicas = -1;
    const e = await apply(fakeRender([configMap("a"), configMap("b"), bad], rel), { client: env.client }).catch((x) => x);
    expect(ApplyError.is(e, "invalid"), String(e)).toBe(true);
    expect(e.message).toContain(`Deployment ${ns}/web: the server rejected the object (422)`);
    expect(e.message).toContain("spec.replicas");
    expect(await env.client.get({ apiVersion: "v1", kind: "ConfigMap", name: "old", namespace: ns })).toBeDefined();
    const inv = (await readInventory(env.client, "inv", ns))!.inventory;
    expect(ids(inv.entries)).toEqual(["ConfigMap/a", "ConfigMap/b", "ConfigMap/old"]);
    expect(inv.history.at(-1)!.outcome).toBe("failed");
    const fixed = await apply(fakeRender([configMap("a"), configMap("b"), deployment("web", { replicas: 1, image: "registry.k8s.io/pause:3.10" })], rel), {
      client: env.client,
    });
    expect(fixed.pruned.map((p) => p.id)).toEqual([`ConfigMap ${ns}/old`]);
  });

  test("a missing namespace: a clear error without --create-namespace, created with it; a dry run into it still sends every object", async () => {
    const ns = nsName("nons");
    namespaces.push(ns);
    const rel = { name: "nons", namespace: ns };
    const objs = [configMap("a"), deployment("web", { replicas: 1, image: "registry.k8s.io/pause:3.10" })];
    const io = captureIO();
    expect(await runApply(fakeRender(objs, rel), { client: env.client }, io.io)).toBe(1);
    expect(io.err.join("\n")).toBe(`error: namespace "${ns}" does not exist; pass --create-namespace (createNamespace: true) or create it first`);

    // Dry run: the server sees every namespaced object (an invalid one is rejected), nothing is persisted.
    const bad = deployment("web", { replicas: 1 });
    (bad.spec as { replicas: number }).replicas = -1;
    const dryBad = await apply(fakeRender([configMap("a"), bad], rel), { client: env.client, createNamespace: true, dryRun: "server" }).catch((x) => x);
    expect(ApplyError.is(dryBad, "invalid"), String(dryBad)).toBe(true);
    expect(dryBad.message).toContain(`Deployment ${ns}/web`);
    const dry = await apply(fakeRender(objs, rel), { client: env.client, createNamespace: true, dryRun: "server" });
    expect(dry.objects.map((o) => o.action)).toEqual(["created", "created"]);
    expect(await env.client.get({ apiVersion: "v1", kind: "Namespace", name: ns })).toBeUndefined();

    const ok = captureIO();
    expect(await runApply(fakeRender(objs, rel), { client: env.client, createNamespace: true }, ok.io), ok.all()).toBe(0);
    const live = await env.client.get({ apiVersion: "v1", kind: "Namespace", name: ns });
    expect(live!.metadata.labels?.["app.kubernetes.io/managed-by"]).toBe("opm");
    expect(await env.client.get({ apiVersion: "apps/v1", kind: "Deployment", name: "web", namespace: ns })).toBeDefined();
  });

  test("a release that ships a CRD and objects of its kind: the CRD is applied first and waited for", async () => {
    const ns = await fresh("crd");
    const group = `e2e${Date.now().toString(36)}.opm.example.com`;
    const rel = { name: "crds", namespace: ns };
    const def = crd(group, "Widget", "widgets");
    const widget: K8sObject = { apiVersion: `${group}/v1`, kind: "Widget", metadata: { name: "w1" }, spec: { size: 3 } };
    const events: string[] = [];
    const rep = await apply(fakeRender([widget, def], rel), { client: env.client, onEvent: (e) => e.type === "applied" && events.push(e.id) });
    expect(events).toEqual([`CustomResourceDefinition widgets.${group}`, `Widget ${ns}/w1`]);
    expect(rep.objects.every((o) => o.action === "created")).toBe(true);
    const live = await env.client.get({ apiVersion: `${group}/v1`, kind: "Widget", name: "w1", namespace: ns });
    expect(live!.spec).toEqual({ size: 3 });
    expect((await status(rel, { client: env.client })).healthy).toBe(true);
    await deleteRelease(rel, { client: env.client, timeoutMs: 120_000, pollIntervalMs: 250 });
    expect(await env.client.get({ apiVersion: def.apiVersion, kind: def.kind, name: def.metadata.name })).toBeUndefined();
  });
});
