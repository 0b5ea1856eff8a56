/**
 * `status`: the health of a release's objects, from its inventory or from a render.
 */
import type { RenderResult } from "../render/types.js";
import { ApplyError } from "./errors.js";
import { KubeClient, type KObject } from "./client.js";
import { health, type Health, type HealthStatus } from "./health.js";
import { entryOf, readInventory, refOf, sortEntries, type HistoryRecord, type InventoryEntry } from "./inventory.js";
import { checkModule, isRender, type CommonOptions, type ReleaseTarget } from "./lifecycle.js";
import { objectId, withNamespaces } from "./objects.js";
import { podProblems } from "./wait.js";

export interface ObjectStatus extends InventoryEntry {
  id: string;
  health: HealthStatus;
  message: string;
}

export interface StatusReport {
  release: { name: string; namespace: string; uuid?: string };
  module?: { fqn: string; version: string };
  digest?: string;
  history: HistoryRecord[];
  objects: ObjectStatus[];
  healthy: boolean;
}

/**
 * Health of a release's objects, from its inventory (given only name and namespace) or from a render
 * (the objects it contains, which need not be applied yet).
 */
export async function status(target: ReleaseTarget | RenderResult, options: CommonOptions = {}): Promise<StatusReport> {
  const client = options.client ?? new KubeClient(options);
  const name = isRender(target) ? target.release.name : target.name;
  const namespace = isRender(target) ? target.release.namespace : target.namespace;
  const stored = await readInventory(client, name, namespace);
  let entries: InventoryEntry[];
  if (isRender(target)) {
    checkModule(stored, target.release);
    entries = sortEntries((await withNamespaces(client, target.objects, target.release)).map(entryOf));
  } else {
    if (!stored)
      throw new ApplyError("release_not_found", `release "${name}" not found in namespace "${namespace}" (no inventory Secret)`, { name, namespace });
    entries = stored.inventory.entries;
  }
  const objects = await Promise.all(
    entries.map(async (e): Promise<ObjectStatus> => {
      const live = await client.get(refOf(e));
      const h = live?.kind === "CronJob" ? await cronJobHealth(client, live) : health(live);
      if (live && h.status !== "Current") {
        const pods = await podProblems(client, refOf(e), live);
        if (pods.length) h.message += ` (${pods.join("; ")})`;
      }
      return { id: objectId(refOf(e)), ...e, health: h.status, message: h.message };
    }),
  );
  return {
    release: { name, namespace, uuid: stored?.inventory.release.uuid ?? (isRender(target) ? target.release.uuid : undefined) },
    module: stored ? { fqn: stored.inventory.module.fqn, version: stored.inventory.module.version } : undefined,
    digest: stored?.inventory.digest,
    history: stored?.inventory.history ?? [],
    objects,
    healthy: objects.every((o) => o.health === "Current"),
  };
}

/** A CronJob is as healthy as the last Job it started: a failed last run is reported as Failed. */
async function cronJobHealth(client: KubeClient, cj: KObject): Promise<Health> {
  const own = health(cj);
  if (own.status !== "Current" || !cj.metadata.namespace) return own;
  const jobs = (await client.list("batch/v1", "Job", cj.metadata.namespace).catch(() => [] as KObject[])).filter((j) =>
    ((j.metadata.ownerReferences ?? []) as Array<{ uid?: string }>).some((r) => r.uid === cj.metadata.uid),
  );
  const last = jobs.sort((a, b) => String(a.metadata.creationTimestamp ?? "").localeCompare(String(b.metadata.creationTimestamp ?? ""))).at(-1);
  if (!last) return { status: "Current", message: "scheduled; no job has run yet" };
  const h = health(last);
  if (h.status === "Failed") return { status: "Failed", message: `last job ${last.metadata.name} failed: ${h.message.replace(/^job failed: /, "")}` };
  return { status: "Current", message: `last job ${last.metadata.name}: ${h.status === "Current" ? "complete" : "running"}` };
}
