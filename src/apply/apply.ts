/**
 * `apply`: take a render to the cluster. Server-side apply in kind-weight order, then the
 * inventory, then prune, then (optionally) wait. On any failure nothing is pruned and the
 * previous inventory stays. The other lifecycle operations are in diff.ts, status.ts and
 * delete.ts; what they share is in lifecycle.ts, objects.ts and wait.ts.
 */
import { LABELS, MANAGER, type ReleaseInfo, type RenderResult } from "../render/types.js";
import { ApplyError, combineErrors } from "./errors.js";
import { KubeClient, type KObject } from "./client.js";
import {
  entryKey,
  entryOf,
  inventoryName,
  nextRevision,
  pushHistory,
  readInventory,
  refOf,
  sortEntries,
  storedRevisions,
  writeInventory,
  type HistoryRecord,
  type Inventory,
  type InventoryEntry,
  type Outcome,
  type StoredInventory,
} from "./inventory.js";
import { checkModule, type CommonOptions, type LifecycleEvent, type ObjectResult } from "./lifecycle.js";
import { acquireLock } from "./lock.js";
import { buildPayload } from "./revisions.js";
import { configDigest, explain, groupByWeight, mapLimit, objectId, ownedDigest, refFromObject, same, unreachable, withNamespaces } from "./objects.js";
import { waitEstablished, waitReady } from "./wait.js";

export interface ApplyOptions extends CommonOptions {
  /** Create the release namespace when it does not exist. */
  createNamespace?: boolean;
  /** `"server"`: send everything with dryRun=All; nothing is persisted, no inventory, no prune. */
  dryRun?: "server";
  /** Take ownership of fields another field manager owns. */
  forceConflicts?: boolean;
  /** Keep objects the release no longer renders (they are left in the cluster and forgotten). */
  noPrune?: boolean;
  /** Wait until every object is ready. */
  wait?: boolean;
  /** Wait timeout in milliseconds (default 5 minutes). Also bounds the wait for CRDs to be established. */
  timeoutMs?: number;
  /** Objects of the same weight applied at once (default 8). */
  concurrency?: number;
  /** Seconds after which a lock left by a killed apply expires (default 30). */
  lockDurationSeconds?: number;
}

export interface ApplyReport {
  release: ReleaseInfo;
  dryRun: boolean;
  objects: ObjectResult[];
  pruned: ObjectResult[];
  /** Namespace/name of the inventory Secret (undefined on dry-run). */
  inventory?: string;
  /** Whether anything was created, configured or pruned (or would be, on dry-run). */
  changed: boolean;
  /** With `wait`: true when everything became ready. */
  ready?: boolean;
  /** The revision this apply recorded in the release's history (undefined on dry-run). */
  revision?: number;
}

/** What a caller other than `apply` (rollback) records with the apply. */
export interface ApplyRecordExtra {
  /** The revision whose objects are applied again. */
  rollbackOf?: number;
}

/** One apply in progress: what every step reads. */
interface Run {
  client: KubeClient;
  result: RenderResult;
  release: ReleaseInfo;
  options: ApplyOptions;
  dryRun: boolean;
  emit: (e: LifecycleEvent) => void;
  timeoutMs: number;
  pollMs: number;
  /** The rendered objects, namespaced objects in the release namespace. */
  objects: KObject[];
  /** The release namespace does not exist yet (dry run only: a real apply creates it). */
  nsPending: boolean;
  /** The inventory before this apply. */
  prev: StoredInventory | undefined;
  extra: ApplyRecordExtra;
}

/** What sending the objects produced: each object's result, and the digests recorded for the next apply. */
interface Sent {
  results: Map<KObject, ObjectResult>;
  applied: Record<string, string>;
}

/**
 * Apply a render to the cluster: server-side apply in kind-weight order, then the inventory, then
 * prune, then (optionally) wait. On any failure nothing is pruned and the previous inventory stays.
 */
export async function apply(result: RenderResult, options: ApplyOptions = {}): Promise<ApplyReport> {
  return applyRender(result, options, {});
}

/** {@link apply}, recording `extra` in the history record. */
export async function applyRender(result: RenderResult, options: ApplyOptions, extra: ApplyRecordExtra): Promise<ApplyReport> {
  const client = options.client ?? new KubeClient(options);
  const release = result.release;
  const dryRun = options.dryRun === "server";
  const objects = await withNamespaces(client, result.objects, release);
  const nsState = await ensureNamespace(client, release, objects, options, dryRun);
  const prev = nsState === "pending" ? undefined : await readInventory(client, release.name, release.namespace);
  checkModule(prev, release);
  const run: Run = {
    client,
    result,
    release,
    options,
    dryRun,
    emit: options.onEvent ?? (() => {}),
    timeoutMs: options.timeoutMs ?? 5 * 60_000,
    pollMs: options.pollIntervalMs ?? 1000,
    objects,
    nsPending: nsState === "pending",
    prev,
    extra,
  };

  const lock = dryRun ? undefined : await acquireLock(client, release.name, release.namespace, { durationSeconds: options.lockDurationSeconds });
  try {
    const sent = await sendObjects(run);
    const objectResults = objects.map((o) => sent.results.get(o)!);
    const newEntries = sortEntries(objects.map(entryOf));
    const toPrune = options.noPrune ? [] : staleEntries(prev, newEntries).filter((e) => e.kind !== "Namespace");
    const report: ApplyReport = { release, dryRun, objects: objectResults, pruned: [], changed: false };

    if (dryRun) {
      report.pruned = await wouldPrune(run, toPrune);
      report.changed = objectResults.some((r) => r.action !== "unchanged") || report.pruned.length > 0;
      return report;
    }

    // Every object applied: record the inventory before pruning (pending prunes are kept in it).
    const history = prev?.inventory.history ?? [];
    const record: HistoryRecord = {
      revision: nextRevision(history),
      time: new Date().toISOString(),
      moduleVersion: release.module.version,
      valuesDigest: result.valuesDigest,
      digest: result.digest,
      outcome: "applied",
      ...(result.violations.length ? { violations: result.violations } : {}),
      ...(extra.rollbackOf !== undefined ? { rollbackOf: extra.rollbackOf } : {}),
    };
    const inv: Inventory = {
      release: { name: release.name, namespace: release.namespace, uuid: release.uuid },
      module: { ...release.module },
      digest: result.digest,
      valuesDigest: result.valuesDigest,
      entries: newEntries,
      pendingPrune: toPrune,
      history: pushHistory(history, record),
      applied: sent.applied,
    };
    // The objects this revision applied, for a later rollback (the last record now says how many).
    const revisions = buildPayload(storedRevisions(prev?.secret), inv.history, objects, release.uuid, () => Buffer.byteLength(JSON.stringify(inv)));
    let secret = await writeInventory(client, release, inv, prev?.secret, revisions);
    report.revision = record.revision;
    report.inventory = `${release.namespace}/${inventoryName(release)}`;

    if (toPrune.length) {
      report.pruned = await prune(run, toPrune);
      inv.pendingPrune = [];
      secret = await writeInventory(client, release, inv, secret);
    }
    report.changed = objectResults.some((r) => r.action !== "unchanged") || report.pruned.length > 0;

    if (options.wait) report.ready = await waitAndRecord(run, inv, secret);
    return report;
  } finally {
    await lock?.release();
  }
}

/**
 * Step 1: send every object, one weight group after another (CRDs established before what
 * uses them). Stopped part-way, nothing is pruned and the inventory records what was applied.
 */
async function sendObjects(run: Run): Promise<Sent> {
  const { client, dryRun, objects } = run;
  const sent: Sent = { results: new Map(), applied: {} };
  // Dry run into a namespace that does not exist yet: the server refuses namespaced objects there,
  // so they are validated in a namespace that exists (nothing is persisted either way).
  const standIn = dryRun && run.nsPending ? await standInNamespace(client, run.release.namespace, run.emit) : undefined;
  try {
    for (const group of groupByWeight(objects)) {
      const settled = await mapLimit(group, run.options.concurrency ?? 8, (obj) => sendObject(run, obj, standIn, sent), unreachable);
      const errors = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected").map((s) => s.reason);
      if (errors.length) throw combineErrors(errors);
      const crds = group.filter((o) => o.kind === "CustomResourceDefinition");
      if (crds.length && !dryRun) await waitEstablished(client, crds, Math.min(run.timeoutMs, 120_000), run.pollMs);
    }
  } catch (e) {
    // Stopped part-way: nothing is pruned; the inventory records what was applied (with what it
    // owned before), so those objects are not orphaned if the next render drops them.
    if (!dryRun && sent.results.size)
      await recordPartial(
        client,
        run,
        objects.filter((o) => sent.results.has(o)),
        sent.applied,
      ).catch(() => {});
    throw e;
  }
  return sent;
}

/** One object: skipped when unchanged since the last apply (and still owned), else server-side applied. */
async function sendObject(run: Run, obj: KObject, standIn: string | undefined, sent: Sent): Promise<void> {
  const { client, dryRun, emit, release } = run;
  const { results, applied } = sent;
  const ref = refFromObject(obj);
  const id = objectId(obj);
  try {
    if (dryRun && run.nsPending && obj.metadata.namespace === release.namespace) {
      if (standIn) await client.apply({ ...obj, metadata: { ...obj.metadata, namespace: standIn } }, { fieldManager: MANAGER, force: true, dryRun });
      results.set(obj, { id, ref, action: "created" });
      emit({ type: "applied", id, action: "created", dryRun });
      return;
    }
    const key = entryKey(entryOf(obj));
    const live = await client.get(ref);
    const digest = dryRun ? "" : configDigest(obj);
    const before = run.prev?.inventory.applied?.[key];
    if (!dryRun && live && before && before === `${digest}.${ownedDigest(live)}`) {
      // Same configuration as last time, and nobody took a field from opm since: nothing to send.
      applied[key] = before;
      results.set(obj, { id, ref, action: "unchanged" });
      emit({ type: "applied", id, action: "unchanged", dryRun });
      return;
    }
    const { object: stored } = await client.apply(obj, { fieldManager: MANAGER, force: run.options.forceConflicts, dryRun });
    let action: "created" | "configured" | "unchanged";
    if (!live) action = "created";
    else if (dryRun) action = same(live, stored) ? "unchanged" : "configured";
    else action = live.metadata.resourceVersion === stored.metadata.resourceVersion ? "unchanged" : "configured";
    if (!dryRun) applied[key] = `${digest}.${ownedDigest(stored)}`;
    results.set(obj, { id, ref, action });
    emit({ type: "applied", id, action, dryRun });
  } catch (e) {
    throw explain(e, obj, run.objects);
  }
}

/** Step 2: the entries of the previous inventory (and its pending prunes) the render no longer has, each once. */
function staleEntries(prev: StoredInventory | undefined, newEntries: InventoryEntry[]): InventoryEntry[] {
  const newKeys = new Set(newEntries.map(entryKey));
  const previousEntries = prev ? [...prev.inventory.entries, ...prev.inventory.pendingPrune] : [];
  const seen = new Set<string>();
  return previousEntries.filter((e) => {
    const k = entryKey(e);
    if (newKeys.has(k) || seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Step 3 on a dry run: what prune would delete (objects still labelled for this release). */
async function wouldPrune(run: Run, toPrune: InventoryEntry[]): Promise<ObjectResult[]> {
  const pruned: ObjectResult[] = [];
  for (const e of sortEntries(toPrune).reverse()) {
    const live = await run.client.get(refOf(e));
    if (live && live.metadata.labels?.[LABELS.releaseUuid] === run.release.uuid) {
      pruned.push({ id: objectId(refOf(e)), ref: refOf(e), action: "pruned" });
      run.emit({ type: "pruned", id: objectId(refOf(e)), dryRun: run.dryRun });
    }
  }
  return pruned;
}

/** Step 3: delete the stale objects still labelled for this release, in reverse weight order; throws after trying them all. */
async function prune(run: Run, toPrune: InventoryEntry[]): Promise<ObjectResult[]> {
  const { client, emit } = run;
  const pruned: ObjectResult[] = [];
  const pruneErrors: unknown[] = [];
  for (const e of sortEntries(toPrune).reverse()) {
    const ref = refOf(e);
    const id = objectId(ref);
    try {
      const live = await client.get(ref);
      if (!live) continue;
      if (live.metadata.labels?.[LABELS.releaseUuid] !== run.release.uuid) {
        emit({ type: "skipped", id, reason: "no longer carries this release's label; left in place" });
        continue;
      }
      await client.delete(ref);
      pruned.push({ id, ref, action: "pruned" });
      emit({ type: "pruned", id, dryRun: run.dryRun });
    } catch (err) {
      pruneErrors.push(err);
    }
  }
  if (pruneErrors.length) throw combineErrors(pruneErrors);
  return pruned;
}

/** Step 4: wait until every object is ready, then record the outcome (ready or not) in the inventory's last history record. */
async function waitAndRecord(run: Run, inv: Inventory, secret: KObject): Promise<boolean> {
  let outcome: Outcome = "ready";
  try {
    await waitReady(run.client, run.objects, { timeoutMs: run.timeoutMs, pollMs: run.pollMs, emit: run.emit });
  } catch (e) {
    outcome = "not-ready";
    throw e;
  } finally {
    inv.history = [...inv.history.slice(0, -1), { ...inv.history.at(-1)!, outcome }];
    try {
      await writeInventory(run.client, run.release, inv, secret);
    } catch {
      /* the outcome is informative only */
    }
  }
  return true;
}

async function ensureNamespace(
  client: KubeClient,
  release: ReleaseInfo,
  objects: KObject[],
  opts: ApplyOptions,
  dryRun: boolean,
): Promise<"exists" | "created" | "pending"> {
  const ns = release.namespace;
  const live = await client.get({ apiVersion: "v1", kind: "Namespace", name: ns });
  if (live) return "exists";
  const rendered = objects.find((o) => o.kind === "Namespace" && o.metadata.name === ns);
  if (!opts.createNamespace && !rendered) {
    throw new ApplyError("namespace_not_found", `namespace "${ns}" does not exist; pass --create-namespace (createNamespace: true) or create it first`, {
      namespace: ns,
    });
  }
  if (dryRun) return "pending";
  const nsObj: KObject = rendered ?? { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: { [LABELS.managedBy]: MANAGER } } };
  await client.apply(nsObj, { fieldManager: MANAGER, force: opts.forceConflicts });
  opts.onEvent?.({ type: "info", message: `namespace ${ns} created` });
  return "created";
}

/** A namespace that exists, for a server-side dry run of objects whose own namespace does not yet. */
async function standInNamespace(client: KubeClient, missing: string, emit: (e: LifecycleEvent) => void): Promise<string | undefined> {
  const ns = client.contextNamespace;
  if (ns !== missing && (await client.get({ apiVersion: "v1", kind: "Namespace", name: ns }).catch(() => undefined))) {
    emit({ type: "info", message: `namespace ${missing} does not exist yet: its objects are validated by a server-side dry run in namespace ${ns}` });
    return ns;
  }
  emit({ type: "info", message: `namespace ${missing} does not exist yet and no other namespace is readable: its objects are not sent in this dry run` });
  return undefined;
}

/** After a failed apply: the previous entries plus every object applied before the failure. */
async function recordPartial(client: KubeClient, run: Run, done: KObject[], applied: Record<string, string>): Promise<void> {
  const { result, prev } = run;
  const release = result.release;
  const byKey = new Map<string, InventoryEntry>();
  for (const e of prev?.inventory.entries ?? []) byKey.set(entryKey(e), e);
  for (const o of done) byKey.set(entryKey(entryOf(o)), entryOf(o));
  const doneKeys = new Set(done.map((o) => entryKey(entryOf(o))));
  const inv: Inventory = {
    release: { name: release.name, namespace: release.namespace, uuid: release.uuid },
    module: { ...release.module },
    digest: prev?.inventory.digest ?? result.digest,
    valuesDigest: prev?.inventory.valuesDigest ?? result.valuesDigest,
    entries: sortEntries([...byKey.values()]),
    pendingPrune: (prev?.inventory.pendingPrune ?? []).filter((e) => !doneKeys.has(entryKey(e))),
    history: pushHistory(prev?.inventory.history ?? [], {
      revision: nextRevision(prev?.inventory.history ?? []),
      time: new Date().toISOString(),
      moduleVersion: release.module.version,
      valuesDigest: result.valuesDigest,
      digest: result.digest,
      outcome: "failed",
      notStored: "the apply failed part-way",
      ...(run.extra.rollbackOf !== undefined ? { rollbackOf: run.extra.rollbackOf } : {}),
    }),
    applied: { ...prev?.inventory.applied, ...applied },
  };
  await writeInventory(client, release, inv, prev?.secret);
}
