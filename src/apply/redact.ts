/** Secret redaction: secret values never leave this process in errors, logs or diffs. */
import type { KObject } from "./client.js";

export const REDACTED = "***";

function isSecret(o: { kind?: string } | undefined): boolean {
  return o?.kind === "Secret";
}

/** A copy of `o` with Secret `data`/`stringData` values replaced by `***`. Other kinds are returned as is. */
export function redact<T extends { kind?: string } | undefined>(o: T): T {
  if (!o || !isSecret(o)) return o;
  const copy = { ...(o as Record<string, unknown>) };
  for (const k of ["data", "stringData"]) {
    const d = copy[k];
    if (d && typeof d === "object") copy[k] = Object.fromEntries(Object.keys(d).map((key) => [key, REDACTED]));
  }
  const md = copy.metadata as Record<string, unknown> | undefined;
  const ann = md?.annotations as Record<string, string> | undefined;
  if (ann?.["kubectl.kubernetes.io/last-applied-configuration"]) {
    copy.metadata = { ...md, annotations: { ...ann, "kubectl.kubernetes.io/last-applied-configuration": REDACTED } };
  }
  return copy as T;
}

/**
 * Redact a live/desired pair for diffing, keeping the fact that a value changed visible
 * (kubectl's convention: `***` when equal, `*** (before)` / `*** (after)` when different).
 */
export function redactPair(live: KObject | undefined, desired: KObject | undefined): [KObject | undefined, KObject | undefined] {
  if (!isSecret(live) && !isSecret(desired)) return [live, desired];
  const out: [Record<string, unknown> | undefined, Record<string, unknown> | undefined] = [
    live ? { ...(redact(live) as Record<string, unknown>) } : undefined,
    desired ? { ...(redact(desired) as Record<string, unknown>) } : undefined,
  ];
  for (const k of ["data", "stringData"]) {
    const a = (live as Record<string, unknown> | undefined)?.[k] as Record<string, unknown> | undefined;
    const b = (desired as Record<string, unknown> | undefined)?.[k] as Record<string, unknown> | undefined;
    if (!a || !b) continue;
    const ra: Record<string, string> = {};
    const rb: Record<string, string> = {};
    for (const key of Object.keys(a)) ra[key] = key in b && a[key] === b[key] ? REDACTED : `${REDACTED} (before)`;
    for (const key of Object.keys(b)) rb[key] = key in a && a[key] === b[key] ? REDACTED : `${REDACTED} (after)`;
    out[0]![k] = ra;
    out[1]![k] = rb;
  }
  return out as [KObject | undefined, KObject | undefined];
}

/** Remove every occurrence of known secret values from a free-form message (server errors echo input). */
export function scrubMessage(message: string, objects: Iterable<{ kind?: string; [k: string]: unknown }>): string {
  let m = message;
  for (const o of objects) {
    if (!isSecret(o)) continue;
    for (const k of ["data", "stringData"]) {
      const d = o[k] as Record<string, unknown> | undefined;
      if (!d) continue;
      for (const v of Object.values(d)) {
        if (typeof v !== "string" || v.length < 4) continue;
        m = m.split(v).join(REDACTED);
        if (k === "data") {
          try {
            const plain = Buffer.from(v, "base64").toString("utf8");
            if (plain.length >= 4) m = m.split(plain).join(REDACTED);
          } catch {
            /* not base64 */
          }
        } else {
          m = m.split(Buffer.from(v).toString("base64")).join(REDACTED);
        }
      }
    }
  }
  return m;
}
