import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { apply, ApplyError, ConflictError, diff, status, deleteRelease } from "../../src/apply/index.js";
import { runApply, runDiff } from "../../src/cli/lifecycle-run.js";
import { captureIO, startHarness, type Harness } from "../support/harness.js";
import { configMap, deployment, fakeRender, secret } from "../support/render-result.js";

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ autoReady: true });
});
afterEach(async () => h.stop());
const rel = { name: "hello", namespace: "demo" };

describe("conflicts", () => {
  test("reports which fields and which manager, and only overrides with forceConflicts", async () => {
    await apply(fakeRender([deployment("web", { replicas: 2 })], rel), { ...h.opts, createNamespace: true });
    // kubectl scales it: it now owns .spec.replicas with another value.
    await h.client.apply(
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "demo" }, spec: { replicas: 5 } },
      { fieldManager: "kubectl", force: true },
    );
    const e = await apply(fakeRender([deployment("web", { replicas: 3 })], rel), h.opts).catch((x) => x);
    expect(ConflictError.is(e)).toBe(true);
    expect(ApplyError.is(e, "conflict")).toBe(true);
    expect(e.conflicts).toEqual([{ field: ".spec.replicas", manager: "kubectl" }]);
    expect(e.message).toContain('.spec.replicas is owned by "kubectl"');
    expect(e.message).toContain("--force-conflicts");
    expect(h.server.get("apps/v1", "Deployment", "demo", "web")!.spec.replicas).toBe(5);

    const io = captureIO();
    expect(await runApply(fakeRender([deployment("web", { replicas: 3 })], rel), { client: h.client }, io.io)).toBe(1);
    expect(io.err.join("\n")).toContain('.spec.replicas is owned by "kubectl"');

    await apply(fakeRender([deployment("web", { replicas: 3 })], rel), { ...h.opts, forceConflicts: true });
    const live = h.server.get("apps/v1", "Deployment", "demo", "web")!;
    expect(live.spec.replicas).toBe(3);
    const owners = live.metadata.managedFields.filter((m: { fieldsV1: { "f:spec"?: { "f:replicas"?: unknown } } }) => m.fieldsV1["f:spec"]?.["f:replicas"]);
    expect(owners.map((m: { manager: string }) => m.manager)).toEqual(["opm"]);
  });

  test("same value owned by another manager is shared, not a conflict", async () => {
    await apply(fakeRender([deployment("web", { replicas: 2 })], rel), { ...h.opts, createNamespace: true });
    await h.client.apply(
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "demo" }, spec: { replicas: 2 } },
      { fieldManager: "kubectl" },
    );
    const rep = await apply(fakeRender([deployment("web", { replicas: 2 })], rel), h.opts);
    expect(rep.objects[0]!.action).toBe("unchanged");
  });
});

describe("diff", () => {
  test("nothing changes right after apply, exit code 0; server defaults and others' fields are not changes", async () => {
    const r = fakeRender([deployment("web"), configMap("c")], rel);
    await apply(r, { ...h.opts, createNamespace: true });
    await h.client.apply(
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "demo", annotations: { mine: "yes" } } },
      { fieldManager: "other" },
    );
    const d = await diff(r, h.opts);
    expect(d.changed).toBe(false);
    expect(d.text).toBe("");
    expect(d.objects.map((o) => o.action)).toEqual(["unchanged", "unchanged"]);
    const io = captureIO();
    expect(await runDiff(r, { client: h.client }, io.io)).toBe(0);
    expect(io.out).toEqual([]);
  });

  test("shows a unified diff of changes, lists prunes and new objects, exit code 1", async () => {
    await apply(fakeRender([deployment("web", { replicas: 2 }), configMap("old")], rel), { ...h.opts, createNamespace: true });
    const r2 = fakeRender([deployment("web", { replicas: 3 }), configMap("new")], rel);
    const d = await diff(r2, h.opts);
    expect(d.changed).toBe(true);
    expect(d.objects.map((o) => [o.id, o.action])).toEqual([
      ["ConfigMap demo/new", "create"],
      ["Deployment demo/web", "update"],
      ["ConfigMap demo/old", "prune"],
    ]);
    const web = d.objects.find((o) => o.id === "Deployment demo/web")!.diff;
    expect(web).toContain("--- live/Deployment demo/web");
    expect(web).toMatch(/^- {2}replicas: 2$/m);
    expect(web).toMatch(/^\+ {2}replicas: 3$/m);
    expect(web).not.toMatch(/^[-+].*(resourceVersion|managedFields|generation)/m);
    expect(h.server.get("apps/v1", "Deployment", "demo", "web")!.spec.replicas).toBe(2);
    const io = captureIO({ isTTY: true });
    expect(await runDiff(r2, { client: h.client }, io.io)).toBe(1);
    expect(io.out.join("\n")).toContain("\x1b[32m+  replicas: 3");
    const plain = captureIO();
    await runDiff(r2, { client: h.client }, plain.io);
    expect(plain.out.join("\n")).not.toContain("\x1b[");
  });

  test("diff errors exit with 2", async () => {
    await apply(fakeRender([configMap("c")], rel), { ...h.opts, createNamespace: true });
    h.server.fault({ method: "PATCH", status: 500 });
    const io = captureIO();
    const c = new (h.client.constructor as typeof import("../../src/apply/client.js").KubeClient)({
      kubeConfig: h.server.kubeConfig(),
      retries: 1,
      retryBaseMs: 1,
    });
    expect(await runDiff(fakeRender([configMap("c", { a: "9" })], rel), { client: c }, io.io)).toBe(2);
    expect(io.err.join("\n")).toMatch(/error: .*500/);
  });
});

describe("secret redaction", () => {
  const planted = "PLANTED-zq9-unique-value";
  const planted2 = "PLANTED-second-value-k2";
  const b64 = (s: string) => Buffer.from(s).toString("base64");

  test("a planted secret value never appears in apply, diff, status, delete output or errors", async () => {
    const outputs: string[] = [];
    const r1 = fakeRender([secret("creds", { password: planted, user: "admin-user" })], rel);
    const io1 = captureIO();
    expect(await runApply(r1, { client: h.client, createNamespace: true }, io1.io)).toBe(0);
    outputs.push(io1.all());
    const r2 = fakeRender([secret("creds", { password: planted2, user: "admin-user" })], rel);
    const d = await diff(r2, h.opts);
    outputs.push(JSON.stringify(d));
    expect(d.changed).toBe(true);
    expect(d.text).toContain("password: <redacted> (before)");
    expect(d.text).toContain("password: <redacted> (after)");
    for (const json of [undefined, "json"]) {
      const io = captureIO({ isTTY: true });
      expect(await runDiff(r2, { client: h.client, output: json }, io.io)).toBe(1);
      outputs.push(io.all());
    }
    // A server error that echoes the object back must be scrubbed too.
    h.server.fault({
      method: "PATCH",
      path: "/secrets/",
      status: 422,
      message: `Secret "creds" is invalid: data[password]: ${b64(planted2)} (${planted2}) is bad`,
    });
    const io2 = captureIO();
    expect(await runApply(r2, { client: h.client }, io2.io)).toBe(1);
    outputs.push(io2.all());
    expect(io2.err.join("\n")).toContain("<redacted>");
    const e = await apply(r2, h.opts).catch((x) => x);
    outputs.push(String(e.message), JSON.stringify(e.details));
    const ioJ = captureIO();
    expect(await runDiff(r2, { client: h.client, output: "json" }, ioJ.io)).toBe(2);
    outputs.push(ioJ.all());
    h.server.clearFaults();
    outputs.push(JSON.stringify(await status({ name: "hello", namespace: "demo" }, h.opts)));
    outputs.push(JSON.stringify(await deleteRelease({ name: "hello", namespace: "demo" }, h.opts)));
    const all = outputs.join("\n");
    expect(all.length).toBeGreaterThan(100);
    for (const v of [planted, planted2, b64(planted), b64(planted2)]) expect(all).not.toContain(v);
  });
});
