/**
 * Every example is accepted by a real Kubernetes API server: a server-side dry-run apply of every
 * rendered object (the server runs defaulting, validation and admission; nothing is persisted).
 * Runs only when OPM_E2E_KUBECONFIG points at a kubeconfig (OPM_E2E_CONTEXT picks a context);
 * OPM_E2E_FAKE=1 runs it against the in-repo test API server instead (checks the wiring only).
 *
 * Each example is released into a fresh namespace that this test creates for real first: a dry
 * run into a namespace that does not exist yet cannot send the namespaced objects (the server
 * would reject them), so `apply` only simulates them. The namespaces are deleted afterwards.
 *
 * Kinds the server does not serve (CRD kinds such as Gateway API HTTPRoute when the Gateway API
 * CRDs are not installed) are left out of the dry run with a note on stderr.
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apply, KubeClient } from "../../src/apply/index.js";
import { objectId } from "../../src/apply/apply.js";
import { importModuleFile } from "../../src/cli/load.js";
import { render } from "../../src/render/render.js";
import { ModuleRelease } from "../../dsl/module.js";
import { TestKubeApiServer } from "../support/kube-api-server.js";

const fake = process.env.OPM_E2E_FAKE === "1";
const kubeconfig = process.env.OPM_E2E_KUBECONFIG;
const enabled = !!kubeconfig || fake;
const run = randomBytes(3).toString("hex");
const examples = readdirSync("examples").filter((d) => existsSync(path.join("examples", d, "module.ts")));

describe.skipIf(!enabled)("examples against a real API server (server-side dry run)", () => {
  let client: KubeClient;
  let server: TestKubeApiServer | undefined;
  const namespaces: string[] = [];

  beforeAll(async () => {
    if (fake) server = await TestKubeApiServer.start({ autoReady: true });
    client = new KubeClient(fake ? { kubeConfig: server!.kubeConfig() } : { kubeconfig, context: process.env.OPM_E2E_CONTEXT });
  });
  afterAll(async () => {
    for (const ns of namespaces) await client?.delete({ apiVersion: "v1", kind: "Namespace", name: ns }).catch(() => {});
    await server?.stop();
  });

  test.each(examples)("%s: every rendered object is accepted", async (name) => {
    const ns = `opm-ex-${name}-${run}`.slice(0, 63);
    const m = await importModuleFile(path.join("examples", name, "module.ts"));
    const rel = ModuleRelease.is(m) ? m.withIdentity({ namespace: ns }) : m.release({ namespace: ns });
    const result = await render(rel);

    const served: typeof result.objects = [];
    const skipped: string[] = [];
    for (const o of result.objects) {
      if (await client.knows(o.apiVersion, o.kind)) served.push(o);
      else skipped.push(`${o.apiVersion} ${o.kind}/${o.metadata.name}`);
    }
    if (skipped.length) console.warn(`[${name}] the server does not serve these kinds (CRDs not installed?); left out of the dry run:\n  ${skipped.join("\n  ")}`);
    expect(served.length).toBeGreaterThan(0);

    // A real namespace, so the namespaced objects reach the server in the dry run.
    await client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }, { fieldManager: "opm-e2e" });
    namespaces.push(ns);

    const report = await apply({ ...result, objects: served }, { dryRun: "server", createNamespace: true, client });
    expect(report.dryRun).toBe(true);
    expect(report.objects.map((o) => o.id).sort()).toEqual(served.map((o) => objectId(o)).sort());
    expect(report.objects.every((o) => o.action === "created")).toBe(true);
  });
});
