/**
 * The apply lifecycle against a real cluster. Runs only when OPM_E2E_KUBECONFIG points at a kubeconfig;
 * uses a fresh namespace per run and deletes it afterwards. Set OPM_E2E_CONTEXT to pick a context.
 * Set OPM_E2E_FAKE=1 to run the same suite against the in-repo test API server instead.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { randomBytes } from "node:crypto";
import { apply, ApplyError, ConflictError, deleteRelease, diff, KubeClient, readInventory, status } from "../../src/apply/index.js";
import { runDiff, runStatus } from "../../src/cli/lifecycle-run.js";
import { captureIO } from "../support/harness.js";
import { TestKubeApiServer } from "../support/kube-api-server.js";
import { configMap, deployment, fakeRender, secret, service } from "../support/render-result.js";

const fake = process.env.OPM_E2E_FAKE === "1";
const enabled = !!process.env.OPM_E2E_KUBECONFIG || fake;
const ns = `opm-e2e-${randomBytes(3).toString("hex")}`;
const rel = { name: "e2e", namespace: ns };

describe.skipIf(!enabled)("e2e against a real cluster", () => {
  let client: KubeClient;
  let server: TestKubeApiServer | undefined;
  const opts = () => ({ client, pollIntervalMs: 1000 });

  beforeAll(async () => {
    if (fake) server = await TestKubeApiServer.start({ autoReady: true });
    client = new KubeClient(fake ? { kubeConfig: server!.kubeConfig() } : { kubeconfig: process.env.OPM_E2E_KUBECONFIG, context: process.env.OPM_E2E_CONTEXT });
  });
  afterAll(async () => {
    if (client) await client.delete({ apiVersion: "v1", kind: "Namespace", name: ns }).catch(() => {});
    await server?.stop();
  });

  const v1 = () =>
    fakeRender(
      [
        configMap("settings", { mode: "a" }),
        secret("creds", { token: "e2e-token-value" }),
        service("web"),
        deployment("web", { replicas: 1, image: "registry.k8s.io/pause:3.10" }),
      ],
      rel,
    );
  const v2 = () =>
    fakeRender([configMap("settings", { mode: "b" }), service("web"), deployment("web", { replicas: 1, image: "registry.k8s.io/pause:3.10" })], rel);

  test("apply with createNamespace creates labelled objects and an inventory", async () => {
    const rep = await apply(v1(), { ...opts(), createNamespace: true });
    expect(rep.objects.every((o) => o.action === "created")).toBe(true);
    const cm = await client.get({ apiVersion: "v1", kind: "ConfigMap", name: "settings", namespace: ns });
    expect(cm?.metadata.labels?.["module-release.opmodel.dev/uuid"]).toBe(v1().release.uuid);
    const inv = await readInventory(client, "e2e", ns);
    expect(inv?.inventory.entries).toHaveLength(4);
  });

  test("re-apply with no change reports unchanged; diff exits 0", async () => {
    const rep = await apply(v1(), opts());
    expect(rep.objects.map((o) => o.action)).toEqual(["unchanged", "unchanged", "unchanged", "unchanged"]);
    const io = captureIO();
    expect(await runDiff(v1(), { client }, io.io)).toBe(0);
  });

  test("diff of a change shows it with secrets redacted; apply prunes what is gone", async () => {
    const d = await diff(v2(), opts());
    expect(d.changed).toBe(true);
    expect(d.objects.find((o) => o.id.startsWith("Secret"))!.action).toBe("prune");
    expect(d.text).not.toContain("e2e-token-value");
    expect(d.text).not.toContain(Buffer.from("e2e-token-value").toString("base64"));
    const rep = await apply(v2(), opts());
    expect(rep.pruned.map((p) => p.id)).toEqual([`Secret ${ns}/creds`]);
    expect(await client.get({ apiVersion: "v1", kind: "Secret", name: "creds", namespace: ns })).toBeUndefined();
  });

  test("a conflict with another manager is reported and forced only on request", async () => {
    await client.apply(
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: ns }, data: { mode: "manual" } },
      { fieldManager: "e2e-human", force: true },
    );
    const e = await apply(
      fakeRender([configMap("settings", { mode: "c" }), service("web"), deployment("web", { replicas: 1, image: "registry.k8s.io/pause:3.10" })], rel),
      opts(),
    ).catch((x) => x);
    expect(ConflictError.is(e)).toBe(true);
    expect(e.conflicts).toContainEqual({ field: ".data.mode", manager: "e2e-human" });
    await apply(v2(), { ...opts(), forceConflicts: true });
    const cm = await client.get({ apiVersion: "v1", kind: "ConfigMap", name: "settings", namespace: ns });
    expect(cm?.data).toEqual({ mode: "b" });
  });

  test("status exits 0 or 1, never an error", async () => {
    const s = await status({ name: "e2e", namespace: ns }, opts());
    expect(s.objects).toHaveLength(3);
    const io = captureIO();
    expect([0, 1]).toContain(await runStatus({ name: "e2e", namespace: ns }, { client }, io.io));
  });

  test("the server rejects an invalid object", async () => {
    const bad = deployment("Bad_Name");
    const e = await apply(fakeRender([...v2().objects, bad], rel), opts()).catch((x) => x);
    expect(ApplyError.is(e, "invalid")).toBe(true);
    expect(e.message).toMatch(/Bad_Name/);
  });

  test("delete leaves no object of the release behind and is idempotent", async () => {
    const rep = await deleteRelease({ name: "e2e", namespace: ns }, { ...opts(), timeoutMs: 120_000 });
    expect(rep.found).toBe(true);
    for (const kind of [
      ["v1", "ConfigMap"],
      ["v1", "Service"],
      ["apps/v1", "Deployment"],
      ["v1", "Secret"],
    ] as const) {
      const left = await client.list(kind[0], kind[1], ns, `module-release.opmodel.dev/name=e2e`);
      expect(left.filter((o) => !(o.metadata as { deletionTimestamp?: string }).deletionTimestamp)).toEqual([]);
    }
    expect((await deleteRelease({ name: "e2e", namespace: ns }, opts())).found).toBe(false);
  });
});
