/**
 * Unchanged objects are not sent again, and that stays correct when someone else changes them;
 * a server-side dry run into a namespace that does not exist still validates the namespaced
 * objects; a CronJob's status follows its last Job.
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { apply, ApplyError, ConflictError, status } from "../../src/apply/index.js";
import { MANAGER } from "../../src/render/types.js";
import { startHarness, type Harness } from "../support/harness.js";
import { configMap, deployment, fakeRender } from "../support/render-result.js";

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.stop();
});

const rel = { name: "hello", namespace: "demo" };
const patches = (from: number) => h.server.requests.slice(from).filter((q) => q.method === "PATCH");

describe("unchanged objects are skipped", () => {
  test("a re-apply of the same render sends no object; a changed one sends only it", async () => {
    const objs = [configMap("a", { k: "1" }), configMap("b", { k: "1" }), deployment("web")];
    await apply(fakeRender(objs, rel), { ...h.opts, createNamespace: true });
    let mark = h.server.requests.length;
    const again = await apply(fakeRender(objs, rel), h.opts);
    expect(again.objects.map((o) => o.action)).toEqual(["unchanged", "unchanged", "unchanged"]);
    expect(again.changed).toBe(false);
    expect(patches(mark)).toEqual([]);

    mark = h.server.requests.length;
    const changed = await apply(fakeRender([configMap("a", { k: "2" }), configMap("b", { k: "1" }), deployment("web")], rel), h.opts);
    expect(changed.objects.map((o) => o.action)).toEqual(["configured", "unchanged", "unchanged"]);
    expect(patches(mark).map((q) => q.path)).toEqual(["/api/v1/namespaces/demo/configmaps/a"]);
  });

  test("a field another manager changed is not skipped: the conflict is reported, and force restores it", async () => {
    const objs = [configMap("a", { k: "1" })];
    await apply(fakeRender(objs, rel), { ...h.opts, createNamespace: true });
    const live = await h.client.get({ apiVersion: "v1", kind: "ConfigMap", name: "a", namespace: "demo" });
    await h.client.replace({ ...live!, data: { k: "edited" } }, { fieldManager: "kubectl-edit" });
    const e = await apply(fakeRender(objs, rel), h.opts).catch((x) => x);
    expect(ConflictError.is(e)).toBe(true);
    expect(e.conflicts).toContainEqual({ field: ".data.k", manager: "kubectl-edit" });
    const forced = await apply(fakeRender(objs, rel), { ...h.opts, forceConflicts: true });
    expect(forced.objects[0]!.action).toBe("configured");
    expect(h.server.get("v1", "ConfigMap", "demo", "a")!.data).toEqual({ k: "1" });
  });

  test("an object deleted behind opm's back is created again", async () => {
    const objs = [configMap("a")];
    await apply(fakeRender(objs, rel), { ...h.opts, createNamespace: true });
    await h.client.delete({ apiVersion: "v1", kind: "ConfigMap", name: "a", namespace: "demo" });
    const again = await apply(fakeRender(objs, rel), h.opts);
    expect(again.objects[0]!.action).toBe("created");
    expect(h.server.get("v1", "ConfigMap", "demo", "a")).toBeDefined();
  });

  test("the owned-fields fingerprint changes when another manager takes a field", async () => {
    await apply(fakeRender([configMap("a", { k: "1", j: "2" })], rel), { ...h.opts, createNamespace: true });
    const before = (await h.client.get({ apiVersion: "v1", kind: "ConfigMap", name: "a", namespace: "demo" }))!;
    const ours = (o: typeof before) => JSON.stringify((o.metadata.managedFields as Array<{ manager: string }>).filter((m) => m.manager === MANAGER));
    await h.client.apply(
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "demo" }, data: { j: "3" } },
      { fieldManager: "other", force: true },
    );
    const after = (await h.client.get({ apiVersion: "v1", kind: "ConfigMap", name: "a", namespace: "demo" }))!;
    expect(ours(after)).not.toBe(ours(before));
    const again = await apply(fakeRender([configMap("a", { k: "1", j: "2" })], rel), h.opts).catch((x) => x);
    expect(ConflictError.is(again)).toBe(true);
  });
});

describe("server-side dry run into a missing namespace", () => {
  test("namespaced objects are sent (with dryRun=All) to a namespace that exists, nothing is persisted", async () => {
    h.server.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } });
    const mark = h.server.requests.length;
    const rep = await apply(fakeRender([configMap("a"), deployment("web")], { name: "hello", namespace: "fresh" }), {
      ...h.opts,
      createNamespace: true,
      dryRun: "server",
    });
    expect(rep.objects.map((o) => o.action)).toEqual(["created", "created"]);
    const sent = patches(mark);
    expect(sent.map((q) => q.path).sort()).toEqual(["/api/v1/namespaces/default/configmaps/a", "/apis/apps/v1/namespaces/default/deployments/web"]);
    expect(sent.every((q) => q.query.get("dryRun") === "All")).toBe(true);
    expect(h.server.get("v1", "Namespace", undefined, "fresh")).toBeUndefined();
    expect(h.server.get("v1", "ConfigMap", "default", "a")).toBeUndefined();
  });

  test("an object the server rejects fails the dry run even though its namespace is missing", async () => {
    h.server.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } });
    const bad = deployment("web");
    (bad.spec as { selector?: unknown }).selector = undefined;
    const e = await apply(fakeRender([bad], { name: "hello", namespace: "fresh" }), { ...h.opts, createNamespace: true, dryRun: "server" }).catch((x) => x);
    expect(ApplyError.is(e, "invalid")).toBe(true);
    expect(e.message).toContain("Deployment fresh/web");
  });
});

describe("CronJob status", () => {
  test("a CronJob whose last Job failed is Failed, naming the Job and its reason", async () => {
    const cj = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "backup" },
      spec: {
        schedule: "0 3 * * *",
        jobTemplate: { spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "main", image: "busybox:1.36" }] } } } },
      },
    };
    await apply(fakeRender([cj], rel), { ...h.opts, createNamespace: true });
    let s = await status(rel, h.opts);
    expect(s.objects[0]).toMatchObject({ kind: "CronJob", health: "Current" });
    const uid = h.server.get("batch/v1", "CronJob", "demo", "backup")!.metadata.uid;
    h.server.put({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: {
        name: "backup-28000000",
        namespace: "demo",
        creationTimestamp: "2026-01-01T03:00:00Z",
        ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: "backup", uid, controller: true }],
      },
      spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "main", image: "busybox:1.36" }] } } },
    });
    h.server.setStatus("batch/v1", "Job", "demo", "backup-28000000", {
      conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" }],
    });
    s = await status(rel, h.opts);
    expect(s.healthy).toBe(false);
    expect(s.objects[0]).toMatchObject({ kind: "CronJob", health: "Failed" });
    expect(s.objects[0]!.message).toContain("backup-28000000");
    expect(s.objects[0]!.message).toContain("BackoffLimitExceeded");
  });
});
