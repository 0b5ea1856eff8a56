import { afterEach, describe, expect, test } from "vitest";
import { apply, ApplyError, deleteRelease, readInventory, status, type LifecycleEvent } from "../../src/apply/index.js";
import { runApply, runDelete, runStatus } from "../../src/cli/lifecycle-run.js";
import { captureIO, startHarness, type Harness } from "../support/harness.js";
import { configMap, deployment, fakeRender, service } from "../support/render-result.js";

let h: Harness;
afterEach(async () => h?.stop());
const rel = { name: "hello", namespace: "demo" };

describe("wait", () => {
  test("waits for rollouts to complete, reporting progress, and records the outcome", async () => {
    h = await startHarness();
    const r = fakeRender(
      [
        deployment("web", { replicas: 2 }),
        {
          apiVersion: "batch/v1",
          kind: "Job",
          metadata: { name: "migrate" },
          spec: { template: { spec: { containers: [{ name: "m", image: "busybox" }], restartPolicy: "Never" } } },
        },
      ],
      rel,
    );
    const events: string[] = [];
    // Each workload becomes ready once the wait has reported it waiting: driven by events, not timers.
    const onEvent = (e: LifecycleEvent) => {
      events.push(`${e.type} ${"id" in e ? e.id : ""}`);
      if (e.type === "waiting" && e.id === "Deployment demo/web") h.server.markReady("Deployment", "demo", "web");
      if (e.type === "waiting" && e.id === "Job demo/migrate") h.server.markReady("Job", "demo", "migrate");
    };
    const rep = await apply(r, { ...h.opts, createNamespace: true, wait: true, timeoutMs: 10 * 60_000, onEvent });
    expect(rep.ready).toBe(true);
    expect(events).toContain("waiting Deployment demo/web");
    expect(events).toContain("ready Deployment demo/web");
    expect(events).toContain("ready Job demo/migrate");
    const inv = (await readInventory(h.client, "hello", "demo"))!.inventory;
    expect(inv.history.at(-1)!.outcome).toBe("ready");
  });

  test("timeout names what is not ready and why (conditions and events), exit code 1", async () => {
    h = await startHarness();
    await apply(fakeRender([configMap("c")], rel), { ...h.opts, createNamespace: true });
    const r = fakeRender([deployment("web", { replicas: 3 }), configMap("c")], rel);
    const io = captureIO();
    // The controller's verdict is in place as soon as the Deployment is stored, before the wait starts.
    void h.server.whenStored("Deployment", "demo", "web").then(() => {
      h.server.setStatus("apps/v1", "Deployment", "demo", "web", {
        observedGeneration: 1,
        replicas: 3,
        updatedReplicas: 3,
        availableReplicas: 1,
        conditions: [{ type: "Available", status: "False", reason: "MinimumReplicasUnavailable", message: "Deployment does not have minimum availability." }],
      });
      h.server.addEvent("demo", { kind: "Deployment", name: "web" }, "Warning", "FailedCreate", 'pods "web-1" is forbidden: exceeded quota');
    });
    expect(await runApply(r, { client: h.client, wait: true, timeout: "1s", pollIntervalMs: 20 }, io.io)).toBe(1);
    const err = io.err.join("\n");
    expect(err).toContain("Deployment demo/web");
    expect(err).toContain("1 of 3 updated replicas available");
    expect(err).toContain("MinimumReplicasUnavailable");
    expect(err).toContain("exceeded quota");
    expect(err).not.toContain("ConfigMap demo/c");
    const inv = (await readInventory(h.client, "hello", "demo"))!.inventory;
    expect(inv.history.at(-1)!.outcome).toBe("not-ready");
    expect(inv.entries.map((e) => e.name)).toEqual(["c", "web"]);
  });

  test("a failed Job stops the wait early", async () => {
    h = await startHarness();
    const job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "j" },
      spec: { template: { spec: { containers: [{ name: "m", image: "busybox" }] } } },
    };
    const failed = {
      failed: 6,
      conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" }],
    };
    const onEvent = (e: LifecycleEvent) => {
      if (e.type === "waiting" && e.id === "Job demo/j") h.server.setStatus("batch/v1", "Job", "demo", "j", failed);
    };
    // A ten-minute timeout: only stopping on the failure ends this test within vitest's limit.
    const e = await apply(fakeRender([job], rel), { ...h.opts, createNamespace: true, wait: true, timeoutMs: 10 * 60_000, onEvent }).catch((x) => x);
    expect(ApplyError.is(e, "timeout")).toBe(true);
    expect(e.message).toContain("1 object(s) failed");
    expect(e.message).toContain("BackoffLimitExceeded");
  });

  test("progress is one updating line per object on a terminal, plain lines in CI", async () => {
    h = await startHarness({ autoReady: true });
    const r = fakeRender([deployment("web"), configMap("c")], rel);
    const tty = captureIO({ isTTY: true, raw: true });
    expect(await runApply(r, { client: h.client, createNamespace: true, wait: true, pollIntervalMs: 20 }, tty.io)).toBe(0);
    const raw = tty.raw.join("");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for the terminal's cursor-up escape (ESC [ n A).
    expect(raw).toMatch(/\x1b\[\d+A/);
    expect(raw).toContain("Deployment demo/web ready");
    expect(tty.out.at(-1)).toMatch(/0 created, 0 configured|2 created/);
    const ci = captureIO({ isTTY: true, raw: true, env: { CI: "true" } });
    expect(await runApply(r, { client: h.client, wait: true, pollIntervalMs: 20 }, ci.io)).toBe(0);
    expect(ci.raw).toEqual([]);
    expect(ci.out).toContain("ConfigMap demo/c unchanged");
    expect(ci.out.some((l) => l.startsWith("Deployment demo/web ready"))).toBe(true);
  });
});

describe("status", () => {
  test("from name and namespace alone: a table with health; exit 0 healthy, 1 not, 2 on error", async () => {
    h = await startHarness();
    const r = fakeRender([deployment("web"), configMap("c"), service("web")], rel);
    await apply(r, { ...h.opts, createNamespace: true });
    const s1 = await status({ name: "hello", namespace: "demo" }, h.opts);
    expect(s1.healthy).toBe(false);
    expect(s1.objects.find((o) => o.kind === "Deployment")!.health).toBe("InProgress");
    const io = captureIO();
    expect(await runStatus({ name: "hello", namespace: "demo" }, { client: h.client }, io.io)).toBe(1);
    expect(io.out[1]).toMatch(/^KIND\s+NAMESPACE\s+NAME\s+COMPONENT\s+HEALTH\s+MESSAGE$/);
    expect(io.out.some((l) => /^Deployment\s+demo\s+web\s+web\s+InProgress/.test(l))).toBe(true);
    h.server.markReady("Deployment", "demo", "web");
    const ioJ = captureIO();
    expect(await runStatus({ name: "hello", namespace: "demo" }, { client: h.client, output: "json" }, ioJ.io)).toBe(0);
    const parsed = JSON.parse(ioJ.out.join("\n"));
    expect(parsed.healthy).toBe(true);
    expect(parsed.objects).toHaveLength(3);
    expect(parsed.module.fqn).toBe(r.release.module.fqn);
    // A deleted object makes the release unhealthy.
    await h.client.delete({ apiVersion: "v1", kind: "ConfigMap", name: "c", namespace: "demo" });
    expect((await status(r, h.opts)).objects.find((o) => o.name === "c")!.health).toBe("NotFound");
    const ioE = captureIO();
    expect(await runStatus({ name: "nope", namespace: "demo" }, { client: h.client }, ioE.io)).toBe(2);
    expect(ioE.err.join("\n")).toContain('release "nope" not found');
  });
});

describe("delete", () => {
  test("deletes in reverse weight order, waits until gone, deletes the inventory last, is idempotent", async () => {
    h = await startHarness({ autoReady: true, deleteDelayMs: 120 });
    const extraNs = { apiVersion: "v1", kind: "Namespace", metadata: { name: "side" } };
    await apply(fakeRender([extraNs, configMap("c"), service("web"), deployment("web")], rel), { ...h.opts, createNamespace: true });
    const start = h.server.requests.length;
    // Each DELETE must find nothing still terminating: the previous weight group is gone first.
    const terminatingAtDelete: string[][] = [];
    h.server.onRequest((q) => {
      if (q.method === "DELETE" && !q.path.includes("/leases/"))
        terminatingAtDelete.push(
          h.server
            .list()
            .filter((o) => o.metadata.deletionTimestamp)
            .map((o) => `${o.kind} ${o.metadata.name}`),
        );
    });
    const io = captureIO();
    expect(await runDelete({ name: "hello", namespace: "demo" }, { client: h.client, pollIntervalMs: 20 }, io.io)).toBe(0);
    expect(terminatingAtDelete.length).toBeGreaterThanOrEqual(4);
    expect(terminatingAtDelete).toEqual(terminatingAtDelete.map(() => []));
    const deletes = h.server.requests
      .slice(start)
      .filter((q) => q.method === "DELETE" && !q.path.includes("/leases/"))
      .map((q) => q.path.split("/").slice(-2).join("/"));
    expect(deletes[0]).toBe("deployments/web");
    expect(deletes.slice(0, 3)).toEqual(["deployments/web", "services/web", "configmaps/c"]);
    expect(deletes.at(-1)).toMatch(/^secrets\/opm\.hello\./);
    const left = h.server.list().filter((o) => o.metadata.labels?.["module-release.opmodel.dev/name"] === "hello" && !o.metadata.deletionTimestamp);
    expect(left.map((o) => `${o.kind} ${o.metadata.name}`)).toEqual(["Namespace side"]);
    expect(h.server.get("v1", "Namespace", undefined, "side")).toBeDefined();
    expect(io.out.join("\n")).toContain("Namespace side kept");
    const again = await deleteRelease({ name: "hello", namespace: "demo" }, h.opts);
    expect(again.found).toBe(false);
    const io2 = captureIO();
    expect(await runDelete({ name: "hello", namespace: "demo" }, { client: h.client }, io2.io)).toBe(0);
    expect(io2.out.join("\n")).toContain("nothing to delete");
  });

  test("delete times out naming what is still there", async () => {
    h = await startHarness({ deleteDelayMs: Infinity }); // deletions never complete
    await apply(fakeRender([configMap("c")], rel), { ...h.opts, createNamespace: true });
    const e = await deleteRelease({ name: "hello", namespace: "demo" }, { ...h.opts, timeoutMs: 200 }).catch((x) => x);
    expect(ApplyError.is(e, "timeout")).toBe(true);
    expect(e.message).toContain("ConfigMap demo/c");
    expect(await readInventory(h.client, "hello", "demo")).toBeDefined();
  });
});
