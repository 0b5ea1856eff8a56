/**
 * Checks across the parts of one component that the catalog's CUE can only report from
 * deep inside a transformer's output (`undefined field: expose`): a trait that needs
 * another, a port name that does not exist, autoscaling on a workload that cannot scale.
 * Each problem names the component's field and the `file:line` of the part that set it.
 */
import type { Issue, SourceLocation } from "../src/core/errors.js";
import { isConcrete, isRef } from "./refs.js";

const T = "opm.dev/catalog/traits/";
const EXPOSE = `${T}expose@v1`;

/** Traits whose transformer reads another trait's spec: FQN → [spec key it needs, the trait's name]. */
const NEEDS: Record<string, { name: string; key: string; trait: string; what: string }> = {
  [`${T}ingress@v1`]: { name: "Ingress", key: "expose", trait: "Expose", what: "an Ingress routes to the Service that Expose makes" },
  [`${T}http-route@v1`]: { name: "HttpRoute", key: "expose", trait: "Expose", what: "an HTTPRoute routes to the Service that Expose makes" },
};

/** The workload types a HorizontalPodAutoscaler can target. */
const SCALABLE = new Set(["stateless", "stateful"]);
const WORKLOAD_TYPE = "core.opmodel.dev/workload-type";

export interface SpecEntry {
  value: unknown;
  site?: SourceLocation;
  /** The FQN of the part that set it. */
  fqn?: string;
}

/** A plain object the author wrote (not a reference a release fills in). */
const obj = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === "object" && !Array.isArray(v) && !isRef(v) ? (v as Record<string, unknown>) : undefined;
const str = (v: unknown): string | undefined => (typeof v === "string" && isConcrete(v) ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Every cross-part problem of the component `name` (base path `components.<name>`). */
export function checkComponent(
  name: string,
  spec: ReadonlyMap<string, SpecEntry>,
  fqns: ReadonlySet<string>,
  labels: Readonly<Record<string, string>>,
  site?: SourceLocation,
): Issue[] {
  const base = `components.${name}.spec`;
  const issues: Issue[] = [];
  const at = (e: SpecEntry | undefined) => {
    const s = e?.site ?? site;
    return s ? { source: s } : {};
  };
  // The container's port names, when the author wrote them out (not when they come from a reference).
  const container = obj(spec.get("container")?.value);
  const containerPorts = container ? (container.ports === undefined ? {} : obj(container.ports)) : undefined;
  const exposed = obj(obj(spec.get("expose")?.value)?.ports);

  // A trait whose transformer needs another trait's spec.
  for (const [fqn, need] of Object.entries(NEEDS)) {
    if (!fqns.has(fqn) || spec.has(need.key)) continue;
    const key = [...spec.entries()].find(([, e]) => e.fqn === fqn)?.[0] ?? fqn;
    issues.push({
      code: "required",
      path: `${base}.${key}`,
      message: `component "${name}" has the ${need.name} trait but no ${need.trait} trait (spec.${need.key}): ${need.what}; add .with(${need.trait}({ ports: { ... } }))`,
      constraint: `needs ${EXPOSE}`,
      ...at(spec.get(key)),
    });
  }

  // Port names must name a port that exists.
  const portRef = (path: string, port: unknown, have: Record<string, unknown> | undefined, haveWhat: string, e: SpecEntry | undefined) => {
    const p = str(port);
    if (p === undefined || !have || p in have) return;
    const names = Object.keys(have);
    issues.push({
      code: "missing_key",
      path,
      message: `port "${p}" is not a port of ${haveWhat} (${names.length ? `it has ${names.map((n) => JSON.stringify(n)).join(", ")}` : "it has none"})`,
      constraint: names.length ? names.map((n) => JSON.stringify(n)).join(" | ") : "no ports",
      ...at(e),
    });
  };
  const ingress = spec.get("ingress");
  for (const [i, p] of list(obj(ingress?.value)?.paths).entries())
    portRef(`${base}.ingress.paths.${i}.port`, obj(p)?.port, exposed, "spec.expose.ports", ingress);
  const route = spec.get("httpRoute");
  for (const [i, r] of list(obj(route?.value)?.rules).entries())
    portRef(`${base}.httpRoute.rules.${i}.port`, obj(r)?.port, exposed, "spec.expose.ports", route);
  if (exposed) {
    const e = spec.get("expose");
    for (const n of Object.keys(exposed)) portRef(`${base}.expose.ports.${n}`, n, containerPorts, "the container (spec.container.ports)", e);
  }
  const health = spec.get("healthCheck");
  for (const probe of ["liveness", "readiness", "startup"]) {
    const pr = obj(obj(health?.value)?.[probe]);
    for (const how of ["httpGet", "tcpSocket"]) {
      const port = obj(pr?.[how])?.port;
      if (typeof port === "string") portRef(`${base}.healthCheck.${probe}.${how}.port`, port, containerPorts, "the container (spec.container.ports)", health);
    }
  }

  // Autoscaling needs a workload an autoscaler can target.
  const scaling = spec.get("scaling");
  const type = labels[WORKLOAD_TYPE];
  if (scaling && type !== undefined && !SCALABLE.has(type)) {
    const auto = obj(scaling.value)?.auto !== undefined;
    issues.push({
      code: "not_applicable",
      path: `${base}.scaling${auto ? ".auto" : ""}`,
      message: auto
        ? `component "${name}" is a ${type} workload, which a HorizontalPodAutoscaler cannot scale (only stateless and stateful workloads can autoscale)`
        : `component "${name}" is a ${type} workload, which has no replica count to scale (Scaling applies to stateless and stateful workloads)`,
      constraint: `${WORKLOAD_TYPE}: ${[...SCALABLE].join(" | ")}`,
      ...at(scaling),
    });
  }
  // Autoscaling bounds in order.
  const auto = obj(obj(scaling?.value)?.auto);
  if (auto && typeof auto.min === "number" && typeof auto.max === "number" && auto.min > auto.max) {
    issues.push({
      code: "out_of_range",
      path: `${base}.scaling.auto.max`,
      message: `auto.max ${auto.max} is less than auto.min ${auto.min}`,
      constraint: `>=${auto.min}`,
      ...at(scaling),
    });
  }

  // Environment variable names Kubernetes accepts.
  const env = obj(container?.env);
  for (const k of Object.keys(env ?? {})) {
    if (!ENV_NAME.test(k)) {
      issues.push({
        code: "invalid_name",
        path: `${base}.container.env.${k}`,
        message: `${JSON.stringify(k)} is not a valid environment variable name (letters, digits, '_', '-' and '.', not starting with a digit)`,
        constraint: ENV_NAME.source,
        ...at(spec.get("container")),
      });
    }
  }

  // Each field of a cron schedule in its range.
  const cron = spec.get("cronJobConfig");
  const schedule = str(obj(cron?.value)?.schedule);
  if (schedule !== undefined) {
    for (const problem of cronProblems(schedule))
      issues.push({
        code: "out_of_range",
        path: `${base}.cronJobConfig.schedule`,
        message: `${JSON.stringify(schedule)}: ${problem}`,
        constraint: "minute 0-59, hour 0-23, day 1-31, month 1-12, weekday 0-7",
        ...at(cron),
      });
  }
  return issues;
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const CRON_FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31, any: true },
  { name: "month", min: 1, max: 12, names: MONTHS, base: 1 },
  { name: "day of week", min: 0, max: 7, names: DAYS, base: 0, any: true },
] as const;

/** What is wrong with each field of a five-field cron schedule (the same rules as the catalog's #CronJobConfig). */
export function cronProblems(schedule: string): string[] {
  if (/^@[a-z]+$/.test(schedule)) return [];
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) return []; // the catalog's pattern reports the shape
  const out: string[] = [];
  fields.forEach((f, i) => {
    const spec = CRON_FIELDS[i]!;
    const value = (v: string): number | undefined => {
      const names = "names" in spec ? (spec.names as readonly string[]) : undefined;
      const n = names?.indexOf(v.toLowerCase()) ?? -1;
      if (n >= 0) return n + ("base" in spec ? spec.base : 0);
      return /^\d+$/.test(v) ? Number(v) : undefined;
    };
    for (const item of f.split(",")) {
      const [range, step] = item.split("/");
      if (step !== undefined && !/^\d+$/.test(step)) {
        out.push(`${spec.name} "${item}": the step must be a number`);
        continue;
      }
      if (range === "*" || ("any" in spec && range === "?")) continue;
      const ends = range!.split("-");
      if (ends.length > 2) {
        out.push(`${spec.name} "${item}" is not a value or a range`);
        continue;
      }
      for (const e of ends) {
        const n = value(e);
        if (n === undefined) out.push(`${spec.name} "${e}" is not a number${"names" in spec ? " or a name" : ""}`);
        else if (n < spec.min || n > spec.max) out.push(`${spec.name} ${n} is out of range ${spec.min}-${spec.max}`);
      }
    }
  });
  return out;
}
