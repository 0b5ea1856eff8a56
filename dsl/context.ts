import type { Issue, SourceLocation } from "../src/core/errors.js";
import { makeRef, refsIn, type Ref } from "./refs.js";
import type { Component } from "./component.js";
import { callSite } from "./source.js";

/**
 * The names a release gives another component's objects, as typed references. Each
 * compiles to a CUE reference into the component's `#names` (or, for a port, its spec),
 * so it follows the release name, namespace and cluster domain wherever it is used.
 */
export interface ComponentRef {
  /** `<release>-<component>`: the name of its Deployment/StatefulSet/Service/... */
  readonly name: Ref<string>;
  /** DNS names of its Service. */
  readonly dns: {
    /** `<service>`: resolves from the same namespace. */
    readonly short: Ref<string>;
    /** `<service>.<namespace>`: resolves from any namespace of the cluster. */
    readonly namespaced: Ref<string>;
    /** `<service>.<namespace>.svc.<cluster domain>`. */
    readonly fqdn: Ref<string>;
  };
  /** Its Service (the component must have the Expose trait to have one). */
  readonly service: {
    /** The Service's name. */
    readonly name: Ref<string>;
    /** The fully qualified host name of the Service (`dns.fqdn`). */
    readonly host: Ref<string>;
    /** The Service port of an exposed port, by name (`Expose({ ports: { <name>: ... } })`). */
    port(name: string): Ref<number>;
  };
  /** The name of one of its Secrets (`Secrets({ <key>: ... })`), with the content hash when immutable. */
  secret(key: string): Ref<string>;
  /** The name of one of its ConfigMaps (`ConfigMaps({ <key>: ... })`), with the content hash when immutable. */
  configMap(key: string): Ref<string>;
}

/**
 * What a module's components may refer to besides the config: the release that deploys
 * them and the other components. Every field is a typed reference, filled in per release.
 */
export interface ModuleContext {
  readonly release: {
    /** The release name (`--name`). */
    readonly name: Ref<string>;
    /** The release namespace (`-n`). */
    readonly namespace: Ref<string>;
    /** The cluster DNS domain (`--cluster-domain`, default `cluster.local`). */
    readonly clusterDomain: Ref<string>;
  };
  readonly module: {
    readonly name: Ref<string>;
    readonly version: Ref<string>;
  };
  /** The module's components by name: `ctx.components.db.service.host`. */
  readonly components: { readonly [name: string]: ComponentRef };
}

/** Where a component reference was made (for errors about it). */
const sites = new WeakMap<object, SourceLocation>();

function componentRef(name: string): ComponentRef {
  const site = callSite();
  const ref = <T>(...path: string[]): Ref<T> => {
    const r = makeRef<T>("#components", [name, ...path]);
    if (site) sites.set(r, site);
    return r;
  };
  return Object.freeze({
    name: ref<string>("#names", "resource"),
    dns: Object.freeze({
      short: ref<string>("#names", "dns", "short"),
      namespaced: ref<string>("#names", "dns", "namespaced"),
      fqdn: ref<string>("#names", "dns", "fqdn"),
    }),
    service: Object.freeze({
      name: ref<string>("#names", "service"),
      host: ref<string>("#names", "dns", "fqdn"),
      port: (port: string) => ref<number>("spec", "expose", "ports", port, "exposedPort"),
    }),
    secret: (key: string) => ref<string>("#names", "secrets", key),
    configMap: (key: string) => ref<string>("#names", "configMaps", key),
  });
}

/** The context handed to a module's `components` function. */
export function moduleContext(): ModuleContext {
  const cache = new Map<string, ComponentRef>();
  const components = new Proxy({} as { [name: string]: ComponentRef }, {
    get(_, key) {
      if (typeof key !== "string") return undefined;
      if (!cache.has(key)) cache.set(key, componentRef(key));
      return cache.get(key);
    },
  });
  return Object.freeze({
    release: Object.freeze({
      name: makeRef<string>("#context", ["release", "name"]),
      namespace: makeRef<string>("#context", ["release", "namespace"]),
      clusterDomain: makeRef<string>("#context", ["clusterDomain"]),
    }),
    module: Object.freeze({ name: makeRef<string>("#context", ["module", "name"]), version: makeRef<string>("#context", ["module", "version"]) }),
    components,
  });
}

/** A reference from one component to another found in its spec. */
interface Edge {
  from: string;
  to: string;
  /** True when it needs a rendered value of `to` (a port), not only names. */
  rendered: boolean;
  site?: SourceLocation;
  what: string;
}

function plain(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && refsIn(v).length === 0;
}

/** The keys a component's part has under `specKey` (undefined when they are not known in TypeScript). */
function keysOf(c: Component, specKey: string, sub?: string): { keys: string[]; immutable: Set<string> } | undefined {
  for (const p of c.parts) {
    let v = (p.spec as Record<string, unknown>)[specKey];
    if (v === undefined) continue;
    if (sub) v = plain(v) ? v[sub] : undefined;
    if (!plain(v)) return undefined;
    const immutable = new Set(
      Object.entries(v)
        .filter(([, x]) => plain(x) && x.immutable !== false && x.immutable !== undefined)
        .map(([k]) => k),
    );
    return { keys: Object.keys(v), immutable };
  }
  return { keys: [], immutable: new Set() };
}

/**
 * Checks the references between components: each names a component of the module, a
 * port it exposes, a Secret or ConfigMap it has; and no components need each other's
 * rendered values in a cycle (names are known without rendering, so referring to each
 * other's names is fine).
 */
export function checkComponentRefs(components: Readonly<Record<string, Component>>): Issue[] {
  const issues: Issue[] = [];
  const edges: Edge[] = [];
  const names = Object.keys(components);
  for (const [from, c] of Object.entries(components)) {
    for (const r of c.parts.flatMap((p) => refsIn(p.spec))) {
      if (r.root !== "#components") continue;
      const [to, kind, ...rest] = r.path as [string, string, ...string[]];
      const site = sites.get(r) ?? c.site;
      const at = site ? { source: site } : {};
      const target = components[to];
      const path = `components.${from}`;
      if (!target) {
        issues.push({
          code: "unknown_reference",
          path,
          message: `component "${from}" refers to component "${to}", which the module does not have (it has ${names.join(", ")})`,
          ...at,
        });
        continue;
      }
      let rendered = false;
      let what = rest.join(".");
      if (kind === "spec") {
        const port = rest[2]!;
        what = `port ${port}`;
        const ports = keysOf(target, "expose", "ports");
        if (ports && !ports.keys.includes(port)) {
          issues.push({
            code: "unknown_reference",
            path,
            message: `component "${from}" refers to port "${port}" of component "${to}", which ${ports.keys.length ? `exposes only ${ports.keys.join(", ")}` : "exposes no ports (add the Expose trait)"}`,
            ...at,
          });
          continue;
        }
        rendered = true;
      } else if (rest[0] === "secrets" || rest[0] === "configMaps") {
        const key = rest[1]!;
        const kindName = rest[0] === "secrets" ? "Secret" : "ConfigMap";
        const have = keysOf(target, rest[0]);
        what = `${kindName} ${key}`;
        if (have && !have.keys.includes(key)) {
          issues.push({
            code: "unknown_reference",
            path,
            message: `component "${from}" refers to ${kindName} "${key}" of component "${to}", which has ${have.keys.length ? `only ${have.keys.join(", ")}` : `no ${kindName}s`}`,
            ...at,
          });
          continue;
        }
        // An immutable one is named by its content hash: a rendered value.
        rendered = !have || have.immutable.has(key);
      }
      if (to !== from) edges.push({ from, to, rendered, what, ...(site ? { site } : {}) });
    }
  }
  issues.push(...renderedCycles(edges));
  return issues;
}

/** Cycles among references that need rendered values (a component needing its own is fine). */
function renderedCycles(edges: Edge[]): Issue[] {
  const out = new Map<string, Edge[]>();
  for (const e of edges.filter((x) => x.rendered)) out.set(e.from, [...(out.get(e.from) ?? []), e]);
  const issues: Issue[] = [];
  const reported = new Set<string>();
  const visit = (node: string, path: Edge[], onPath: Set<string>) => {
    for (const e of out.get(node) ?? []) {
      if (onPath.has(e.to)) {
        const cycle = [...path.slice(path.findIndex((s) => s.from === e.to)), e];
        const key = cycle
          .map((c) => c.from)
          .sort()
          .join(",");
        if (reported.has(key)) continue;
        reported.add(key);
        const chain = cycle.map((c) => `${c.from} → ${c.to} (${c.what})`).join(", ");
        issues.push({
          code: "cycle",
          path: `components.${cycle[0]!.from}`,
          message: `components ${cycle.map((c) => c.from).join(" → ")} → ${cycle[0]!.from} need each other's rendered values in a cycle: ${chain}. Refer to names (name, dns, service.host) in one direction instead: they are known without rendering`,
          ...(cycle[0]!.site ? { source: cycle[0]!.site } : {}),
        });
        continue;
      }
      onPath.add(e.to);
      visit(e.to, [...path, e], onPath);
      onPath.delete(e.to);
    }
  };
  for (const start of [...out.keys()].sort()) visit(start, [], new Set([start]));
  return issues;
}
