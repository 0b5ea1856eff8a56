/**
 * What the lifecycle operations do to one object: its id and reference, the release namespace it
 * belongs in, the canonical form compared, digested and diffed, and the error a user reads when
 * the server refuses it. Also the ordering and concurrency helpers they share.
 */
import { createHash } from "node:crypto";
import { stringify } from "yaml";
import { MANAGER, kindWeight, type K8sObject, type ReleaseInfo } from "../render/types.js";
import { ApplyError, ConflictError, type ConflictDetail } from "./errors.js";
import { KubeHttpError, describe, type KObject, type KubeClient, type ObjectRef } from "./client.js";
import { scrubMessage } from "./redact.js";

export function objectId(o: ObjectRef | KObject | K8sObject): string {
  return describe(o as ObjectRef);
}

export function refFromObject(o: K8sObject | KObject): ObjectRef {
  return { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace };
}

/** Run `fn` over `items`, `limit` at a time. After a failure `stop` accepts, no further item is started (those are left out). */
export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (t: T) => Promise<R>,
  stop?: (reason: unknown) => boolean,
): Promise<PromiseSettledResult<R>[]> {
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
export const unreachable = (e: unknown) => ApplyError.is(e, "api_error") && e.details.attempts !== undefined;

export function groupByWeight<T extends { kind: string }>(items: T[]): T[][] {
  const m = new Map<number, T[]>();
  for (const it of items) {
    const w = kindWeight(it.kind);
    if (!m.has(w)) m.set(w, []);
    m.get(w)!.push(it);
  }
  return [...m.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Fields the server manages; removed before comparing or diffing. */
export function normalize(o: KObject | undefined): KObject | undefined {
  if (!o) return undefined;
  const md = { ...o.metadata } as Record<string, unknown>;
  for (const k of ["managedFields", "resourceVersion", "generation", "creationTimestamp", "uid", "selfLink"]) delete md[k];
  const copy = { ...o, metadata: md } as KObject;
  return copy;
}

export function withoutStatus(o: KObject | undefined): KObject | undefined {
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

export function toYaml(o: KObject | undefined): string {
  return o ? stringify(canonical(o), { lineWidth: 0, sortMapEntries: false }) : "";
}

export function same(a: KObject | undefined, b: KObject | undefined): boolean {
  return JSON.stringify(canonical(normalize(a))) === JSON.stringify(canonical(normalize(b)));
}

/** Turn an API error for one object into an ApplyError a user can act on. Secret values are scrubbed. */
export function explain(e: unknown, obj: KObject, all: KObject[]): unknown {
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
      return new ApplyError(
        "namespace_not_found",
        `${id}: namespace "${obj.metadata.namespace}" does not exist; pass --create-namespace (createNamespace: true) or create it`,
        { object: id },
      );
    }
    if (e.status === 400 || e.status === 404 || e.status === 415 || e.status === 422 || e.status === 403) {
      return new ApplyError("invalid", `${id}: the server rejected the object (${e.status}): ${msg}`, { object: id, status: e.status });
    }
    return new ApplyError("api_error", `${id}: ${e.status}: ${msg}`, { object: id, status: e.status });
  }
  if (ApplyError.is(e)) {
    const scrubbed = scrubMessage(e.message, all);
    if (scrubbed !== e.message) return new ApplyError(e.code, scrubbed, e.details);
  }
  return e;
}

/** Digest of the configuration sent for an object (what opm asks for). */
export function configDigest(o: KObject): string {
  return createHash("sha256")
    .update(JSON.stringify(canonical(o)))
    .digest("hex")
    .slice(0, 32);
}

/** Digest of the fields opm's field manager owns on a live object (empty when it owns none). */
export function ownedDigest(o: KObject): string {
  const mf = (o.metadata.managedFields ?? []) as Array<{ manager?: string; operation?: string; apiVersion?: string; subresource?: string; fieldsV1?: unknown }>;
  const ours = mf.filter((m) => m.manager === MANAGER && m.operation === "Apply").map((m) => [m.apiVersion ?? "", m.subresource ?? "", m.fieldsV1 ?? null]);
  if (!ours.length) return "none";
  return createHash("sha256")
    .update(JSON.stringify(canonical(ours)))
    .digest("hex")
    .slice(0, 32);
}

/** Fill in the release namespace for namespaced objects without one (never the kubeconfig's). */
export async function withNamespaces(client: KubeClient, objects: K8sObject[], release: ReleaseInfo): Promise<KObject[]> {
  const crdKinds = new Set(
    objects
      .filter((o) => o.kind === "CustomResourceDefinition")
      .map((o) => {
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
