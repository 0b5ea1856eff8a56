/**
 * Checks on rendered objects for what the Kubernetes API server would reject (or what would
 * break at run time) and the catalog's schemas cannot see: a name too long for its kind once
 * the release name is prefixed, and label or annotation keys and values over Kubernetes'
 * limits. Each problem names the object, the field and the component that made it.
 */
import type { Issue, SourceLocation } from "../core/errors.js";
import type { K8sObject } from "./types.js";

/**
 * The longest name a kind may have. Services and Namespaces are DNS labels (63). A CronJob's
 * name is at most 52 (its Jobs append 11 characters, and a Job's name is a label value); a
 * StatefulSet's too (its pods carry a `controller-revision-hash` label of the name plus a
 * 10-character hash, at most 63). Jobs: 63 (the `job-name` label). Everything else is a DNS
 * subdomain (253).
 */
const MAX_NAME: Record<string, number> = { Service: 63, Namespace: 63, Job: 63, CronJob: 52, StatefulSet: 52 };
const DNS_SUBDOMAIN = 253;

const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const ANNOTATIONS_TOTAL = 256 * 1024;

/** Why a label or annotation key is invalid, or undefined. */
export function keyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (!prefix.length || prefix.length > DNS_SUBDOMAIN || !SUBDOMAIN.test(prefix)))
    return `the prefix "${prefix}" is not a DNS subdomain of at most 253 characters`;
  if (!name.length || name.length > 63) return `the name part is ${name.length} characters (1 to 63 allowed)`;
  if (!NAME_PART.test(name)) return "the name part must be alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric";
  return undefined;
}

/** Why a label value is invalid, or undefined. */
export function labelValueProblem(value: string): string | undefined {
  if (value === "") return undefined;
  if (value.length > 63) return `the value is ${value.length} characters (at most 63)`;
  if (!NAME_PART.test(value)) return "the value must be alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric";
  return undefined;
}

/** Every problem of the rendered objects; `site` finds the author's line of a component. */
export function checkObjects(objects: readonly { component: string; object: K8sObject }[], site: (component: string) => SourceLocation | undefined): Issue[] {
  const issues: Issue[] = [];
  for (const { component, object: o } of objects) {
    const source = component ? site(component) : undefined;
    const at = source ? { source } : {};
    const id = `${o.kind}/${o.metadata.name}`;
    const by = component ? ` (made for component "${component}")` : "";
    const max = MAX_NAME[o.kind] ?? DNS_SUBDOMAIN;
    if (typeof o.metadata.name === "string" && o.metadata.name.length > max) {
      issues.push({
        code: "invalid_name",
        path: `${id}.metadata.name`,
        message: `the name of ${o.kind} "${o.metadata.name}"${by} is ${o.metadata.name.length} characters; a ${o.kind} name may have at most ${max}: use a shorter release or component name`,
        constraint: `len <= ${max}`,
        ...at,
      });
    }
    const metas: [string, { labels?: Record<string, string>; annotations?: Record<string, string> } | undefined][] = [["metadata", o.metadata]];
    const spec = (o as Record<string, any>).spec;
    if (spec?.template?.metadata) metas.push(["spec.template.metadata", spec.template.metadata]);
    if (spec?.jobTemplate?.spec?.template?.metadata) metas.push(["spec.jobTemplate.spec.template.metadata", spec.jobTemplate.spec.template.metadata]);
    for (const [where, m] of metas) {
      for (const [k, v] of Object.entries(m?.labels ?? {})) {
        const problem = keyProblem(k) ?? (typeof v === "string" ? labelValueProblem(v) : "the value is not a string");
        if (problem)
          issues.push({
            code: "invalid_name",
            path: `${id}.${where}.labels.${k}`,
            message: `label ${JSON.stringify(k)} of ${id}${by}: ${problem}`,
            constraint: "Kubernetes label syntax",
            ...at,
          });
      }
      let total = 0;
      for (const [k, v] of Object.entries(m?.annotations ?? {})) {
        total += k.length + (typeof v === "string" ? Buffer.byteLength(v) : 0);
        const problem = keyProblem(k);
        if (problem)
          issues.push({
            code: "invalid_name",
            path: `${id}.${where}.annotations.${k}`,
            message: `annotation key ${JSON.stringify(k)} of ${id}${by}: ${problem}`,
            constraint: "Kubernetes annotation key syntax",
            ...at,
          });
      }
      if (total > ANNOTATIONS_TOTAL) {
        issues.push({
          code: "out_of_range",
          path: `${id}.${where}.annotations`,
          message: `the annotations of ${id}${by} total ${total} bytes; Kubernetes allows at most ${ANNOTATIONS_TOTAL}`,
          constraint: `<= ${ANNOTATIONS_TOTAL} bytes`,
          ...at,
        });
      }
    }
  }
  return issues;
}
