/**
 * Validates rendered objects against the Kubernetes schemas (kubernetes-models), with a
 * minimal structural check for the CRD kinds the package does not know (Gateway API
 * HTTPRoute, External Secrets ExternalSecret). Errors are returned as data.
 */
import * as models from "kubernetes-models";

export interface K8sValidationError {
  kind: string;
  name: string;
  path: string;
  message: string;
}

interface Obj {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string };
  [k: string]: unknown;
}

type Ctor = new (o: unknown) => { validate(): void };

/** The barrel nests classes by group (camel-cased: `networking.k8s.io` → `networkingK8sIo`) and version; the core group is `v1`. */
function findClass(apiVersion: string, kind: string): Ctor | undefined {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const barrel = models as unknown as Record<string, Record<string, Record<string, Ctor>> | undefined>;
  const key = group!
    .split(".")
    .map((p, i) => (i === 0 ? p : p.charAt(0).toUpperCase() + p.slice(1)))
    .join("");
  const byGroup = group ? barrel[key] : undefined;
  const ns = (group ? byGroup?.[version!] : (barrel[version!] as unknown as Record<string, Ctor> | undefined)) as Record<string, Ctor> | undefined;
  return ns?.[kind];
}

function err(o: Obj, path: string, message: string): K8sValidationError {
  return { kind: o.kind, name: o.metadata?.name ?? "?", path, message };
}

const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function structural(o: Obj): K8sValidationError[] {
  const out: K8sValidationError[] = [];
  const spec = o.spec as Record<string, unknown> | undefined;
  if (!o.metadata?.name || !DNS1123.test(o.metadata.name)) out.push(err(o, "metadata.name", "must be a DNS-1123 label"));
  if (!spec || typeof spec !== "object") return [...out, err(o, "spec", "is required")];
  if (o.kind === "HTTPRoute" && o.apiVersion.startsWith("gateway.networking.k8s.io/")) {
    const parents = spec.parentRefs;
    if (!Array.isArray(parents) || !parents.length) out.push(err(o, "spec.parentRefs", "must list at least one parent"));
    else
      for (const [i, p] of (parents as { name?: unknown }[]).entries())
        if (typeof p.name !== "string") out.push(err(o, `spec.parentRefs.${i}.name`, "must be a string"));
    const rules = spec.rules;
    if (!Array.isArray(rules)) out.push(err(o, "spec.rules", "must be a list"));
    else
      rules.forEach((r: { backendRefs?: { name?: unknown; port?: unknown }[]; matches?: { path?: { type?: unknown; value?: unknown } }[] }, i) => {
        for (const [j, b] of (r.backendRefs ?? []).entries()) {
          if (typeof b.name !== "string") out.push(err(o, `spec.rules.${i}.backendRefs.${j}.name`, "must be a string"));
          if (!Number.isInteger(b.port) || (b.port as number) < 1 || (b.port as number) > 65535)
            out.push(err(o, `spec.rules.${i}.backendRefs.${j}.port`, "must be a port number"));
        }
        for (const [j, m] of (r.matches ?? []).entries()) {
          if (m.path && !["Exact", "PathPrefix", "RegularExpression"].includes(m.path.type as string))
            out.push(err(o, `spec.rules.${i}.matches.${j}.path.type`, "must be Exact, PathPrefix or RegularExpression"));
        }
      });
  } else if (o.kind === "ExternalSecret") {
    if (!spec.secretStoreRef) out.push(err(o, "spec.secretStoreRef", "is required"));
    if (!spec.target) out.push(err(o, "spec.target", "is required"));
  } else {
    out.push(err(o, "", `no schema for ${o.apiVersion} ${o.kind}`));
  }
  return out;
}

/** Validates every object; returns all problems (empty when every object is valid). */
export function validateObjects(objects: readonly Obj[]): K8sValidationError[] {
  const errors: K8sValidationError[] = [];
  for (const o of objects) {
    const Cls = findClass(o.apiVersion, o.kind);
    if (!Cls) {
      errors.push(...structural(o));
      continue;
    }
    try {
      new Cls(o).validate();
    } catch (e) {
      const details = (e as { errors?: { instancePath?: string; message?: string; params?: unknown }[] }).errors;
      if (details?.length) {
        for (const d of details)
          errors.push(
            err(o, (d.instancePath ?? "").replace(/^\//, "").replace(/\//g, "."), `${d.message ?? "invalid"}${d.params ? " " + JSON.stringify(d.params) : ""}`),
          );
      } else errors.push(err(o, "", (e as Error).message));
    }
  }
  return errors;
}

/** One line per error, for assertion messages. */
export function formatValidationErrors(errors: readonly K8sValidationError[]): string {
  return errors.map((e) => `${e.kind}/${e.name} ${e.path || "(root)"}: ${e.message}`).join("\n");
}
