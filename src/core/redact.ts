/**
 * The project's one redaction marker and redactor. Secret values never leave the process in
 * output, logs, errors or diffs: objects are redacted with {@link redactObject}, free text
 * (engine messages, server errors, policy messages) with {@link scrubText}.
 */

/** What every redacted secret value is replaced with, everywhere. */
export const REDACTED = "<redacted>";

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/** The one way to recognise a Kubernetes Secret object: kind `Secret`, core API group (`v1`, or no `apiVersion` given). */
export function isSecretObject(o: { kind?: unknown; apiVersion?: unknown } | undefined | null): boolean {
  return !!o && o.kind === "Secret" && (o.apiVersion === undefined || o.apiVersion === "v1");
}

/**
 * A copy of a Secret with every `data`/`stringData` value (and a kubectl last-applied
 * annotation, which repeats them) replaced by {@link REDACTED}; other objects are returned as is.
 */
export function redactObject<T extends { kind?: unknown; apiVersion?: unknown } | undefined>(o: T): T {
  if (!o || !isSecretObject(o)) return o;
  const copy = { ...(o as Record<string, unknown>) };
  for (const k of ["data", "stringData"]) {
    const d = copy[k];
    if (d && typeof d === "object") copy[k] = Object.fromEntries(Object.keys(d).map((key) => [key, REDACTED]));
  }
  const md = copy.metadata as Record<string, unknown> | undefined;
  const ann = md?.annotations as Record<string, string> | undefined;
  if (ann?.[LAST_APPLIED]) copy.metadata = { ...md, annotations: { ...ann, [LAST_APPLIED]: REDACTED } };
  return copy as T;
}

/** Replaces every occurrence of each secret value, its base64 form and its JSON-escaped form in a text. */
export function scrubText(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const s of secrets) {
    if (!s) continue;
    for (const form of [s, Buffer.from(s).toString("base64"), JSON.stringify(s).slice(1, -1)]) out = out.split(form).join(REDACTED);
  }
  return out;
}

/**
 * The plain secret values held by the Secrets among some objects (`data` decoded from base64,
 * `stringData` as is), for {@link scrubText}. Values shorter than `minLength` are left out.
 */
export function secretValuesOf(objects: Iterable<{ kind?: unknown; apiVersion?: unknown; [k: string]: unknown }>, minLength = 0): string[] {
  const out: string[] = [];
  for (const o of objects) {
    if (!isSecretObject(o)) continue;
    for (const k of ["data", "stringData"]) {
      const d = o[k] as Record<string, unknown> | undefined;
      if (!d || typeof d !== "object") continue;
      for (const v of Object.values(d)) {
        if (typeof v !== "string") continue;
        const plain = k === "data" ? Buffer.from(v, "base64").toString("utf8") : v;
        if (plain.length >= minLength) out.push(plain);
        // A value that is not valid base64 is scrubbed as written, too.
        if (k === "data" && v.length >= minLength && Buffer.from(plain).toString("base64") !== v) out.push(v);
      }
    }
  }
  return out;
}
