import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { apply, ApplyError, readInventory, inventoryName } from "../../src/apply/index.js";
import { INVENTORY_LABEL } from "../../src/apply/inventory.js";
import { LABELS } from "../../src/render/types.js";
import { startHarness, type Harness } from "../support/harness.js";
import { configMap, crd, deployment, fakeRender, secret, service } from "../support/render-result.js";

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ autoReady: true });
});
afterEach(async () => h.stop());

const rel = { name: "hello", namespace: "demo" };

describe("apply", () => {
  test("creates objects in weight order, then reports unchanged, then configured", async () => {
    const r = fakeRender([deployment("web"), service("web"), configMap("cfg"), { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "sa" } }], rel);
    const first = await apply(r, { ...h.opts, createNamespace: true });
    expect(first.objects.map((o) => [o.id, o.action])).toEqual([
      ["ServiceAccount demo/sa", "created"],
      ["ConfigMap demo/cfg", "created"],
      ["Service demo/web", "created"],
      ["Deployment demo/web", "created"],
    ]);
    expect(first.changed).toBe(true);
    const patches = h.server.requests.filter((q) => q.method === "PATCH" && q.path.includes("/demo/")).map((q) => q.path.split("/").at(-2));
    expect(patches).toEqual(["serviceaccounts", "configmaps", "services", "deployments"]);
    const ssa = h.server.requests.find((q) => q.method === "PATCH" && q.path.includes("deployments"))!;
    expect(ssa.contentType).toContain("application/apply-patch");
    expect(ssa.query.get("fieldManager")).toBe("opm");

    const second = await apply(r, h.opts);
    expect(second.objects.every((o) => o.action === "unchanged")).toBe(true);
    expect(second.changed).toBe(false);

    const r2 = fakeRender(
      [deployment("web", { replicas: 4 }), service("web"), configMap("cfg"), { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "sa" } }],
      rel,
    );
    const third = await apply(r2, h.opts);
    expect(third.objects.find((o) => o.id === "Deployment demo/web")!.action).toBe("configured");
    expect(third.objects.filter((o) => o.action === "unchanged")).toHaveLength(3);
    expect(h.server.get("apps/v1", "Deployment", "demo", "web")!.spec.replicas).toBe(4);
    const mf = h.server.get("apps/v1", "Deployment", "demo", "web")!.metadata.managedFields;
    expect(mf.map((m: { manager: string }) => m.manager)).toEqual(["opm"]);
  });

  test("refuses a missing namespace unless createNamespace", async () => {
    const r = fakeRender([configMap("cfg")], rel);
    const e = await apply(r, h.opts).catch((x) => x);
    expect(ApplyError.is(e, "namespace_not_found")).toBe(true);
    expect(e.message).toMatch(/--create-namespace/);
    expect(h.server.get("v1", "ConfigMap", "demo", "cfg")).toBeUndefined();
    await apply(r, { ...h.opts, createNamespace: true });
    expect(h.server.get("v1", "Namespace", undefined, "demo")!.metadata.labels[LABELS.managedBy]).toBe("opm");
  });

  test("writes a labelled inventory with entries, digest, module and history (last 10)", async () => {
    const r = fakeRender([deployment("web"), configMap("cfg")], { ...rel, values: { a: 1 } });
    await apply(r, { ...h.opts, createNamespace: true });
    const sec = h.server.get("v1", "Secret", "demo", inventoryName(r.release))!;
    expect(sec.metadata.labels[INVENTORY_LABEL]).toBe("true");
    expect(sec.metadata.labels[LABELS.releaseUuid]).toBe(r.release.uuid);
    expect(sec.metadata.name).toBe(`opm.hello.${r.release.uuid.replace(/-/g, "").slice(0, 8)}`);
    const inv = (await readInventory(h.client, "hello", "demo"))!.inventory;
    expect(inv.module).toEqual(r.release.module);
    expect(inv.digest).toBe(r.digest);
    expect(inv.entries).toEqual([
      { group: "", version: "v1", kind: "ConfigMap", namespace: "demo", name: "cfg", component: "cfg" },
      { group: "apps", version: "v1", kind: "Deployment", namespace: "demo", name: "web", component: "web" },
    ]);
    expect(inv.history).toHaveLength(1);
    expect(inv.history[0]).toMatchObject({ moduleVersion: "0.1.0", valuesDigest: r.valuesDigest, digest: r.digest, outcome: "applied" });
    for (let i = 0; i < 11; i++) await apply(fakeRender([configMap("cfg", { a: String(i) })], rel), h.opts);
    const inv2 = (await readInventory(h.client, "hello", "demo"))!.inventory;
    expect(inv2.history).toHaveLength(10);
    expect(inv2.entries.map((e) => e.name)).toEqual(["cfg"]);
  });

  test("refuses another module under the same release name", async () => {
    await apply(fakeRender([configMap("cfg")], rel), { ...h.opts, createNamespace: true });
    const other = fakeRender([configMap("x")], { ...rel, module: { name: "other" } });
    const e = await apply(other, h.opts).catch((x) => x);
    expect(ApplyError.is(e, "module_mismatch")).toBe(true);
    expect(e.message).toContain("example.com/modules/demo@v0");
    expect(h.server.get("v1", "ConfigMap", "demo", "x")).toBeUndefined();
  });

  test("prunes dropped objects in reverse weight order, only when still labelled, never Namespaces", async () => {
    const ns2 = { apiVersion: "v1", kind: "Namespace", metadata: { name: "extra" } };
    const r1 = fakeRender([ns2, configMap("a"), configMap("b"), service("svc"), deployment("web"), configMap("foreign")], rel);
    await apply(r1, { ...h.opts, createNamespace: true });
    // Someone takes "foreign" away from the release (relabels it): prune must leave it alone.
    h.server.get("v1", "ConfigMap", "demo", "foreign");
    await h.client.apply(
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "foreign", namespace: "demo", labels: { [LABELS.releaseUuid]: "someone-else" } } },
      { fieldManager: "human", force: true },
    );
    const start = h.server.requests.length;
    const rep = await apply(fakeRender([configMap("a")], rel), h.opts);
    const deletes = h.server.requests
      .slice(start)
      .filter((q) => q.method === "DELETE" && !q.path.includes("/leases/"))
      .map((q) => q.path.split("/").slice(-2).join("/"));
    expect(deletes).toEqual(["deployments/web", "services/svc", "configmaps/b"]);
    expect(rep.pruned.map((p) => p.id)).toEqual(["Deployment demo/web", "Service demo/svc", "ConfigMap demo/b"]);
    expect(h.server.get("v1", "Namespace", undefined, "extra")).toBeDefined();
    expect(h.server.get("v1", "ConfigMap", "demo", "foreign")).toBeDefined();
    const inv = (await readInventory(h.client, "hello", "demo"))!.inventory;
    expect(inv.entries.map((e) => e.name)).toEqual(["a"]);
    expect(inv.pendingPrune).toEqual([]);
  });

  test("noPrune leaves dropped objects in place", async () => {
    await apply(fakeRender([configMap("a"), configMap("b")], rel), { ...h.opts, createNamespace: true });
    const rep = await apply(fakeRender([configMap("a")], rel), { ...h.opts, noPrune: true });
    expect(rep.pruned).toEqual([]);
    expect(h.server.get("v1", "ConfigMap", "demo", "b")).toBeDefined();
    expect(h.server.requests.some((q) => q.method === "DELETE" && q.path.endsWith("/configmaps/b"))).toBe(false);
  });

  test("applies CRDs first and waits until they are established before custom resources", async () => {
    await h.stop();
    h = await startHarness({ crdEstablishDelayMs: Infinity });
    const cr = { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w1" }, spec: { size: 3 } };
    const r = fakeRender([cr, crd("example.com", "Widget", "widgets"), configMap("c")], rel);
    expect(r.objects.map((o) => o.kind)).toEqual(["CustomResourceDefinition", "ConfigMap", "Widget"]);
    // The CRD becomes Established on the second time apply reads it; no Widget request may come before.
    let reads = 0;
    let widgetRequestsBefore = -1;
    h.server.onRequest((q) => {
      if (q.method !== "GET" || !q.path.endsWith("/customresourcedefinitions/widgets.example.com") || ++reads !== 2) return;
      widgetRequestsBefore = h.server.requests.filter((x) => x.path.startsWith("/apis/example.com/")).length;
      const live = h.server.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", undefined, "widgets.example.com")!;
      h.server.setStatus("apiextensions.k8s.io/v1", "CustomResourceDefinition", undefined, "widgets.example.com", {
        ...live.status,
        conditions: [live.status.conditions[0], { type: "Established", status: "True", reason: "InitialNamesAccepted" }],
      });
    });
    const rep = await apply(r, { ...h.opts, createNamespace: true });
    expect(reads).toBeGreaterThanOrEqual(2);
    expect(widgetRequestsBefore).toBe(0);
    expect(rep.objects.map((o) => o.action)).toEqual(["created", "created", "created"]);
    expect(h.server.get("example.com/v1", "Widget", "demo", "w1")!.spec.size).toBe(3);
  });

  test("applies objects of one weight concurrently, bounded", async () => {
    // Every ConfigMap PATCH is held until four are in flight at once; then all go through.
    // A sequential apply never gets there (the test times out); one beyond the bound shows in `max`.
    const gate = h.server.gate({ method: "PATCH", path: "/configmaps/" });
    let inflight = 0;
    let max = 0;
    h.server.onRequest((q, res) => {
      if (q.method !== "PATCH" || !q.path.includes("/configmaps/")) return;
      max = Math.max(max, ++inflight);
      res.on("close", () => inflight--);
      if (inflight === 4) gate.release();
    });
    const objs = Array.from({ length: 20 }, (_, i) => configMap(`c${String(i).padStart(2, "0")}`));
    await apply(fakeRender(objs, rel), { ...h.opts, createNamespace: true, concurrency: 4 });
    expect(max).toBe(4);
  });

  test("dry-run=server persists nothing and reports what would happen", async () => {
    await apply(fakeRender([configMap("a"), configMap("b")], rel), { ...h.opts, createNamespace: true });
    const before = JSON.stringify(h.server.list());
    const start = h.server.requests.length;
    const rep = await apply(fakeRender([configMap("a", { a: "2" }), configMap("n")], rel), { ...h.opts, dryRun: "server" });
    expect(rep.dryRun).toBe(true);
    expect(rep.objects.map((o) => [o.id, o.action])).toEqual([
      ["ConfigMap demo/a", "configured"],
      ["ConfigMap demo/n", "created"],
    ]);
    expect(rep.pruned.map((p) => p.id)).toEqual(["ConfigMap demo/b"]);
    expect(JSON.stringify(h.server.list())).toBe(before);
    expect(h.server.requests.slice(start).filter((q) => q.method !== "GET" && q.query.get("dryRun") !== "All" && q.path.includes("/demo/"))).toHaveLength(0);
  });

  test("dry-run with a namespace that does not exist yet reports creates", async () => {
    const rep = await apply(fakeRender([configMap("a")], rel), { ...h.opts, dryRun: "server", createNamespace: true });
    expect(rep.objects[0]!.action).toBe("created");
    expect(h.server.get("v1", "Namespace", undefined, "demo")).toBeUndefined();
  });

  test("a server rejection stops the apply, names the object, prunes nothing and records what was applied", async () => {
    await apply(fakeRender([configMap("a"), configMap("b")], rel), { ...h.opts, createNamespace: true });
    const bad = deployment("web");
    (bad.spec as { selector?: unknown }).selector = undefined;
    const e = await apply(fakeRender([configMap("a"), configMap("c"), bad], rel), h.opts).catch((x) => x);
    expect(ApplyError.is(e, "invalid")).toBe(true);
    expect(e.message).toContain("Deployment demo/web");
    expect(e.message).toContain("spec.selector");
    expect(h.server.get("v1", "ConfigMap", "demo", "b")).toBeDefined();
    const inv = (await readInventory(h.client, "hello", "demo"))!.inventory;
    // b is still owned (not pruned, so the next apply prunes it); c was applied before the failure.
    expect(inv.entries.map((x) => `${x.kind}/${x.name}`)).toEqual(["ConfigMap/a", "ConfigMap/b", "ConfigMap/c"]);
    expect(inv.history.map((r) => r.outcome)).toEqual(["applied", "failed"]);
    const next = await apply(fakeRender([configMap("a"), configMap("c")], rel), h.opts);
    expect(next.pruned.map((p) => p.id)).toEqual(["ConfigMap demo/b"]);
  });

  test("keeps fields other managers own (no fighting an HPA) and removes fields it stopped applying", async () => {
    await apply(fakeRender([deployment("web", { replicas: 2 })], rel), { ...h.opts, createNamespace: true });
    const withAnn = deployment("web", { replicas: 2 });
    withAnn.metadata.annotations = { note: "x" };
    await apply(fakeRender([withAnn], rel), h.opts);
    expect(h.server.get("apps/v1", "Deployment", "demo", "web")!.metadata.annotations).toEqual({ note: "x" });
    await apply(fakeRender([deployment("web", { replicas: 2 })], rel), h.opts);
    expect(h.server.get("apps/v1", "Deployment", "demo", "web")!.metadata.annotations).toBeUndefined();
  });

  test("secret values are applied but never appear in reports", async () => {
    const planted = "PLANTED-s3cr3t-7f1c";
    const rep = await apply(fakeRender([secret("creds", { password: planted })], rel), { ...h.opts, createNamespace: true });
    const live = h.server.get("v1", "Secret", "demo", "creds")!;
    expect(Buffer.from(live.data.password, "base64").toString()).toBe(planted);
    expect(JSON.stringify(rep)).not.toContain(planted);
    expect(JSON.stringify(rep)).not.toContain(Buffer.from(planted).toString("base64"));
  });
});
