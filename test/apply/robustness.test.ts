import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { apply, ApplyError, KubeClient, loadKubeConfig, readInventory, inventoryName } from "../../src/apply/index.js";
import { lockName } from "../../src/apply/lock.js";
import { startHarness, type Harness } from "../support/harness.js";
import { configMap, deployment, fakeRender } from "../support/render-result.js";

let h: Harness;
afterEach(async () => h?.stop());
const rel = { name: "hello", namespace: "demo" };

describe("transient failures are retried with backoff", () => {
  test("5xx and 429 (with Retry-After)", async () => {
    h = await startHarness();
    h.server.fault({ method: "PATCH", path: "/configmaps/a", status: 503, times: 2 });
    h.server.fault({ method: "GET", path: "/configmaps/b", status: 429, times: 1, retryAfter: 0 });
    h.server.fault({ method: "PUT", path: "/secrets/", status: 500, times: 1 });
    const rep = await apply(fakeRender([configMap("a"), configMap("b")], rel), { ...h.opts, createNamespace: true });
    expect(rep.objects.map((o) => o.action)).toEqual(["created", "created"]);
    const patchesA = h.server.requests.filter((q) => q.method === "PATCH" && q.path.endsWith("/configmaps/a"));
    expect(patchesA).toHaveLength(3);
  });

  test("slow answers (request timeout) and dropped connections", async () => {
    // The first PATCH of `a` is never answered (held until the server stops): only the client's request timeout ends it.
    h = await startHarness({}, { requestTimeoutMs: 1000 });
    h.server.gate({ method: "PATCH", path: "/configmaps/a", times: 1 });
    h.server.fault({ method: "PATCH", path: "/configmaps/b", drop: true, times: 2 });
    const rep = await apply(fakeRender([configMap("a"), configMap("b")], rel), { ...h.opts, createNamespace: true });
    expect(rep.objects.map((o) => o.action)).toEqual(["created", "created"]);
    expect(h.server.get("v1", "ConfigMap", "demo", "b")).toBeDefined();
  });

  test("gives up after the retry budget with an ApiError naming the object; the inventory records only what was applied", async () => {
    h = await startHarness({}, { retries: 2 });
    h.server.fault({ method: "PATCH", path: "/configmaps/b", status: 503 });
    const e = await apply(fakeRender([configMap("a"), configMap("b")], rel), { ...h.opts, createNamespace: true }).catch((x) => x);
    expect(ApplyError.is(e, "api_error")).toBe(true);
    expect(e.message).toContain("ConfigMap demo/b");
    expect(h.server.requests.filter((q) => q.method === "PATCH" && q.path.endsWith("/configmaps/b"))).toHaveLength(3);
    const inv = (await readInventory(h.client, "hello", "demo"))!.inventory;
    expect(inv.entries.map((x) => x.name)).toEqual(["a"]);
    expect(inv.history.at(-1)!.outcome).toBe("failed");
  });

  test("when the server stays unreachable, no further object is tried: one error, naming the object and the server", async () => {
    h = await startHarness({}, { retries: 1 });
    h.server.fault({ method: "GET", path: "/configmaps/", drop: true });
    const objs = ["a", "b", "c", "d", "e"].map((n) => configMap(n));
    const e = await apply(fakeRender(objs, rel), { ...h.opts, createNamespace: true, concurrency: 1 }).catch((x) => x);
    expect(ApplyError.is(e, "api_error"), String(e)).toBe(true);
    expect(e.message).toMatch(/^get ConfigMap demo\/a: .*\(after 2 attempts\)$/);
    expect(h.server.requests.filter((q) => q.path.includes("/configmaps/"))).toHaveLength(2);
  });

  test("a refused connection is reported as an unreachable API server", async () => {
    h = await startHarness({}, { retries: 0 });
    const client = new KubeClient({ kubeConfig: h.server.kubeConfig(), retries: 0 });
    await h.server.stop();
    const e = await client.get({ apiVersion: "v1", kind: "ConfigMap", name: "a", namespace: "demo" }).catch((x) => x);
    expect(ApplyError.is(e, "api_error"), String(e)).toBe(true);
    expect(e.message).toContain(`get ConfigMap demo/a: cannot reach the API server ${client.server}: `);
  });

  test("non-transient errors are not retried", async () => {
    h = await startHarness();
    h.server.fault({ method: "PATCH", path: "/configmaps/a", status: 422, message: "nope" });
    await apply(fakeRender([configMap("a")], rel), { ...h.opts, createNamespace: true }).catch(() => {});
    expect(h.server.requests.filter((q) => q.method === "PATCH" && q.path.endsWith("/configmaps/a"))).toHaveLength(1);
  });
});

describe("locking", () => {
  test("a second apply of the same release while one runs is refused", async () => {
    h = await startHarness();
    await apply(fakeRender([configMap("a")], rel), { ...h.opts, createNamespace: true });
    // The first apply is held inside its PATCH of `slow` (it holds the lock) until the second has been refused.
    const gate = h.server.gate({ method: "PATCH", path: "/configmaps/slow", times: 1 });
    const first = apply(fakeRender([configMap("a"), configMap("slow")], rel), h.opts);
    await gate.reached;
    const e = await apply(fakeRender([configMap("a")], rel), h.opts).catch((x) => x);
    gate.release();
    expect(ApplyError.is(e, "locked")).toBe(true);
    expect(e.message).toContain('release "hello"');
    expect(e.message).toContain(lockName("hello"));
    await first;
    expect(h.server.get("coordination.k8s.io/v1", "Lease", "demo", lockName("hello"))).toBeUndefined();
    // Once finished, applies go through again; another release is never blocked.
    await apply(fakeRender([configMap("a")], rel), h.opts);
  });

  test("the inventory is updated with optimistic concurrency", async () => {
    h = await startHarness();
    await apply(fakeRender([configMap("a")], rel), { ...h.opts, createNamespace: true });
    // Someone rewrites the inventory between our read and our write.
    const name = inventoryName(fakeRender([], rel).release);
    let done = false;
    h.server.onRequest(async (q) => {
      if (!done && q.method === "PUT" && q.path.endsWith(`/secrets/${name}`)) {
        done = true;
        const s = h.server.get("v1", "Secret", "demo", name)!;
        h.server.put({ ...s, metadata: { ...s.metadata, annotations: { ...s.metadata.annotations, touched: "yes" } } });
      }
    });
    const e = await apply(fakeRender([configMap("a"), configMap("b")], rel), h.opts).catch((x) => x);
    expect(ApplyError.is(e, "inventory_conflict")).toBe(true);
    const rep = await apply(fakeRender([configMap("a"), configMap("b")], rel), h.opts);
    expect(rep.inventory).toBe(`demo/${name}`);
  });

  test("a process killed mid-apply leaves the previous inventory intact; the next apply converges", async () => {
    h = await startHarness();
    const v1 = [configMap("a"), configMap("b"), deployment("web")];
    await apply(fakeRender(v1, rel), { ...h.opts, createNamespace: true });
    const name = inventoryName(fakeRender([], rel).release);
    const before = h.server.get("v1", "Secret", "demo", name)!;

    const v2 = [configMap("a", { a: "2" }), configMap("c"), configMap("d"), deployment("web", { replicas: 3 })];
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "test/support/apply-child.ts", h.server.kubeconfigPath, JSON.stringify({ objects: v2, release: rel, lockDurationSeconds: 600 })],
      {
        stdio: "pipe",
      },
    );
    let patches = 0;
    let killed = false;
    h.server.onRequest((q, res) => {
      if (q.method === "PATCH" && q.path.includes("/configmaps/") && ++patches === 2 && !killed) {
        killed = true;
        child.kill("SIGKILL");
        res.destroy();
      }
    });
    const code = await new Promise<number | null>((r) => child.on("exit", (c, sig) => r(sig ? -1 : c)));
    expect(killed).toBe(true);
    expect(code).toBe(-1);
    // Partially applied, but the inventory is the previous one and nothing was pruned.
    expect(h.server.get("v1", "ConfigMap", "demo", "a")!.data).toEqual({ a: "2" });
    expect(h.server.get("v1", "ConfigMap", "demo", "b")).toBeDefined();
    expect(h.server.get("v1", "Secret", "demo", name)!.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    const lease = h.server.get("coordination.k8s.io/v1", "Lease", "demo", lockName("hello"));
    expect(lease).toBeDefined();
    // The lock is held until it expires; then the next apply converges.
    const early = await apply(fakeRender(v2, rel), h.opts).catch((x) => x);
    expect(ApplyError.is(early, "locked")).toBe(true);
    // Let the lease expire without waiting for it: it was last renewed 601 s ago.
    h.server.put({ ...lease, spec: { ...lease!.spec, renewTime: new Date(Date.now() - 601_000).toISOString().replace("Z", "000Z") } });
    const rep = await apply(fakeRender(v2, rel), h.opts);
    expect(rep.pruned.map((p) => p.id)).toEqual(["ConfigMap demo/b"]);
    const inv = (await readInventory(h.client, "hello", "demo"))!.inventory;
    expect(inv.entries.map((e) => e.name)).toEqual(["a", "c", "d", "web"]);
    expect(h.server.get("apps/v1", "Deployment", "demo", "web")!.spec.replicas).toBe(3);
  }, 120_000); // a second Node process (tsx) starts; slow on a loaded machine
});

describe("kubeconfig resolution", () => {
  const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
  afterEach(() => {
    process.env.KUBECONFIG = saved.KUBECONFIG;
    process.env.HOME = saved.HOME;
    if (saved.KUBECONFIG === undefined) delete process.env.KUBECONFIG;
  });

  test("explicit path, KUBECONFIG, ~/.kube/config, context selection, clear errors", async () => {
    h = await startHarness({ autoReady: true });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opm-kc-"));
    const two = h.server.kubeconfigYaml("alpha").replace(/current-context: alpha/, "current-context: alpha");
    fs.writeFileSync(path.join(dir, "a.yaml"), two);
    fs.writeFileSync(path.join(dir, "b.yaml"), h.server.kubeconfigYaml("beta"));
    expect(loadKubeConfig({ kubeconfig: path.join(dir, "a.yaml") }).getCurrentContext()).toBe("alpha");
    process.env.KUBECONFIG = [path.join(dir, "a.yaml"), path.join(dir, "b.yaml")].join(path.delimiter);
    const kc = loadKubeConfig({ context: "beta" });
    expect(kc.getCurrentContext()).toBe("beta");
    expect(
      kc
        .getContexts()
        .map((c) => c.name)
        .sort(),
    ).toEqual(["alpha", "beta"]);
    delete process.env.KUBECONFIG;
    fs.mkdirSync(path.join(dir, "home", ".kube"), { recursive: true });
    fs.writeFileSync(path.join(dir, "home", ".kube", "config"), h.server.kubeconfigYaml("homectx"));
    process.env.HOME = path.join(dir, "home");
    expect(loadKubeConfig().getCurrentContext()).toBe("homectx");
    const e = (() => {
      try {
        loadKubeConfig({ context: "nope" });
      } catch (x) {
        return x;
      }
    })();
    expect(ApplyError.is(e, "kubeconfig")).toBe(true);
    expect((e as Error).message).toContain('context "nope" not found');
    process.env.HOME = path.join(dir, "empty");
    expect(() => loadKubeConfig()).toThrow(/no kubeconfig found/);
    expect(() => loadKubeConfig({ kubeconfig: path.join(dir, "missing") })).toThrow(/does not exist/);
    // End to end through the kubeconfig option.
    const rep = await apply(fakeRender([configMap("x")], rel), { kubeconfig: path.join(dir, "a.yaml"), createNamespace: true });
    expect(rep.objects[0]!.action).toBe("created");
    const c = new KubeClient({ kubeconfig: path.join(dir, "b.yaml"), context: "beta" });
    expect(c.server).toBe(h.server.url);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
