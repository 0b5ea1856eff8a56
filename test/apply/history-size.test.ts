/**
 * The inventory Secret stays under Kubernetes' 1 MiB Secret data limit (which the test API server
 * enforces, as a real one does) with the objects of 10 revisions of a 300-object release; when
 * revisions cannot all fit, the oldest lose their objects and say so.
 */
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, test } from "vitest";
import { apply, ApplyError, history, rollback } from "../../src/apply/index.js";
import type { K8sObject } from "../../src/render/types.js";
import { startHarness, type Harness } from "../support/harness.js";
import { configMap, deployment, fakeRender, service } from "../support/render-result.js";

let h: Harness;
afterEach(async () => h?.stop());
const rel = { name: "big", namespace: "demo" };
const LIMIT = 1024 * 1024;

function inventorySize(): { data: number; inventoryKey: number; revisionsKey: number; secretJson: number } {
  const s = h.server.list("Secret").find((x) => x.metadata.labels?.["opmodel.dev/inventory"] === "true")!;
  const bytes = (k: string) => Buffer.from(s.data[k] ?? "", "base64").length;
  return {
    data: bytes("inventory") + bytes("revisions"),
    inventoryKey: bytes("inventory"),
    revisionsKey: bytes("revisions"),
    secretJson: Buffer.byteLength(JSON.stringify(s)),
  };
}

/** 100 Deployments, 100 Services, 100 ConfigMaps; every apply changes every image and every ConfigMap. */
function release300(round: number): K8sObject[] {
  const out: K8sObject[] = [];
  for (let i = 0; i < 100; i++) {
    const d = deployment(`app-${i}`, { replicas: 2, image: `registry.example.com/team/app-${i}:1.${round}.0` });
    const c = (d.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } }).template.spec.containers[0]!;
    c.env = [
      { name: "LOG_LEVEL", value: "info" },
      { name: "ROUND", value: String(round) },
      { name: "CONFIG", valueFrom: { configMapKeyRef: { name: `app-${i}`, key: "settings.yaml" } } },
    ];
    c.resources = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } };
    out.push(d, service(`app-${i}`), configMap(`app-${i}`, { "settings.yaml": `round: ${round}\nfeature:\n  enabled: true\n  name: app-${i}\n` }));
  }
  return out;
}

describe("inventory size", () => {
  test("a 300-object release applied 10 times with changes keeps every revision, under 1 MiB", async () => {
    h = await startHarness();
    for (let round = 1; round <= 10; round++) {
      const rep = await apply(fakeRender(release300(round), { ...rel, values: { round } }), { ...h.opts, createNamespace: true, concurrency: 16 });
      expect(rep.revision).toBe(round);
    }
    const size = inventorySize();
    console.info(
      `inventory of a 300-object release with 10 revisions: ${size.data} bytes of Secret data (inventory ${size.inventoryKey}, revisions ${size.revisionsKey}), ${size.secretJson} bytes as stored JSON`,
    );
    expect(size.data).toBeLessThan(LIMIT);
    expect(size.secretJson).toBeLessThan(LIMIT);
    const hist = await history(rel, h.opts);
    expect(hist.revisions.map((r) => [r.revision, r.objects, r.rollbackable])).toEqual(Array.from({ length: 10 }, (_, i) => [i + 1, 300, true]));
    // The oldest kept revision really is restorable.
    await rollback(rel, { ...h.opts, to: 1, concurrency: 16 });
    expect(h.server.get("apps/v1", "Deployment", "demo", "app-7")!.spec.template.spec.containers[0].image).toBe("registry.example.com/team/app-7:1.1.0");
  }, 180_000);

  test("revisions that cannot all fit: the oldest lose their objects, say why, and are refused by rollback", async () => {
    h = await startHarness();
    // 60 ConfigMaps of 8 KiB of random hex each (hardly compressible), all changed by every apply.
    const objects = () => Array.from({ length: 60 }, (_, i) => configMap(`blob-${i}`, { data: randomBytes(4096).toString("hex") }));
    for (let round = 1; round <= 10; round++) await apply(fakeRender(objects(), rel), { ...h.opts, createNamespace: true, concurrency: 16 });
    const size = inventorySize();
    console.info(`inventory with incompressible revisions: ${size.data} bytes of Secret data`);
    expect(size.data).toBeLessThan(LIMIT);
    const hist = await history(rel, h.opts);
    const kept = hist.revisions.filter((r) => r.rollbackable).map((r) => r.revision);
    const dropped = hist.revisions.filter((r) => !r.rollbackable);
    expect(dropped.length).toBeGreaterThan(0);
    expect(kept.length).toBeGreaterThan(0);
    // The newest revisions are the ones kept, without gaps.
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 10 - kept.length + 1 + i));
    for (const r of dropped) expect(r.reason).toBe("its objects are not stored: dropped to keep the inventory under Kubernetes' 1 MiB Secret limit");
    const before = h.server.requests.filter((r) => r.method !== "GET").length;
    const e = await rollback(rel, { ...h.opts, to: dropped[0]!.revision }).catch((x) => x);
    expect(ApplyError.is(e, "history_damaged")).toBe(true);
    expect(e.message).toContain(
      `to revision ${dropped[0]!.revision}: its objects are not stored: dropped to keep the inventory under Kubernetes' 1 MiB Secret limit`,
    );
    expect(h.server.requests.filter((r) => r.method !== "GET").length).toBe(before);
  }, 180_000);
});
