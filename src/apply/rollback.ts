/**
 * `history` and `rollback`: a release's revisions from its inventory, and applying again exactly
 * what one revision applied (its stored objects; Secret values re-read from the cluster or
 * supplied again), pruning what that revision did not have. A rollback is recorded as a new
 * revision. Everything is checked before the first write: a rollback that cannot be done exactly
 * changes nothing.
 */
import { redactObject } from "../core/redact.js";
import type { RenderResult } from "../render/types.js";
import { applyRender, type ApplyOptions, type ApplyReport } from "./apply.js";
import { ApplyError } from "./errors.js";
import { KubeClient, type KObject } from "./client.js";
import { readInventory, storedRevisions, type HistoryRecord, type Outcome, type StoredInventory } from "./inventory.js";
import type { CommonOptions, ReleaseTarget } from "./lifecycle.js";
import { objectId, refFromObject } from "./objects.js";
import { decodePayload, PayloadError, restoreRevision, secretBytes, secretValueDigest, type Payload } from "./revisions.js";

/** One revision of a release, as `history` lists it. */
export interface Revision {
  revision: number;
  time: string;
  moduleVersion: string;
  valuesDigest: string;
  digest: string;
  outcome: Outcome;
  /** How many policy violations (warn and audit) were recorded with it. */
  violations: number;
  /** Set when the revision is a rollback: the revision it applied again. */
  rollbackOf?: number;
  /** How many objects are stored for it (absent when none are). */
  objects?: number;
  /** Whether `rollback --to` this revision can work: its objects are stored and readable. */
  rollbackable: boolean;
  /** Why it cannot be rolled back to. */
  reason?: string;
}

/** What `history` returns: the release, its module and its kept revisions. */
export interface HistoryReport {
  release: { name: string; namespace: string; uuid: string };
  module: { fqn: string; name: string; version: string };
  /** The last revision (what the cluster holds, as far as opm knows). */
  current: number;
  /** Oldest first. */
  revisions: Revision[];
}

/** A release's revisions (the last 10), oldest first, from its inventory. */
export async function history(target: ReleaseTarget, options: CommonOptions = {}): Promise<HistoryReport> {
  const client = options.client ?? new KubeClient(options);
  const stored = await found(client, target);
  const inv = stored.inventory;
  let payload: Payload | undefined;
  let damage: string | undefined;
  try {
    if (inv.history.some((r) => r.stored)) payload = decodePayload(storedRevisions(stored.secret));
  } catch (e) {
    damage = (e as Error).message;
  }
  const revisions = inv.history.map((r): Revision => {
    let reason: string | undefined = r.stored ? damage : r.notStored ? `its objects are not stored: ${r.notStored}` : "its record holds no objects";
    if (!reason && payload) {
      try {
        restoreRevision(payload, r);
      } catch (e) {
        reason = (e as Error).message;
      }
    }
    return {
      revision: r.revision,
      time: r.time,
      moduleVersion: r.moduleVersion,
      valuesDigest: r.valuesDigest,
      digest: r.digest,
      outcome: r.outcome,
      violations: r.violations?.length ?? 0,
      ...(r.rollbackOf !== undefined ? { rollbackOf: r.rollbackOf } : {}),
      ...(r.stored ? { objects: r.stored.objects } : {}),
      rollbackable: !reason,
      ...(reason ? { reason } : {}),
    };
  });
  return {
    release: { ...inv.release },
    module: { fqn: inv.module.fqn, name: inv.module.name, version: inv.module.version },
    current: inv.history.at(-1)?.revision ?? 0,
    revisions,
  };
}

/** Options of `rollback`: the revision, Secret values to supply again, and the apply options that make sense for it. */
export interface RollbackOptions
  extends CommonOptions,
    Pick<ApplyOptions, "dryRun" | "forceConflicts" | "wait" | "timeoutMs" | "concurrency" | "lockDurationSeconds"> {
  /** The revision to return to (default: the newest successful revision before the current one). */
  to?: number;
  /**
   * Secret values to supply again, by Secret name, then key: the plain value. Needed only for a
   * value the live Secret no longer holds; each must be the value the revision applied (its
   * recorded digest is checked), so a rollback stays exact.
   */
  secrets?: Record<string, Record<string, string | Uint8Array>>;
}

/** What `rollback` returns: the apply report (with the new `revision`), and the revisions it went from and to. */
export interface RollbackReport extends ApplyReport {
  /** The revision that was current before the rollback. */
  from: number;
  /** The revision whose objects were applied again. */
  to: number;
}

/**
 * Apply again exactly what revision `to` applied (default: the previous successful revision),
 * pruning what it did not have, and record it as a new revision (`rollbackOf`). Before any write,
 * the revision's stored objects are read and checked and every Secret value is found (in the live
 * Secret when its digest still matches, else in `options.secrets`); if anything is missing or
 * damaged it throws and nothing is changed.
 */
export async function rollback(target: ReleaseTarget, options: RollbackOptions = {}): Promise<RollbackReport> {
  const client = options.client ?? new KubeClient(options);
  const stored = await found(client, target);
  const inv = stored.inventory;
  const what = `release "${target.name}" in namespace "${target.namespace}"`;
  const current = inv.history.at(-1);
  if (!current) throw new ApplyError("history_damaged", `cannot roll back ${what}: its inventory has no history records`, { release: target.name });
  const rec = pick(inv.history, options.to, what, target);
  let objects: KObject[];
  try {
    objects = restoreRevision(decodePayload(storedRevisions(stored.secret)), rec);
  } catch (e) {
    if (!(e instanceof PayloadError)) throw e;
    throw new ApplyError(
      "history_damaged",
      `cannot roll back ${what} to revision ${rec.revision}: ${e.message}; nothing was changed`,
      { release: target.name, revision: rec.revision },
      { cause: e },
    );
  }
  objects = await withSecretValues(client, objects, rec, inv.release.uuid, options.secrets ?? {}, what);
  const release = { ...inv.release, module: { ...inv.module, version: rec.moduleVersion } };
  const result: RenderResult = {
    release,
    objects,
    digest: rec.digest,
    valuesDigest: rec.valuesDigest,
    violations: rec.violations ?? [],
    yaml: () => objects.map((o) => JSON.stringify(redactObject(o))).join("\n"),
    json: () => JSON.stringify({ apiVersion: "v1", kind: "List", items: objects.map((o) => redactObject(o)) }, null, 2),
  };
  const { to: _to, secrets: _secrets, ...applyOptions } = options;
  const report = await applyRender(result, { ...applyOptions, client }, { rollbackOf: rec.revision });
  return { ...report, from: current.revision, to: rec.revision };
}

async function found(client: KubeClient, target: ReleaseTarget): Promise<StoredInventory> {
  const stored = await readInventory(client, target.name, target.namespace);
  if (!stored) {
    throw new ApplyError(
      "release_not_found",
      `release "${target.name}" not found in namespace "${target.namespace}" (no inventory Secret): it has no history`,
      { ...target },
    );
  }
  return stored;
}

const successful = (r: HistoryRecord) => r.outcome === "applied" || r.outcome === "ready";

/** The record to return to: `to`, or the newest successful one before the current (last) record. */
function pick(history: HistoryRecord[], to: number | undefined, what: string, target: ReleaseTarget): HistoryRecord {
  const held = history.map((r) => `${r.revision} (${r.outcome})`).join(", ");
  const hint = `see \`opm history ${target.name} -n ${target.namespace}\``;
  if (to !== undefined) {
    const rec = history.find((r) => r.revision === to);
    if (rec) return rec;
    const oldest = history[0]!.revision;
    const why = to < oldest && to >= 1 ? `revision ${to} is older than the last ${history.length} kept` : `there is no revision ${to}`;
    throw new ApplyError("revision_not_found", `cannot roll back ${what} to revision ${to}: ${why}; its history holds ${held} (${hint}); nothing was changed`, {
      revision: to,
    });
  }
  const rec = history.slice(0, -1).findLast((r) => successful(r) && r.stored);
  if (!rec) {
    throw new ApplyError(
      "revision_not_found",
      `cannot roll back ${what}: no successful revision before the current one (${history.at(-1)!.revision}) has stored objects; its history holds ${held}; name one with --to (${hint}); nothing was changed`,
      {},
    );
  }
  return rec;
}

/**
 * Each stored Secret's values, from the live Secret where its value still has the recorded digest,
 * else from `supplied` (checked against the digest too). Lists every value it cannot find, by
 * Secret and key, never a value.
 */
async function withSecretValues(
  client: KubeClient,
  objects: KObject[],
  rec: HistoryRecord,
  releaseUuid: string,
  supplied: Record<string, Record<string, string | Uint8Array>>,
  what: string,
): Promise<KObject[]> {
  const problems: string[] = [];
  const out: KObject[] = [];
  for (const o of objects) {
    if (o.kind !== "Secret" || (o.apiVersion !== "v1" && o.apiVersion !== undefined)) {
      out.push(o);
      continue;
    }
    const want = (o.data ?? {}) as Record<string, string>;
    const id = objectId(o);
    let live: KObject | undefined;
    if (Object.keys(want).length) live = await client.get(refFromObject(o));
    const liveBytes = live ? secretBytes(live) : new Map<string, Buffer>();
    const data: Record<string, string> = {};
    for (const [key, digest] of Object.entries(want)) {
      const given = supplied[o.metadata.name]?.[key];
      if (given !== undefined) {
        const bytes = typeof given === "string" ? Buffer.from(given, "utf8") : Buffer.from(given);
        if (secretValueDigest(releaseUuid, bytes) === digest) data[key] = bytes.toString("base64");
        else problems.push(`${id} key "${key}": the value supplied is not the one revision ${rec.revision} applied`);
        continue;
      }
      const b = liveBytes.get(key);
      if (b && secretValueDigest(releaseUuid, b) === digest) data[key] = b.toString("base64");
      else if (!live) problems.push(`${id} key "${key}": the Secret no longer exists; supply the value again`);
      else if (!b) problems.push(`${id} key "${key}": the live Secret no longer has this key; supply the value again`);
      else problems.push(`${id} key "${key}": the live value changed since revision ${rec.revision}; supply the value revision ${rec.revision} applied`);
    }
    out.push(o.data === undefined ? o : { ...o, data });
  }
  if (problems.length) {
    throw new ApplyError(
      "secret_value_missing",
      `cannot roll back ${what} to revision ${rec.revision}: Secret values are not stored in the history, and ${problems.length === 1 ? "one" : problems.length} cannot be found:\n` +
        problems.map((p) => `  ${p}`).join("\n") +
        `\nSupply each with --secret <secret>/<key>=@file or =env:VAR (library: secrets: { <secret>: { <key>: value } }); nothing was changed`,
      { revision: rec.revision, missing: problems },
    );
  }
  return out;
}
