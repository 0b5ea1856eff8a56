/** Release history and rollback against the in-repo test API server. */
import { gunzipSync, gzipSync } from "node:zlib";
import { afterEach, describe, expect, test } from "vitest";
import { apply, ApplyError, history, readInventory, rollback } from "../../src/apply/index.js";
import { runHistory, runRollback } from "../../src/cli/history.js";
import type { K8sObject } from "../../src/render/types.js";
import { captureIO, startHarness, type Harness } from "../support/harness.js";
import { configMap, deployment, fakeRender, secret } from "../support/render-result.js";

let h: Harness;
afterEach(async () => h?.stop());
const rel = { name: "hello", namespace: "demo" };
const target = { name: "hello", namespace: "demo" };
const v = (version: string, values: unknown = {}) => ({ ...rel, module: { version }, values });

const image = () => h.server.get("apps/v1", "Deployment", "demo", "web")?.spec.template.spec.containers[0].image;
const writes = () => h.server.requests.filter((r) => r.method !== "GET").length;
const inventorySecret = () => h.server.list("Secret").find((s) => s.metadata.labels?.["opmodel.dev/inventory"] === "true")!;

/** Replace the inventory Secret's data as stored (a damaged history), bypassing opm. */
function tamper(edit: (data: Record<string, string>) => void): void {
  const s = structuredClone(inventorySecret());
  edit(s.data);
  h.server.put(s);
}
const invJson = (data: Record<string, string>) => JSON.parse(Buffer.from(data.inventory!, "base64").toString("utf8"));
const setInv = (data: Record<string, string>, inv: unknown) => {
  data.inventory = Buffer.from(JSON.stringify(inv)).toString("base64");
};

describe("history", () => {
  test("lists numbered revisions with time, module version, values digest, outcome and violations", async () => {
    h = await startHarness();
    await apply(fakeRender([deployment("web", { image: "app:1" })], v("1.0.0", { tag: 1 })), { ...h.opts, createNamespace: true });
    const r2 = fakeRender([deployment("web", { image: "app:2" })], v("1.1.0", { tag: 2 }));
    r2.violations.push({ policy: "p", rule: "r", severity: "audit", message: "m" } as never);
    const rep2 = await apply(r2, h.opts);
    expect(rep2.revision).toBe(2);
    const hist = await history(target, h.opts);
    expect(hist.current).toBe(2);
    expect(hist.revisions.map((r) => [r.revision, r.moduleVersion, r.outcome, r.violations, r.objects, r.rollbackable])).toEqual([
      [1, "1.0.0", "applied", 0, 1, true],
      [2, "1.1.0", "applied", 1, 1, true],
    ]);
    expect(hist.revisions[1]!.valuesDigest).toBe(r2.valuesDigest);
    expect(hist.revisions[0]!.valuesDigest).not.toBe(r2.valuesDigest);
    expect(Date.parse(hist.revisions[0]!.time)).toBeGreaterThan(0);

    const io = captureIO();
    expect(await runHistory(target, { client: h.client }, io.io)).toBe(0);
    expect(io.out[1]).toMatch(/^REVISION\s+UPDATED\s+MODULE VERSION\s+VALUES\s+OUTCOME\s+VIOLATIONS\s+DESCRIPTION$/);
    expect(io.out[3]).toMatch(new RegExp(`^2\\s+\\S+\\s+1\\.1\\.0\\s+${r2.valuesDigest.slice(0, 12)}\\s+applied\\s+1\\s+apply$`));
  });

  test("revisions keep counting past the 10-record window", async () => {
    h = await startHarness();
    for (let i = 1; i <= 12; i++) await apply(fakeRender([configMap("c", { i: String(i) })], rel), { ...h.opts, createNamespace: true });
    const hist = await history(target, h.opts);
    expect(hist.revisions.map((r) => r.revision)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(hist.revisions.every((r) => r.rollbackable)).toBe(true);
    // Only the kept revisions' objects stay stored.
    const payload = JSON.parse(gunzipSync(Buffer.from(inventorySecret().data.revisions, "base64")).toString("utf8"));
    expect(Object.keys(payload.revisions).sort((a, b) => Number(a) - Number(b))).toEqual(["3", "4", "5", "6", "7", "8", "9", "10", "11", "12"]);
    expect(Object.keys(payload.objects)).toHaveLength(10);
  });

  test("a release without an inventory is a clear error (exit 1)", async () => {
    h = await startHarness();
    const e = await history({ name: "nope", namespace: "demo" }, h.opts).catch((x) => x);
    expect(ApplyError.is(e, "release_not_found")).toBe(true);
    expect(e.message).toBe('release "nope" not found in namespace "demo" (no inventory Secret): it has no history');
    const io = captureIO();
    expect(await runHistory({ name: "nope", namespace: "demo" }, { client: h.client }, io.io)).toBe(1);
    expect(io.err.join("\n")).toContain('release "nope" not found');
  });
});

describe("rollback", () => {
  test("restores the previous image and prunes an object added later; recorded as a new revision", async () => {
    h = await startHarness();
    await apply(fakeRender([deployment("web", { image: "app:1" }), configMap("c")], v("1.0.0")), { ...h.opts, createNamespace: true });
    await apply(fakeRender([deployment("web", { image: "app:2" }), configMap("c"), configMap("added-in-2")], v("1.2.0")), h.opts);
    expect(image()).toBe("app:2");
    expect(h.server.get("v1", "ConfigMap", "demo", "added-in-2")).toBeDefined();

    const rep = await rollback(target, h.opts);
    expect([rep.from, rep.to, rep.revision]).toEqual([2, 1, 3]);
    expect(image()).toBe("app:1");
    expect(h.server.get("v1", "ConfigMap", "demo", "added-in-2")).toBeUndefined();
    expect(rep.pruned.map((p) => p.id)).toEqual(["ConfigMap demo/added-in-2"]);
    const inv = (await readInventory(h.client, "hello", "demo"))!.inventory;
    expect(inv.module.version).toBe("1.0.0");
    expect(inv.entries.map((e) => e.name).sort()).toEqual(["c", "web"]);
    expect(inv.history.at(-1)).toMatchObject({ revision: 3, rollbackOf: 1, moduleVersion: "1.0.0", outcome: "applied" });

    // Rolling back again returns to revision 2 (the previous successful revision), as revision 4.
    const io = captureIO();
    expect(await runRollback(target, { client: h.client }, io.io)).toBe(0);
    expect(io.out.at(-1)).toBe("release hello in demo rolled back to revision 2, recorded as revision 4: 1 created, 2 configured, 0 unchanged, 0 pruned");
    expect(image()).toBe("app:2");
    expect(h.server.get("v1", "ConfigMap", "demo", "added-in-2")).toBeDefined();
    const io2 = captureIO();
    await runHistory(target, { client: h.client }, io2.io);
    expect(io2.out.at(-1)).toMatch(/^4\s.*\s1\.2\.0\s.*applied\s+0\s+rollback of 2$/);

    // --to names any kept revision; a server dry run changes nothing.
    const before = h.server.requests.length;
    const dry = await rollback(target, { ...h.opts, to: 1, dryRun: "server" });
    expect(dry.dryRun).toBe(true);
    expect(dry.pruned.map((p) => p.id)).toEqual(["ConfigMap demo/added-in-2"]);
    expect(image()).toBe("app:2");
    expect(h.server.requests.slice(before).filter((r) => r.method !== "GET" && r.query.get("dryRun") !== "All")).toEqual([]);
    expect((await history(target, h.opts)).current).toBe(4);
  });

  test("the default target skips failed revisions; --wait records the outcome", async () => {
    h = await startHarness({ autoReady: true });
    await apply(fakeRender([deployment("web", { image: "app:1" })], rel), { ...h.opts, createNamespace: true });
    await apply(fakeRender([deployment("web", { image: "app:2" })], rel), h.opts);
    // Revision 3 fails part-way (the server rejects its second object).
    const job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "Not_Valid" },
      spec: { template: { spec: { containers: [{ name: "m", image: "busybox" }], restartPolicy: "Never" } } },
    };
    const bad = fakeRender([deployment("web", { image: "app:3" }), job], rel);
    await expect(apply(bad, h.opts)).rejects.toThrow(/Not_Valid/);
    const hist = await history(target, h.opts);
    expect(hist.revisions.map((r) => [r.revision, r.outcome, r.rollbackable])).toEqual([
      [1, "applied", true],
      [2, "applied", true],
      [3, "failed", false],
    ]);
    expect(hist.revisions[2]!.reason).toContain("the apply failed part-way");
    const rep = await rollback(target, { ...h.opts, wait: true });
    expect(rep.to).toBe(2);
    expect(rep.ready).toBe(true);
    expect(image()).toBe("app:2");
    expect((await history(target, h.opts)).revisions.at(-1)).toMatchObject({ revision: 4, rollbackOf: 2, outcome: "ready" });
  });

  test("a Secret's value is never stored; at rollback it is re-read from the live Secret when its digest matches", async () => {
    h = await startHarness();
    const planted = "PLANTED-s3cr3t-history";
    await apply(fakeRender([secret("creds", { password: planted }), configMap("c", { a: "1" })], rel), { ...h.opts, createNamespace: true });
    await apply(fakeRender([secret("creds", { password: planted }), configMap("c", { a: "2" })], rel), h.opts);
    const inv = inventorySecret();
    const stored = [
      ...Object.values(inv.data as Record<string, string>).map((d) => Buffer.from(d, "base64").toString("utf8")),
      gunzipSync(Buffer.from(inv.data.revisions, "base64")).toString("utf8"),
    ].join("\n");
    expect(stored).toContain('"password":"hmac-sha256:');
    expect(stored).not.toContain(planted);
    expect(stored).not.toContain(Buffer.from(planted).toString("base64"));

    const rep = await rollback(target, h.opts);
    expect(rep.to).toBe(1);
    expect(h.server.get("v1", "ConfigMap", "demo", "c")!.data).toEqual({ a: "1" });
    expect(Buffer.from(h.server.get("v1", "Secret", "demo", "creds")!.data.password, "base64").toString()).toBe(planted);
    expect(JSON.stringify(rep)).not.toContain(planted);
  });

  test("a Secret value the cluster no longer holds: a clear error naming Secret and key, nothing written; supplied again, it works", async () => {
    h = await startHarness();
    const v1 = "PLANTED-v1-value";
    const v2 = "PLANTED-v2-value";
    await apply(fakeRender([secret("creds", { password: v1, user: "admin" }), deployment("web", { image: "app:1" })], rel), {
      ...h.opts,
      createNamespace: true,
    });
    await apply(fakeRender([secret("creds", { password: v2, user: "admin" }), deployment("web", { image: "app:2" })], rel), h.opts);
    const before = writes();
    const e = await rollback(target, h.opts).catch((x) => x);
    expect(ApplyError.is(e, "secret_value_missing")).toBe(true);
    expect(e.message).toBe(
      'cannot roll back release "hello" in namespace "demo" to revision 1: Secret values are not stored in the history, and one cannot be found:\n' +
        '  Secret demo/creds key "password": the live value changed since revision 1; supply the value revision 1 applied\n' +
        "Supply each with --secret <secret>/<key>=@file or =env:VAR (library: secrets: { <secret>: { <key>: value } }); nothing was changed",
    );
    expect(writes()).toBe(before);
    expect(image()).toBe("app:2");

    // A wrong value is refused too (the rollback must be exact), and never printed.
    const io = captureIO();
    process.env.OPM_TEST_WRONG_PW = "PLANTED-wrong";
    expect(await runRollback(target, { client: h.client, secret: ["creds/password=env:OPM_TEST_WRONG_PW"] }, io.io)).toBe(1);
    expect(io.err.join("\n")).toContain('Secret demo/creds key "password": the value supplied is not the one revision 1 applied');
    expect(io.all()).not.toMatch(/PLANTED/);
    expect(writes()).toBe(before);

    // Deleted Secret: both keys are named.
    await h.client.delete({ apiVersion: "v1", kind: "Secret", name: "creds", namespace: "demo" });
    const gone = await rollback(target, h.opts).catch((x) => x);
    expect(gone.message).toContain('Secret demo/creds key "password": the Secret no longer exists');
    expect(gone.message).toContain('Secret demo/creds key "user": the Secret no longer exists');
    expect(gone.message).toContain("2 cannot be found");

    const ok = await rollback(target, { ...h.opts, secrets: { creds: { password: v1, user: "admin" } } });
    expect(ok.to).toBe(1);
    expect(image()).toBe("app:1");
    const live = h.server.get("v1", "Secret", "demo", "creds")!;
    expect(Buffer.from(live.data.password, "base64").toString()).toBe(v1);
    expect(Buffer.from(live.data.user, "base64").toString()).toBe("admin");
    delete process.env.OPM_TEST_WRONG_PW;
  });

  describe("a missing or damaged history fails clearly (exit 1) and writes nothing", () => {
    async function twoRevisions(): Promise<void> {
      h = await startHarness();
      await apply(fakeRender([deployment("web", { image: "app:1" }), configMap("c")], rel), { ...h.opts, createNamespace: true });
      await apply(fakeRender([deployment("web", { image: "app:2" }), configMap("c"), configMap("later")], rel), h.opts);
    }
    async function refused(flags: { to?: number }, message: string | RegExp, code: string): Promise<void> {
      const before = writes();
      const io = captureIO();
      expect(await runRollback(target, { client: h.client, ...flags }, io.io)).toBe(1);
      const err = io.err.join("\n");
      if (typeof message === "string") expect(err).toContain(message);
      else expect(err).toMatch(message);
      const e = await rollback(target, { ...h.opts, ...flags }).catch((x) => x);
      expect(ApplyError.is(e, code as never)).toBe(true);
      expect(writes()).toBe(before);
      expect(image()).toBe("app:2");
      expect(h.server.get("v1", "ConfigMap", "demo", "later")).toBeDefined();
    }

    test("no inventory", async () => {
      h = await startHarness();
      const io = captureIO();
      expect(await runRollback(target, { client: h.client }, io.io)).toBe(1);
      expect(io.err.join("\n")).toBe('error: release "hello" not found in namespace "demo" (no inventory Secret): it has no history');
      expect(writes()).toBe(0);
    });

    test("an unknown revision, and no earlier successful one", async () => {
      await twoRevisions();
      await refused(
        { to: 9 },
        'cannot roll back release "hello" in namespace "demo" to revision 9: there is no revision 9; its history holds 1 (applied), 2 (applied)',
        "revision_not_found",
      );
      tamper((d) => {
        const inv = invJson(d);
        inv.history[0].outcome = "failed";
        setInv(d, inv);
      });
      await refused(
        {},
        /no successful revision before the current one \(2\) has stored objects; its history holds 1 \(failed\), 2 \(applied\); name one with --to/,
        "revision_not_found",
      );
    });

    test("a truncated payload", async () => {
      await twoRevisions();
      tamper((d) => {
        d.revisions = d.revisions!.slice(0, Math.floor(d.revisions!.length / 2));
      });
      await refused({ to: 1 }, /to revision 1: the stored objects are not readable \(.*\); nothing was changed/, "history_damaged");
      const hist = await history(target, h.opts);
      expect(hist.revisions.map((r) => r.rollbackable)).toEqual([false, false]);
      expect(hist.revisions[0]!.reason).toMatch(/not readable/);
    });

    test("a damaged payload does not block the next apply, which stores its own revision afresh", async () => {
      await twoRevisions();
      tamper((d) => {
        d.revisions = d.revisions!.slice(0, 40);
      });
      const rep = await apply(fakeRender([deployment("web", { image: "app:3" }), configMap("c")], rel), h.opts);
      expect(rep.revision).toBe(3);
      const hist = await history(target, h.opts);
      expect(hist.revisions.map((r) => [r.revision, r.rollbackable])).toEqual([
        [1, false],
        [2, false],
        [3, true],
      ]);
      expect(hist.revisions[0]!.reason).toMatch(/^its objects are not stored: the stored objects are not readable \(/);
      await rollback(target, { ...h.opts, to: 3 });
      expect(image()).toBe("app:3");
    });

    test("a payload that is not gzip, or gone", async () => {
      await twoRevisions();
      tamper((d) => {
        d.revisions = Buffer.from("not gzip at all").toString("base64");
      });
      await refused({}, /to revision 1: the stored objects are not readable/, "history_damaged");
      tamper((d) => {
        delete d.revisions;
      });
      await refused({}, 'to revision 1: the inventory has no "revisions" key; nothing was changed', "history_damaged");
    });

    test("a record without objects", async () => {
      await twoRevisions();
      tamper((d) => {
        const inv = invJson(d);
        delete inv.history[0].stored;
        setInv(d, inv);
      });
      await refused(
        { to: 1 },
        "to revision 1: its record holds no objects (recorded by an opm that did not store them); nothing was changed",
        "history_damaged",
      );
    });

    test("an altered stored object", async () => {
      await twoRevisions();
      tamper((d) => {
        const p = JSON.parse(gunzipSync(Buffer.from(d.revisions!, "base64")).toString("utf8"));
        for (const o of Object.values(p.objects) as K8sObject[]) if (o.kind === "Deployment") (o.spec as { replicas?: number }).replicas = 99;
        d.revisions = gzipSync(Buffer.from(JSON.stringify(p))).toString("base64");
      });
      await refused(
        { to: 1 },
        "to revision 1: its stored object Deployment web was altered (its digest does not match); nothing was changed",
        "history_damaged",
      );
    });
  });
});
