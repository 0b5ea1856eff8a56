/**
 * Size limits: hostile or oversized input fails fast with a clear error instead of running
 * the CUE engine into its timeout. The figures follow Kubernetes: a ConfigMap's or Secret's
 * data holds at most 1 MiB, and the API server (etcd) takes requests of at most 1.5 MiB.
 * docs/modules.md ("Limits") lists them.
 */
import type { Issue, SourceLocation } from "../core/errors.js";
import type { Provenance } from "../../dsl/config.js";
import type { K8sObject } from "./types.js";

const MiB = 1024 * 1024;

export const LIMITS = Object.freeze({
  /** Largest values file read (bytes). */
  valuesFileBytes: 1 * MiB,
  /** Most YAML alias expansions in one values file (the yaml library's `maxAliasCount`). */
  yamlAliases: 100,
  /** Largest release values, as JSON (bytes): they must fit in the objects they render. */
  valuesBytes: 1 * MiB,
  /** Longest single string value (bytes): a ConfigMap's or Secret's data cannot hold more. */
  stringBytes: 1 * MiB,
  /** Largest `data` + `binaryData` (+ `stringData`) of one ConfigMap or Secret (bytes). */
  configDataBytes: 1 * MiB,
  /** Largest rendered object, as JSON (bytes): the API server's request limit. */
  objectBytes: 1.5 * MiB,
});

/** `1.2 MiB`, `300 KiB`, `12 bytes`. */
export function formatBytes(n: number): string {
  if (n >= MiB) return `${(n / MiB).toFixed(n % MiB ? 1 : 0)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(n % 1024 ? 1 : 0)} KiB`;
  return `${n} bytes`;
}

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

/** Every string in the values longer than the limit, and the values as a whole if too large. */
export function checkValuesSize(values: Record<string, unknown>, provenance: Provenance): Issue[] {
  const issues: Issue[] = [];
  const at = (p: string[]): { source?: SourceLocation } => {
    for (let n = p.length; n > 0; n--) {
      const s = provenance(p.slice(0, n));
      if (s) return { source: s };
    }
    return {};
  };
  const walk = (v: unknown, p: string[]) => {
    if (typeof v === "string") {
      const n = bytes(v);
      if (n > LIMITS.stringBytes) {
        issues.push({
          code: "out_of_range",
          path: ["values", ...p].join("."),
          message: `a string of ${formatBytes(n)} is longer than any ConfigMap or Secret can hold (${formatBytes(LIMITS.configDataBytes)} of data); mount large files from a volume or an image instead`,
          constraint: `<= ${formatBytes(LIMITS.stringBytes)}`,
          ...at(p),
        });
      }
    } else if (Array.isArray(v)) for (const [i, x] of v.entries()) walk(x, [...p, String(i)]);
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  };
  walk(values, []);
  if (!issues.length) {
    const n = bytes(JSON.stringify(values));
    if (n > LIMITS.valuesBytes) {
      issues.push({
        code: "out_of_range",
        path: "values",
        message: `the release's values are ${formatBytes(n)} as JSON; the limit is ${formatBytes(LIMITS.valuesBytes)}`,
        constraint: `<= ${formatBytes(LIMITS.valuesBytes)}`,
      });
    }
  }
  return issues;
}

/** Rendered objects Kubernetes would reject for their size. */
export function checkObjectSizes(objects: readonly K8sObject[]): Issue[] {
  const issues: Issue[] = [];
  for (const o of objects) {
    const component = o.metadata.labels?.["component.opmodel.dev/name"];
    const id = `${o.kind}/${o.metadata.name}`;
    const of = component ? ` (component ${component})` : "";
    if ((o.kind === "ConfigMap" || o.kind === "Secret") && o.apiVersion === "v1") {
      let n = 0;
      for (const key of ["data", "binaryData", "stringData"]) {
        const d = (o as Record<string, unknown>)[key];
        if (d && typeof d === "object") for (const [k, v] of Object.entries(d)) n += bytes(k) + (typeof v === "string" ? bytes(v) : 0);
      }
      if (n > LIMITS.configDataBytes) {
        issues.push({
          code: "out_of_range",
          path: id,
          message: `${o.kind} data is ${formatBytes(n)}${of}; Kubernetes accepts at most ${formatBytes(LIMITS.configDataBytes)}`,
          constraint: `<= ${formatBytes(LIMITS.configDataBytes)}`,
        });
        continue;
      }
    }
    const n = bytes(JSON.stringify(o));
    if (n > LIMITS.objectBytes) {
      issues.push({
        code: "out_of_range",
        path: id,
        message: `the object is ${formatBytes(n)}${of}; the Kubernetes API accepts at most ${formatBytes(LIMITS.objectBytes)} per request`,
        constraint: `<= ${formatBytes(LIMITS.objectBytes)}`,
      });
    }
  }
  return issues;
}
