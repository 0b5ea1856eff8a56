/** Secret redaction for diffs and server messages, on top of the one redactor in src/core/redact.ts. */
import { isSecretObject as isSecret, redactObject as redact, REDACTED, scrubText, secretValuesOf } from "../core/redact.js";
import type { KObject } from "./client.js";

/**
 * Redact a live/desired pair for diffing, keeping the fact that a value changed visible
 * (kubectl's convention: the marker when equal, `<marker> (before)` / `<marker> (after)` when different).
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
  return scrubText(message, secretValuesOf(objects, 4));
}
