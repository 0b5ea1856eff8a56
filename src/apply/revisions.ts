/**
 * What each history record needs to be applied again (`rollback`): the objects it applied, kept in
 * the inventory Secret beside the `inventory` key, under {@link REVISIONS_KEY}, as gzip of
 *
 *     { "format": 1, "objects": { "<digest>": object, ... }, "revisions": { "<revision>": ["<digest>", ...] } }
 *
 * Objects are content-addressed (the digest is `configDigest` of the stored form), so ten
 * revisions that differ in a few objects store each object once. A Secret's values are never
 * stored: each `data`/`stringData` value is replaced by a keyed digest of its bytes, so a rollback
 * can tell whether the live Secret still holds the same value without the value being kept.
 */
import { createHash, createHmac } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { isSecretObject } from "../core/redact.js";
import type { KObject } from "./client.js";
import type { HistoryRecord } from "./inventory.js";
import { configDigest } from "./objects.js";

/** The inventory Secret's data key holding the stored objects of the history's revisions. */
export const REVISIONS_KEY = "revisions";
const PAYLOAD_FORMAT = 1;
/** Kubernetes refuses a Secret whose data (decoded) totals more than 1 MiB. */
const SECRET_DATA_LIMIT = 1024 * 1024;
/** Room left under the limit for the inventory growing between writes of one apply (the outcome, pending prunes). */
const MARGIN = 16 * 1024;
const DIGEST_PREFIX = "hmac-sha256:";

export interface Payload {
  format: number;
  /** Stored objects by digest. */
  objects: Record<string, KObject>;
  /** Per revision (as a decimal string), the digests of its objects in apply order. */
  revisions: Record<string, string[]>;
}

const emptyPayload = (): Payload => ({ format: PAYLOAD_FORMAT, objects: {}, revisions: {} });

/** The stored objects cannot be read: the message says why (no revision is named here; callers add it). */
export class PayloadError extends Error {}

/** A keyed digest of one Secret value (keyed by the release uuid, so equal values in two releases differ). */
export function secretValueDigest(releaseUuid: string, bytes: Buffer): string {
  return DIGEST_PREFIX + createHmac("sha256", `opm-secret:${releaseUuid}`).update(bytes).digest("hex");
}

/** The bytes of each value of a Secret (`stringData` wins over `data`, as the API server does). */
export function secretBytes(o: KObject): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const data = (o.data ?? {}) as Record<string, unknown>;
  const stringData = (o.stringData ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(data)) if (typeof v === "string") out.set(k, Buffer.from(v, "base64"));
  for (const [k, v] of Object.entries(stringData)) if (typeof v === "string") out.set(k, Buffer.from(v, "utf8"));
  return out;
}

/** The form an object is stored in: as applied, except a Secret's values, each replaced by its digest under `data`. */
function storedForm(o: KObject, releaseUuid: string): KObject {
  if (!isSecretObject(o)) return o;
  const { stringData: _s, ...rest } = o as KObject & { stringData?: unknown };
  const data: Record<string, string> = {};
  for (const [k, bytes] of secretBytes(o)) data[k] = secretValueDigest(releaseUuid, bytes);
  const copy = { ...rest } as KObject;
  if (Object.keys(data).length || o.data !== undefined || o.stringData !== undefined) copy.data = data;
  return copy;
}

function encodePayload(p: Payload): string {
  return gzipSync(Buffer.from(JSON.stringify(p)), { level: 9 }).toString("base64");
}

export function decodePayload(b64: string | undefined): Payload {
  if (b64 === undefined || b64 === "") throw new PayloadError(`the inventory has no "${REVISIONS_KEY}" key`);
  let p: Payload;
  try {
    p = JSON.parse(gunzipSync(Buffer.from(b64, "base64")).toString("utf8")) as Payload;
  } catch (e) {
    throw new PayloadError(`the stored objects are not readable (${(e as Error).message})`);
  }
  if (
    !p ||
    typeof p !== "object" ||
    p.format !== PAYLOAD_FORMAT ||
    typeof p.objects !== "object" ||
    typeof p.revisions !== "object" ||
    !p.objects ||
    !p.revisions
  ) {
    throw new PayloadError(`the stored objects are not in format ${PAYLOAD_FORMAT}`);
  }
  return p;
}

function listDigest(list: string[]): string {
  return createHash("sha256").update(list.join("\n")).digest("hex").slice(0, 32);
}

/** Store a revision's objects; returns what its record keeps to find and check them. */
function addRevision(p: Payload, revision: number, objects: KObject[], releaseUuid: string): NonNullable<HistoryRecord["stored"]> {
  const list = objects.map((o) => {
    const s = storedForm(o, releaseUuid);
    const d = configDigest(s);
    p.objects[d] = s;
    return d;
  });
  p.revisions[String(revision)] = list;
  return { objects: list.length, digest: listDigest(list) };
}

/** Keep only the revisions whose record still says their objects are stored, and the objects they use. */
function collect(p: Payload, history: HistoryRecord[]): void {
  const keep = new Set(history.filter((r) => r.stored).map((r) => String(r.revision)));
  for (const k of Object.keys(p.revisions)) if (!keep.has(k)) delete p.revisions[k];
  const used = new Set(Object.values(p.revisions).flat());
  for (const d of Object.keys(p.objects)) if (!used.has(d)) delete p.objects[d];
}

/**
 * The objects of one revision, checked: its list is present, has the recorded length and digest,
 * and every object is present and still has the digest it is stored under. Throws a PayloadError.
 */
export function restoreRevision(p: Payload, rec: HistoryRecord): KObject[] {
  if (!rec.stored)
    throw new PayloadError(
      rec.notStored ? `its objects are not stored: ${rec.notStored}` : "its record holds no objects (recorded by an opm that did not store them)",
    );
  const list = p.revisions[String(rec.revision)];
  if (!Array.isArray(list)) throw new PayloadError("its objects are missing from the stored objects");
  if (list.length !== rec.stored.objects || listDigest(list) !== rec.stored.digest) {
    throw new PayloadError(`its stored object list does not match its record (${list.length} objects stored, ${rec.stored.objects} recorded)`);
  }
  return list.map((d, i) => {
    const o = p.objects[d];
    if (!o || typeof o !== "object") throw new PayloadError(`its object #${i + 1} is missing from the stored objects`);
    if (configDigest(o) !== d) throw new PayloadError(`its stored object ${o.kind ?? "?"} ${o.metadata?.name ?? "?"} was altered (its digest does not match)`);
    return structuredClone(o);
  });
}

/**
 * Build the payload for a history whose last record is being written with `objects`:
 * the previous payload (`previous`, the base64 text of the Secret's key) plus the new revision,
 * less the revisions that left the history. When the inventory would not fit under the Secret size
 * limit, the oldest revisions' objects are dropped (their records say so and are no longer
 * rollback-able). Mutates the records of `history` it changes (replaced by copies).
 */
export function buildPayload(
  previous: string | undefined,
  history: HistoryRecord[],
  objects: KObject[],
  releaseUuid: string,
  inventoryBytes: () => number,
): string {
  let p: Payload;
  try {
    p = previous ? decodePayload(previous) : emptyPayload();
  } catch (e) {
    // A damaged payload never stops an apply: older revisions lose their objects and say why.
    p = emptyPayload();
    for (let i = 0; i < history.length - 1; i++) {
      const r = history[i]!;
      if (r.stored) history[i] = withoutObjects(r, (e as Error).message);
    }
  }
  const last = history.length - 1;
  history[last] = { ...history[last]!, stored: addRevision(p, history[last]!.revision, objects, releaseUuid) };
  collect(p, history);
  let text = encodePayload(p);
  const budget = SECRET_DATA_LIMIT - MARGIN;
  while (inventoryBytes() + decodedLength(text) > budget) {
    const oldest = history.findIndex((r) => r.stored);
    if (oldest < 0) break;
    history[oldest] = withoutObjects(history[oldest]!, `dropped to keep the inventory under Kubernetes' 1 MiB Secret limit`);
    collect(p, history);
    text = encodePayload(p);
  }
  return text;
}

/** Bytes of a base64 text once decoded (what Kubernetes counts against the Secret limit). */
function decodedLength(b64: string): number {
  const pad = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
  return (b64.length / 4) * 3 - pad;
}

function withoutObjects(r: HistoryRecord, why: string): HistoryRecord {
  const { stored: _stored, ...rest } = r;
  return { ...rest, notStored: why };
}
