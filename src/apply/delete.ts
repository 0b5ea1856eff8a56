/**
 * `deleteRelease`: a release's objects in reverse weight order, then its inventory.
 */
import { LABELS, type RenderResult } from "../render/types.js";
import { KubeClient, type ObjectRef } from "./client.js";
import { deleteInventory, readInventory, refOf, sortEntries } from "./inventory.js";
import { checkModule, isRender, type CommonOptions, type ObjectResult, type ReleaseTarget } from "./lifecycle.js";
import { acquireLock } from "./lock.js";
import { groupByWeight, objectId } from "./objects.js";
import { waitGone } from "./wait.js";

export interface DeleteOptions extends CommonOptions {
  /** Wait-for-gone timeout in milliseconds (default 5 minutes). */
  timeoutMs?: number;
  /** Do not wait for objects to disappear. */
  noWait?: boolean;
  lockDurationSeconds?: number;
}

export interface DeleteReport {
  release: ReleaseTarget;
  /** False when there was no inventory (nothing to delete: deleting twice is fine). */
  found: boolean;
  deleted: ObjectResult[];
  /** Objects left in place (Namespaces; objects no longer labelled for this release). */
  kept: Array<{ id: string; reason: string }>;
}

/**
 * Delete a release: its inventory's objects in reverse weight order, wait until they are gone, then
 * the inventory. Idempotent. Namespaces are kept.
 */
export async function deleteRelease(target: ReleaseTarget | RenderResult, options: DeleteOptions = {}): Promise<DeleteReport> {
  const client = options.client ?? new KubeClient(options);
  const name = isRender(target) ? target.release.name : target.name;
  const namespace = isRender(target) ? target.release.namespace : target.namespace;
  const emit = options.onEvent ?? (() => {});
  const report: DeleteReport = { release: { name, namespace }, found: false, deleted: [], kept: [] };
  const stored = await readInventory(client, name, namespace);
  if (!stored) return report;
  if (isRender(target)) checkModule(stored, target.release);
  report.found = true;
  const uuid = stored.inventory.release.uuid;
  const lock = await acquireLock(client, name, namespace, { durationSeconds: options.lockDurationSeconds });
  try {
    const entries = sortEntries([...stored.inventory.entries, ...stored.inventory.pendingPrune]);
    const groups = groupByWeight(entries).reverse();
    for (const group of groups) {
      const gone: ObjectRef[] = [];
      for (const e of group) {
        const ref = refOf(e);
        const id = objectId(ref);
        if (e.kind === "Namespace") {
          report.kept.push({ id, reason: "Namespaces are never deleted by opm" });
          continue;
        }
        const live = await client.get(ref);
        if (!live) continue;
        if (live.metadata.labels?.[LABELS.releaseUuid] !== uuid) {
          report.kept.push({ id, reason: "no longer carries this release's label" });
          emit({ type: "skipped", id, reason: "no longer carries this release's label" });
          continue;
        }
        if (await client.delete(ref)) {
          report.deleted.push({ id, ref, action: "deleted" });
          emit({ type: "deleted", id });
          gone.push(ref);
        }
      }
      if (!options.noWait && gone.length) await waitGone(client, gone, options.timeoutMs ?? 5 * 60_000, options.pollIntervalMs ?? 1000, emit);
    }
    await deleteInventory(client, stored.secret);
    if (!options.noWait) {
      const inv: ObjectRef = { apiVersion: "v1", kind: "Secret", name: stored.secret.metadata.name, namespace };
      await waitGone(client, [inv], options.timeoutMs ?? 5 * 60_000, options.pollIntervalMs ?? 1000, () => {});
    }
    return report;
  } finally {
    await lock.release();
  }
}
