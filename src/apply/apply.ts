/**
 * apply / diff / status / deleteRelease: the release lifecycle against a cluster.
 */
import { createHash } from "node:crypto";
import { stringify } from "yaml";
import { LABELS, MANAGER, kindWeight, type K8sObject, type ReleaseInfo, type RenderResult } from "../render/types.js";
import { ApplyError, ConflictError, combineErrors, type ConflictDetail } from "./errors.js";
import { KubeClient, KubeHttpError, describe, type ConnectionOptions, type KObject, type ObjectRef } from "./client.js";
import { health, type Health, type HealthStatus } from "./health.js";
import {
  deleteInventory,
  entryKey,
  entryOf,
  inventoryName,
  pushHistory,
  readInventory,
  refOf,
  sortEntries,
  writeInventory,
  type HistoryRecord,
  type Inventory,
  type InventoryEntry,
  type Outcome,
  type StoredInventory,
} from "./inventory.js";
import { acquireLock } from "./lock.js";
import { redactPair, scrubMessage } from "./redact.js";
import { unifiedDiff } from "./textdiff.js";

// ───────────────────────────── options and results ─────────────────────────────

export interface CommonOptions extends ConnectionOptions {
  /** Reuse a client (tests, several commands in a row). */
  client?: KubeClient;
  /** Progress callback. */
  onEvent?: (e: LifecycleEvent) => void;
  /** Poll interval for waits in milliseconds (default 1000). */
  pollIntervalMs?: number;
}

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

export type ObjectAction = "created" | "configured" | "unchanged" | "pruned" | "deleted";

export type LifecycleEvent =
  | { type: "applied"; id: string; action: "created" | "configured" | "unchanged"; dryRun: boolean }
  | { type: "pruned"; id: string; dryRun: boolean }
  | { type: "skipped"; id: string; reason: string }
  | { type: "deleted"; id: string }
  | { type: "waiting"; id: string; health: Health }
  | { type: "ready"; id: string; health: Health }
  | { type: "gone"; id: string }
  | { type: "info"; message: string };

export interface ObjectResult {
  id: string;
  ref: ObjectRef;
  action: ObjectAction;
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
}

export interface ReleaseTarget {
  name: string;
  namespace: string;
}

// ───────────────────────────── helpers ─────────────────────────────

export function objectId(o: ObjectRef | KObject | K8sObject): string {
  return describe(o as ObjectRef);
}

function refFromObject(o: K8sObject | KObject): ObjectRef {
  return { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace };
}

/** Run `fn` over `items`, `limit` at a time. After a failure `stop` accepts, no further item is started (those are left out). */
async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>, stop?: (reason: unknown) => boolean): Promise<PromiseSettledResult<R>[]> {
  const out: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  let stopped = false;
  const worker = async () => {
    while (next < items.length && !stopped) {
      const i = next++;
      try {
        out[i] = { status: "fulfilled", value: await fn(items[i]!) };
      } catch (reason) {
        out[i] = { status: "rejected", reason };
        if (stop?.(reason)) stopped = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out.filter(Boolean);
}

/** The server could not be reached (even after retries): trying the other objects only repeats that. */
const unreachable = (e: unknown) => ApplyError.is(e, "ApiError") && e.details.attempts !== undefined;

function groupByWeight<T extends { kind: string }>(items: T[]): T[][] {
  const m = new Map<number, T[]>();
  for (const it of items) {
    const w = kindWeight(it.kind);
    if (!m.has(w)) m.set(w, []);
    m.get(w)!.push(it);
  }
  return [...m.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Fields the server manages; removed before comparing or diffing. */
export function normalize(o: KObject | undefined): KObject | undefined {
  if (!o) return undefined;
  const md = { ...o.metadata } as Record<string, unknown>;
  for (const k of ["managedFields", "resourceVersion", "generation", "creationTimestamp", "uid", "selfLink"]) delete md[k];
  const copy = { ...o, metadata: md } as KObject;
  return copy;
}

function withoutStatus(o: KObject | undefined): KObject | undefined {
  if (!o) return o;
  const { status: _status, ...rest } = o;
  return rest as KObject;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).sort((a, b) => {
      const order = ["apiVersion", "kind", "metadata"];
      const ia = order.indexOf(a);
      const ib = order.indexOf(b);
      if (ia >= 0 || ib >= 0) return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
      return a < b ? -1 : a > b ? 1 : 0;
    });
    return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, canonical(o[k])]));
  }
  return v;
}

function toYaml(o: KObject | undefined): string {
  return o ? stringify(canonical(o), { lineWidth: 0, sortMapEntries: false }) : "";
}

function same(a: KObject | undefined, b: KObject | undefined): boolean {
  return JSON.stringify(canonical(normalize(a))) === JSON.stringify(canonical(normalize(b)));
}

/** Turn an API error for one object into an ApplyError a user can act on. Secret values are scrubbed. */
function explain(e: unknown, obj: KObject, all: KObject[]): unknown {
  const id = objectId(obj);
  if (e instanceof KubeHttpError) {
    const msg = scrubMessage(e.body?.message ?? e.message, all);
    if (e.status === 409 && (e.body?.reason === "Conflict" || /conflict/i.test(msg))) {
      const conflicts: ConflictDetail[] = [];
      for (const c of e.body?.details?.causes ?? []) {
        if (c.type && c.type !== "FieldManagerConflict") continue;
        const m = /conflict with "([^"]+)"/.exec(c.message ?? "");
        conflicts.push({ field: c.field ?? "", manager: m?.[1] ?? "unknown" });
      }
      if (conflicts.length === 0) {
        // Fall back to parsing the message: `Apply failed with 1 conflict: conflict with "x" using apps/v1: .spec.replicas`
        for (const m of msg.matchAll(/conflict with "([^"]+)"(?: using [^:]+)?: ([^\n]+)/g)) conflicts.push({ manager: m[1]!, field: m[2]!.trim() });
      }
      return new ConflictError(id, conflicts, msg);
    }
    if (e.status === 404 && obj.metadata.namespace && /namespaces? .*not found/i.test(msg)) {
      return new ApplyError("NamespaceNotFound", `${id}: namespace "${obj.metadata.namespace}" does not exist; pass --create-namespace (createNamespace: true) or create it`, { object: id });
    }
    if (e.status === 400 || e.status === 404 || e.status === 415 || e.status === 422 || e.status === 403) {
      return new ApplyError("Invalid", `${id}: the server rejected the object (${e.status}): ${msg}`, { object: id, status: e.status });
    }
    return new ApplyError("ApiError", `${id}: ${e.status}: ${msg}`, { object: id, status: e.status });
  }
  if (ApplyError.is(e)) {
    const scrubbed = scrubMessage(e.message, all);
    if (scrubbed !== e.message) return new ApplyError(e.code, scrubbed, e.details);
  }
  return e;
}

/** Digest of the configuration sent for an object (what opm asks for). */
function configDigest(o: KObject): string {
  return createHash("sha256").update(JSON.stringify(canonical(o))).digest("hex").slice(0, 32);
}

/** Digest of the fields opm's field manager owns on a live object (empty when it owns none). */
function ownedDigest(o: KObject): string {
  const mf = (o.metadata.managedFields ?? []) as Array<{ manager?: string; operation?: string; apiVersion?: string; subresource?: string; fieldsV1?: unknown }>;
  const ours = mf.filter((m) => m.manager === MANAGER && m.operation === "Apply").map((m) => [m.apiVersion ?? "", m.subresource ?? "", m.fieldsV1 ?? null]);
  if (!ours.length) return "none";
  return createHash("sha256").update(JSON.stringify(canonical(ours))).digest("hex").slice(0, 32);
}

/** After a failed apply: the previous entries plus every object applied before the failure. */
async function recordPartial(client: KubeClient, result: RenderResult, prev: StoredInventory | undefined, done: KObject[], applied: Record<string, string>): Promise<void> {
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
      time: new Date().toISOString(),
      moduleVersion: release.module.version,
      valuesDigest: result.valuesDigest,
      digest: result.digest,
      outcome: "failed",
    }),
    applied: { ...prev?.inventory.applied, ...applied },
  };
  await writeInventory(client, release, inv, prev?.secret);
}

/** A namespace that exists, for a server-side dry run of objects whose own namespace does not yet. */
async function standInNamespace(client: KubeClient, missing: string, emit: (e: LifecycleEvent) => void): Promise<string | undefined> {
  const ns = client.kc.getContextObject(client.kc.getCurrentContext())?.namespace || "default";
  if (ns !== missing && (await client.get({ apiVersion: "v1", kind: "Namespace", name: ns }).catch(() => undefined))) {
    emit({ type: "info", message: `namespace ${missing} does not exist yet: its objects are validated by a server-side dry run in namespace ${ns}` });
    return ns;
  }
  emit({ type: "info", message: `namespace ${missing} does not exist yet and no other namespace is readable: its objects are not sent in this dry run` });
  return undefined;
}

// ───────────────────────────── namespace and CRDs ─────────────────────────────

async function ensureNamespace(client: KubeClient, release: ReleaseInfo, objects: KObject[], opts: ApplyOptions, dryRun: boolean): Promise<"exists" | "created" | "pending"> {
  const ns = release.namespace;
  const live = await client.get({ apiVersion: "v1", kind: "Namespace", name: ns });
  if (live) return "exists";
  const rendered = objects.find((o) => o.kind === "Namespace" && o.metadata.name === ns);
  if (!opts.createNamespace && !rendered) {
    throw new ApplyError("NamespaceNotFound", `namespace "${ns}" does not exist; pass --create-namespace (createNamespace: true) or create it first`, { namespace: ns });
  }
  if (dryRun) return "pending";
  const nsObj: KObject = rendered ?? { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: { [LABELS.managedBy]: MANAGER } } };
  await client.apply(nsObj, { fieldManager: MANAGER, force: opts.forceConflicts });
  opts.onEvent?.({ type: "info", message: `namespace ${ns} created` });
  return "created";
}

async function waitEstablished(client: KubeClient, crds: KObject[], timeoutMs: number, pollMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    for (;;) {
      const live = await client.get({ apiVersion: crd.apiVersion, kind: crd.kind, name: crd.metadata.name });
      const h = health(live);
      if (h.status === "Current") break;
      if (h.status === "Failed") throw new ApplyError("Invalid", `${objectId(crd)}: ${h.message}`);
      if (Date.now() > deadline) throw new ApplyError("Timeout", `${objectId(crd)} was not established in time: ${h.message}`, { object: objectId(crd) });
      await sleep(Math.min(pollMs, 250));
    }
    const spec = crd.spec as { group?: string; versions?: Array<{ name: string }> } | undefined;
    for (const v of spec?.versions ?? []) client.forgetDiscovery(`${spec?.group}/${v.name}`);
  }
}

/** Fill in the release namespace for namespaced objects without one (never the kubeconfig's). */
async function withNamespaces(client: KubeClient, objects: K8sObject[], release: ReleaseInfo): Promise<KObject[]> {
  const crdKinds = new Set(
    objects.filter((o) => o.kind === "CustomResourceDefinition").map((o) => {
      const s = o.spec as { group?: string; names?: { kind?: string }; scope?: string };
      return `${s.group}|${s.names?.kind}|${s.scope}`;
    }),
  );
  const out: KObject[] = [];
  for (const o of objects) {
    if (o.metadata.namespace || o.kind === "Namespace" || o.kind === "CustomResourceDefinition") {
      out.push(o as KObject);
      continue;
    }
    const group = o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : "";
    let namespaced: boolean | undefined;
    if (crdKinds.has(`${group}|${o.kind}|Namespaced`)) namespaced = true;
    else if (crdKinds.has(`${group}|${o.kind}|Cluster`)) namespaced = false;
    else namespaced = (await client.resourceInfo(o.apiVersion, o.kind))?.namespaced;
    out.push(namespaced ? ({ ...o, metadata: { ...o.metadata, namespace: release.namespace } } as KObject) : (o as KObject));
  }
  return out;
}

function checkModule(prev: StoredInventory | undefined, release: ReleaseInfo): void {
  if (prev && prev.inventory.module.fqn !== release.module.fqn) {
    throw new ApplyError(
      "ModuleMismatch",
      `release "${release.name}" in namespace "${release.namespace}" belongs to module ${prev.inventory.module.fqn} ` +
        `(version ${prev.inventory.module.version}), not ${release.module.fqn}; choose another release name (--name) or delete the release first`,
      { existing: prev.inventory.module.fqn, requested: release.module.fqn },
    );
  }
}

// ───────────────────────────── apply ─────────────────────────────

/**
 * Apply a render to the cluster: server-side apply in kind-weight order, then the inventory, then
 * prune, then (optionally) wait. On any failure nothing is pruned and the previous inventory stays.
 */
export async function apply(result: RenderResult, options: ApplyOptions = {}): Promise<ApplyReport> {
  const client = options.client ?? new KubeClient(options);
  const release = result.release;
  const dryRun = options.dryRun === "server";
  const emit = options.onEvent ?? (() => {});
  const timeoutMs = options.timeoutMs ?? 5 * 60_000;
  const pollMs = options.pollIntervalMs ?? 1000;
  const objects = await withNamespaces(client, result.objects, release);

  const nsState = await ensureNamespace(client, release, objects, options, dryRun);
  const prev = nsState === "pending" ? undefined : await readInventory(client, release.name, release.namespace);
  checkModule(prev, release);

  const lock = dryRun ? undefined : await acquireLock(client, release.name, release.namespace, { durationSeconds: options.lockDurationSeconds });
  try {
    const results = new Map<KObject, ObjectResult>();
    const applied: Record<string, string> = {};
    // Dry run into a namespace that does not exist yet: the server refuses namespaced objects there,
    // so they are validated in a namespace that exists (nothing is persisted either way).
    const standIn = dryRun && nsState === "pending" ? await standInNamespace(client, release.namespace, emit) : undefined;
    try {
      for (const group of groupByWeight(objects)) {
        const settled = await mapLimit(group, options.concurrency ?? 8, async (obj) => {
          const ref = refFromObject(obj);
          const id = objectId(obj);
          try {
            if (dryRun && nsState === "pending" && obj.metadata.namespace === release.namespace) {
              if (standIn) await client.apply({ ...obj, metadata: { ...obj.metadata, namespace: standIn } }, { fieldManager: MANAGER, force: true, dryRun });
              results.set(obj, { id, ref, action: "created" });
              emit({ type: "applied", id, action: "created", dryRun });
              return;
            }
            const key = entryKey(entryOf(obj));
            const live = await client.get(ref);
            const digest = dryRun ? "" : configDigest(obj);
            const before = prev?.inventory.applied?.[key];
            if (!dryRun && live && before && before === `${digest}.${ownedDigest(live)}`) {
              // Same configuration as last time, and nobody took a field from opm since: nothing to send.
              applied[key] = before;
              results.set(obj, { id, ref, action: "unchanged" });
              emit({ type: "applied", id, action: "unchanged", dryRun });
              return;
            }
            const { object: stored } = await client.apply(obj, { fieldManager: MANAGER, force: options.forceConflicts, dryRun });
            let action: "created" | "configured" | "unchanged";
            if (!live) action = "created";
            else if (dryRun) action = same(live, stored) ? "unchanged" : "configured";
            else action = live.metadata.resourceVersion === stored.metadata.resourceVersion ? "unchanged" : "configured";
            if (!dryRun) applied[key] = `${digest}.${ownedDigest(stored)}`;
            results.set(obj, { id, ref, action });
            emit({ type: "applied", id, action, dryRun });
          } catch (e) {
            throw explain(e, obj, objects);
          }
        }, unreachable);
        const errors = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected").map((s) => s.reason);
        if (errors.length) throw combineErrors(errors);
        const crds = group.filter((o) => o.kind === "CustomResourceDefinition");
        if (crds.length && !dryRun) await waitEstablished(client, crds, Math.min(timeoutMs, 120_000), pollMs);
      }
    } catch (e) {
      // Stopped part-way: nothing is pruned; the inventory records what was applied (with what it
      // owned before), so those objects are not orphaned if the next render drops them.
      if (!dryRun && results.size) await recordPartial(client, result, prev, objects.filter((o) => results.has(o)), applied).catch(() => {});
      throw e;
    }

    const objectResults = objects.map((o) => results.get(o)!);
    const newEntries = sortEntries(objects.map(entryOf));
    const newKeys = new Set(newEntries.map(entryKey));
    const previousEntries = prev ? [...prev.inventory.entries, ...prev.inventory.pendingPrune] : [];
    const seen = new Set<string>();
    const stale = previousEntries.filter((e) => {
      const k = entryKey(e);
      if (newKeys.has(k) || seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    const toPrune = options.noPrune ? [] : stale.filter((e) => e.kind !== "Namespace");
    const report: ApplyReport = { release, dryRun, objects: objectResults, pruned: [], changed: false };

    if (dryRun) {
      for (const e of sortEntries(toPrune).reverse()) {
        const live = await client.get(refOf(e));
        if (live && live.metadata.labels?.[LABELS.releaseUuid] === release.uuid) {
          report.pruned.push({ id: objectId(refOf(e)), ref: refOf(e), action: "pruned" });
          emit({ type: "pruned", id: objectId(refOf(e)), dryRun });
        }
      }
      report.changed = objectResults.some((r) => r.action !== "unchanged") || report.pruned.length > 0;
      return report;
    }

    // Every object applied: record the inventory before pruning (pending prunes are kept in it).
    const record: HistoryRecord = {
      time: new Date().toISOString(),
      moduleVersion: release.module.version,
      valuesDigest: result.valuesDigest,
      digest: result.digest,
      outcome: "applied",
      ...(result.violations.length ? { violations: result.violations } : {}),
    };
    const inv: Inventory = {
      release: { name: release.name, namespace: release.namespace, uuid: release.uuid },
      module: { ...release.module },
      digest: result.digest,
      valuesDigest: result.valuesDigest,
      entries: newEntries,
      pendingPrune: toPrune,
      history: pushHistory(prev?.inventory.history ?? [], record),
      applied,
    };
    let secret = await writeInventory(client, release, inv, prev?.secret);
    report.inventory = `${release.namespace}/${inventoryName(release)}`;

    if (toPrune.length) {
      const pruneErrors: unknown[] = [];
      for (const e of sortEntries(toPrune).reverse()) {
        const ref = refOf(e);
        const id = objectId(ref);
        try {
          const live = await client.get(ref);
          if (!live) continue;
          if (live.metadata.labels?.[LABELS.releaseUuid] !== release.uuid) {
            emit({ type: "skipped", id, reason: "no longer carries this release's label; left in place" });
            continue;
          }
          await client.delete(ref);
          report.pruned.push({ id, ref, action: "pruned" });
          emit({ type: "pruned", id, dryRun });
        } catch (err) {
          pruneErrors.push(err);
        }
      }
      if (pruneErrors.length) throw combineErrors(pruneErrors);
      inv.pendingPrune = [];
      secret = await writeInventory(client, release, inv, secret);
    }
    report.changed = objectResults.some((r) => r.action !== "unchanged") || report.pruned.length > 0;

    if (options.wait) {
      let outcome: Outcome = "ready";
      try {
        await waitReady(client, objects, { timeoutMs, pollMs, emit });
      } catch (e) {
        outcome = "not-ready";
        throw e;
      } finally {
        inv.history = [...inv.history.slice(0, -1), { ...record, outcome }];
        report.ready = outcome === "ready";
        try {
          await writeInventory(client, release, inv, secret);
        } catch {
          /* the outcome is informative only */
        }
      }
    }
    return report;
  } finally {
    await lock?.release();
  }
}

// ───────────────────────────── wait ─────────────────────────────

async function eventsFor(client: KubeClient, ref: ObjectRef): Promise<string[]> {
  if (!ref.namespace) return [];
  try {
    const evs = await client.list("v1", "Event", ref.namespace);
    return evs
      .filter((e) => {
        const io = e.involvedObject as { kind?: string; name?: string } | undefined;
        return io?.kind === ref.kind && io?.name === ref.name;
      })
      .slice(-3)
      .map((e) => `${String(e.type ?? "")} ${String(e.reason ?? "")}: ${String(e.message ?? "")}`.trim());
  } catch {
    return [];
  }
}

const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"]);

/** Why a workload's pods are not ready (waiting/terminated container reasons), e.g. `pod web-1: container main CrashLoopBackOff: back-off 40s`. */
async function podProblems(client: KubeClient, ref: ObjectRef, live?: KObject): Promise<string[]> {
  if (!WORKLOADS.has(ref.kind) || !ref.namespace) return [];
  try {
    live ??= await client.get(ref);
    const match = ((live?.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector?.matchLabels) ?? {};
    const sel = Object.entries(match).map(([k, v]) => `${k}=${v}`).join(",");
    if (!sel) return [];
    const out: string[] = [];
    for (const pod of await client.list("v1", "Pod", ref.namespace, sel)) {
      const st = (pod.status ?? {}) as { phase?: string; conditions?: Array<{ type: string; status: string; reason?: string }>; containerStatuses?: Array<Record<string, any>> };
      const why: string[] = [];
      for (const c of st.containerStatuses ?? []) {
        const w = c.state?.waiting;
        const t = c.state?.terminated;
        if (w?.reason) why.push(`container ${c.name} ${w.reason}${w.message ? `: ${w.message}` : ""}`);
        else if (t && t.exitCode !== 0) why.push(`container ${c.name} terminated: ${t.reason ?? "Error"} (exit code ${t.exitCode})`);
        else if (c.ready === false && st.phase === "Running") why.push(`container ${c.name} not ready`);
      }
      if (!why.length && st.phase === "Pending") why.push(st.conditions?.find((c) => c.type === "PodScheduled")?.status === "True" ? "Pending" : "Pending: not scheduled");
      if (why.length) out.push(`pod ${pod.metadata.name}: ${why.join("; ")}`);
      if (out.length >= 3) break;
    }
    return out;
  } catch {
    return [];
  }
}

/** Wait until every object is Current; throws a Timeout (or Failed) ApplyError naming what is not ready and why. */
export async function waitReady(
  client: KubeClient,
  objects: Array<KObject | ObjectRef>,
  opts: { timeoutMs: number; pollMs: number; emit?: (e: LifecycleEvent) => void },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  const refs = objects.map((o) => ("metadata" in o ? refFromObject(o) : o));
  const pending = new Map(refs.map((r) => [objectId(r), r]));
  const last = new Map<string, Health>();
  for (;;) {
    await Promise.all(
      [...pending.entries()].map(async ([id, ref]) => {
        const h = health(await client.get(ref));
        const prevH = last.get(id);
        last.set(id, h);
        if (h.status === "Current") {
          pending.delete(id);
          opts.emit?.({ type: "ready", id, health: h });
        } else if (!prevH || prevH.message !== h.message) opts.emit?.({ type: "waiting", id, health: h });
      }),
    );
    const failedIds = [...pending.keys()].filter((id) => last.get(id)?.status === "Failed");
    if (pending.size === 0) return;
    if (failedIds.length || Date.now() >= deadline) {
      const lines: string[] = [];
      for (const [id, ref] of pending) {
        const h = last.get(id)!;
        const evs = await eventsFor(client, ref);
        const pods = await podProblems(client, ref);
        lines.push(`${id}: ${h.status}: ${h.message}${pods.length ? `\n    ${pods.join("\n    ")}` : ""}${evs.length ? `\n    events: ${evs.join("; ")}` : ""}`);
      }
      const what = failedIds.length ? "failed" : `not ready after ${Math.round(opts.timeoutMs / 1000)}s`;
      throw new ApplyError("Timeout", `${pending.size} object(s) ${what}:\n  ${lines.join("\n  ")}`, {
        notReady: [...pending.keys()].map((id) => ({ id, ...last.get(id)! })),
      });
    }
    await sleep(Math.min(opts.pollMs, Math.max(10, deadline - Date.now())));
  }
}

// ───────────────────────────── diff ─────────────────────────────

export type DiffAction = "create" | "update" | "unchanged" | "prune";

export interface ObjectDiff {
  id: string;
  ref: ObjectRef;
  action: DiffAction;
  /** Unified diff (Secret values redacted); empty when unchanged. */
  diff: string;
}

export interface DiffReport {
  release: ReleaseInfo;
  changed: boolean;
  objects: ObjectDiff[];
  /** All diffs concatenated. */
  text: string;
}

export interface DiffOptions extends CommonOptions {
  forceConflicts?: boolean;
  noPrune?: boolean;
}

/**
 * What `apply` would change, computed with a server-side dry-run apply so defaults and other
 * managers' fields do not show up as changes. Secret values are redacted.
 */
export async function diff(result: RenderResult, options: DiffOptions = {}): Promise<DiffReport> {
  const client = options.client ?? new KubeClient(options);
  const release = result.release;
  const objects = await withNamespaces(client, result.objects, release);
  const nsExists = !!(await client.get({ apiVersion: "v1", kind: "Namespace", name: release.namespace }));
  const prev = nsExists ? await readInventory(client, release.name, release.namespace) : undefined;
  checkModule(prev, release);
  const crdKinds = new Set(
    objects.filter((o) => o.kind === "CustomResourceDefinition").map((o) => `${(o.spec as { group?: string }).group}|${(o.spec as { names?: { kind?: string } }).names?.kind}`),
  );
  const out: ObjectDiff[] = [];
  const settled = await mapLimit(objects, 8, async (obj): Promise<ObjectDiff> => {
    const ref = refFromObject(obj);
    const id = objectId(obj);
    const group = obj.apiVersion.includes("/") ? obj.apiVersion.split("/")[0] : "";
    const nsMissing = !nsExists && obj.metadata.namespace === release.namespace;
    const crdPending = crdKinds.has(`${group}|${obj.kind}`) && !(await client.resourceInfo(obj.apiVersion, obj.kind));
    try {
      if (nsMissing || crdPending) {
        const [, d] = redactPair(undefined, obj);
        return { id, ref, action: "create", diff: unifiedDiff("", toYaml(d), { fromFile: `live/${id}`, toFile: `desired/${id}` }) };
      }
      const live = await client.get(ref);
      const { object: dry } = await client.apply(obj, { fieldManager: MANAGER, force: options.forceConflicts, dryRun: true });
      // Status is the controllers' business, not the render's: leave it out of the diff.
      const [a, b] = redactPair(withoutStatus(normalize(live)), withoutStatus(normalize(dry)));
      const text = unifiedDiff(toYaml(a), toYaml(b), { fromFile: `live/${id}`, toFile: `desired/${id}` });
      return { id, ref, action: !live ? "create" : text ? "update" : "unchanged", diff: text };
    } catch (e) {
      throw explain(e, obj, objects);
    }
  });
  const errors = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected").map((s) => s.reason);
  if (errors.length) throw combineErrors(errors);
  for (const s of settled) out.push((s as PromiseFulfilledResult<ObjectDiff>).value);

  if (prev && !options.noPrune) {
    const keys = new Set(objects.map((o) => entryKey(entryOf(o))));
    for (const e of sortEntries([...prev.inventory.entries, ...prev.inventory.pendingPrune]).reverse()) {
      if (keys.has(entryKey(e)) || e.kind === "Namespace") continue;
      keys.add(entryKey(e));
      const ref = refOf(e);
      const live = await client.get(ref);
      if (!live || live.metadata.labels?.[LABELS.releaseUuid] !== release.uuid) continue;
      const id = objectId(ref);
      const [a] = redactPair(withoutStatus(normalize(live)), undefined);
      out.push({ id, ref, action: "prune", diff: unifiedDiff(toYaml(a), "", { fromFile: `live/${id}`, toFile: `desired/${id} (pruned)` }) });
    }
  }
  const changed = out.some((d) => d.action !== "unchanged");
  return { release, changed, objects: out, text: out.map((d) => d.diff).filter(Boolean).join("") };
}

// ───────────────────────────── status ─────────────────────────────

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

function isRender(t: ReleaseTarget | RenderResult): t is RenderResult {
  return typeof (t as RenderResult).release === "object" && Array.isArray((t as RenderResult).objects);
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
    if (!stored) throw new ApplyError("ReleaseNotFound", `release "${name}" not found in namespace "${namespace}" (no inventory Secret)`, { name, namespace });
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

// ───────────────────────────── delete ─────────────────────────────

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

async function waitGone(client: KubeClient, refs: ObjectRef[], timeoutMs: number, pollMs: number, emit: (e: LifecycleEvent) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = refs;
  for (;;) {
    const still: ObjectRef[] = [];
    for (const r of pending) {
      if (await client.get(r)) still.push(r);
      else emit({ type: "gone", id: objectId(r) });
    }
    pending = still;
    if (!pending.length) return;
    if (Date.now() >= deadline) {
      throw new ApplyError("Timeout", `${pending.length} object(s) still present after ${Math.round(timeoutMs / 1000)}s: ${pending.map(objectId).join(", ")} (finalizers may be blocking deletion)`, {
        remaining: pending.map(objectId),
      });
    }
    await sleep(Math.min(pollMs, Math.max(10, deadline - Date.now())));
  }
}
