/**
 * History and rollback against a real cluster (OPM_E2E_KUBECONFIG): the built CLI applies v1 and
 * v2 of a module (v2 adds a component), rolls back to v1 with --wait, and the live Deployment runs
 * v1's image again while v2's objects are gone. Then, through the library, a Secret's value is
 * re-read from the cluster at rollback (it is never stored in the history).
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apply, ApplyError, history, rollback, type KObject } from "../../src/apply/index.js";
import { configMap, fakeRender, secret } from "../support/render-result.js";
import { scratchProject } from "../support/opm-cli.js";
import { connect, enabled, nsName, opm, type Env } from "./support.js";

const moduleFile = (version: string, image: string, withWorker: boolean) => `import { defineModule } from "opm-ts";
import { StatelessWorkload } from "opm-ts/catalog";

export default defineModule({
  metadata: { modulePath: "example.com/modules", name: "rollme", version: "${version}" },
  config: {},
  components: () => ({
    web: StatelessWorkload({ container: { image: "${image}" }, scaling: { count: 1 } }),${
      withWorker ? `\n    worker: StatelessWorkload({ container: { image: "${image}" }, scaling: { count: 1 } }),` : ""
    }
  }),
});
`;

describe.skipIf(!enabled)("history and rollback on a cluster", () => {
  let env: Env;
  const ns = nsName("rollback");
  const ns2 = nsName("rollback-secret");
  beforeAll(async () => {
    env = await connect();
  });
  afterAll(async () => {
    for (const n of [ns, ns2]) await env?.client.delete({ apiVersion: "v1", kind: "Namespace", name: n }).catch(() => {});
    await env?.stop();
  });
  const get = (kind: string, name: string) => env.client.get({ apiVersion: kind === "Deployment" ? "apps/v1" : "v1", kind, name, namespace: ns });
  const imageOf = (o: KObject | undefined) =>
    (o?.spec as { template: { spec: { containers: Array<{ image: string }> } } } | undefined)?.template.spec.containers[0]?.image;

  test("apply v1, apply v2, roll back to v1: v1's image again, v2-only objects gone", async () => {
    const dir = scratchProject({
      "v1.ts": moduleFile("0.1.0", "registry.k8s.io/pause:3.9", false),
      "v2.ts": moduleFile("0.2.0", "registry.k8s.io/pause:3.10", true),
    });
    const k = { kubeconfig: env.kubeconfig };
    const a1 = await opm(["apply", path.join(dir, "v1.ts"), "-n", ns, "--create-namespace", "--wait"], k);
    expect(a1.stderr).toBe("");
    expect(a1.code).toBe(0);
    const a2 = await opm(["apply", path.join(dir, "v2.ts"), "-n", ns, "--wait"], k);
    expect(a2.code).toBe(0);
    expect(imageOf(await get("Deployment", "rollme-web"))).toBe("registry.k8s.io/pause:3.10");
    expect(await get("Deployment", "rollme-worker")).toBeDefined();

    const rb = await opm(["rollback", "rollme", "-n", ns, "--to", "1", "--wait"], k);
    expect(rb.stderr).toBe("");
    expect(rb.code).toBe(0);
    expect(rb.stdout).toContain("rolled back to revision 1, recorded as revision 3");
    const web = (await get("Deployment", "rollme-web"))!;
    expect(imageOf(web)).toBe("registry.k8s.io/pause:3.9");
    expect(web.metadata.labels?.["module.opmodel.dev/version"]).toBe("0.1.0");
    expect(await get("Deployment", "rollme-worker")).toBeUndefined();

    const h = await opm(["history", "rollme", "-n", ns, "-o", "json"], k);
    expect(h.code).toBe(0);
    const report = JSON.parse(h.stdout);
    expect(
      report.revisions.map((r: { revision: number; moduleVersion: string; outcome: string; rollbackOf?: number }) => [
        r.revision,
        r.moduleVersion,
        r.outcome,
        r.rollbackOf ?? null,
      ]),
    ).toEqual([
      [1, "0.1.0", "ready", null],
      [2, "0.2.0", "ready", null],
      [3, "0.1.0", "ready", 1],
    ]);
  });

  test("a Secret's value is re-read from the cluster; a changed one must be supplied again", async () => {
    const rel = { name: "sec", namespace: ns2 };
    const opts = { client: env.client, pollIntervalMs: 500 };
    await apply(fakeRender([secret("creds", { token: "e2e-rollback-token-1" }), configMap("c", { v: "1" })], rel), { ...opts, createNamespace: true });
    await apply(fakeRender([secret("creds", { token: "e2e-rollback-token-1" }), configMap("c", { v: "2" })], rel), opts);
    const rb = await rollback(rel, opts);
    expect(rb.to).toBe(1);
    const live = await env.client.get({ apiVersion: "v1", kind: "Secret", name: "creds", namespace: ns2 });
    expect(Buffer.from((live!.data as Record<string, string>).token!, "base64").toString()).toBe("e2e-rollback-token-1");
    expect((await env.client.get({ apiVersion: "v1", kind: "ConfigMap", name: "c", namespace: ns2 }))!.data).toEqual({ v: "1" });

    await apply(fakeRender([secret("creds", { token: "e2e-rollback-token-2" }), configMap("c", { v: "3" })], rel), opts);
    const e = await rollback(rel, { ...opts, to: 3 }).catch((x) => x);
    expect(ApplyError.is(e, "secret_value_missing")).toBe(true);
    expect(e.message).toContain(`Secret ${ns2}/creds key "token": the live value changed since revision 3`);
    expect(e.message).not.toContain("e2e-rollback-token");
    expect((await history(rel, opts)).current).toBe(4);
  });
});
