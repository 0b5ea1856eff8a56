import { stringify } from "yaml";
import type { K8sObject } from "./types.js";
import { isSecretObject, redactObject } from "../core/redact.js";

const FIRST = ["apiVersion", "kind", "metadata"];
const META_FIRST = ["name", "generateName", "namespace", "labels", "annotations"];

function order(obj: Record<string, unknown>, first: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of first) if (k in obj) out[k] = obj[k];
  for (const k of Object.keys(obj)) if (!(k in out)) out[k] = obj[k];
  return out;
}

/** Puts `apiVersion, kind, metadata` first (and name, namespace, labels first in metadata). */
export function canonicalObject(o: K8sObject): K8sObject {
  const top = order(o as unknown as Record<string, unknown>, FIRST);
  if (top.metadata && typeof top.metadata === "object") top.metadata = order(top.metadata as Record<string, unknown>, META_FIRST);
  return top as K8sObject;
}

/** Multi-document YAML with pinned options: byte-identical for equal input. */
export function toYaml(objects: readonly K8sObject[]): string {
  return objects
    .map(
      (o) =>
        "---\n" +
        stringify(canonicalObject(o), {
          indent: 2,
          lineWidth: 0,
          minContentWidth: 0,
          sortMapEntries: false,
          aliasDuplicateObjects: false,
          defaultStringType: "PLAIN",
          defaultKeyType: "PLAIN",
          version: "1.2",
        }),
    )
    .join("");
}

/** The objects as printed: Secrets redacted (unless `showSecrets`) or left out (`excludeSecrets`). */
export function forOutput(objects: readonly K8sObject[], o: { showSecrets?: boolean; excludeSecrets?: boolean } = {}): K8sObject[] {
  const kept = o.excludeSecrets ? objects.filter((x) => !isSecretObject(x)) : objects;
  return o.showSecrets ? [...kept] : kept.map((x) => redactObject(x));
}

/** A kubectl-compatible `v1` `List` of the objects, as pretty JSON with a trailing newline. */
export function toJsonList(objects: readonly K8sObject[]): string {
  return toJson({ apiVersion: "v1", kind: "List", items: objects.map(canonicalObject) });
}

/** Pretty JSON (two spaces), with a trailing newline. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

/** JSON with object keys sorted at every level: the input of digests. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}
