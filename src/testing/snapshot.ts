import { redactObject as redact } from "../core/redact.js";
import { toYaml } from "../render/serialize.js";
import type { K8sObject, RenderResult } from "../render/types.js";

const isObject = (v: unknown): v is K8sObject =>
  !!v && typeof v === "object" && typeof (v as K8sObject).apiVersion === "string" && typeof (v as K8sObject).kind === "string" && !!(v as K8sObject).metadata;

const isResult = (v: unknown): v is RenderResult =>
  !!v &&
  typeof v === "object" &&
  Array.isArray((v as RenderResult).objects) &&
  typeof (v as RenderResult).digest === "string" &&
  typeof (v as RenderResult).yaml === "function";

/**
 * Deterministic YAML for a render result, one object or a list of objects, as `opm build`
 * prints it: keys in a stable order, Secret `data`/`stringData` values redacted.
 */
export function toSnapshotYaml(value: RenderResult | K8sObject | readonly K8sObject[]): string {
  const objects: readonly K8sObject[] = isResult(value) ? value.objects : Array.isArray(value) ? value : [value as K8sObject];
  return toYaml(objects.map(redact)).trimEnd();
}

/**
 * A snapshot serializer (vitest `expect.addSnapshotSerializer`, Jest `snapshotSerializers`):
 * render results, rendered objects and lists of them snapshot as `toSnapshotYaml`.
 */
export const yamlSerializer: { test(value: unknown): boolean; serialize(value: unknown): string } = {
  test: (value) => isResult(value) || isObject(value) || (Array.isArray(value) && value.length > 0 && value.every(isObject)),
  serialize: (value) => toSnapshotYaml(value as RenderResult | K8sObject | readonly K8sObject[]),
};
