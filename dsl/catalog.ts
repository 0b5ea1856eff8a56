/**
 * Typed builders for the catalog: resources, traits and blueprints.
 * Import from `opm-ts/catalog`.
 */
import { component, type Component } from "./component.js";
import { checks, runChecks } from "./check.js";
import { makePart, type Part } from "./parts.js";
import type { Input } from "./refs.js";
import { callSite } from "./source.js";

const RES = { importPath: "opm.dev/catalog/resources@v1", alias: "resources" };
const TRAITS = { importPath: "opm.dev/catalog/traits@v1", alias: "traits" };
const BLUEPRINTS = { importPath: "opm.dev/catalog/blueprints@v1", alias: "blueprints" };

export const FQN = {
  container: "opm.dev/catalog/resources/container@v1",
  scaling: "opm.dev/catalog/traits/scaling@v1",
  expose: "opm.dev/catalog/traits/expose@v1",
  statelessWorkload: "opm.dev/catalog/blueprints/stateless-workload@v1",
} as const;

export type Protocol = "TCP" | "UDP" | "SCTP";

/** The main container of a component. */
export interface ContainerSpec {
  /** Container image reference, e.g. `nginx:1.27`. */
  image: string;
  /** When to pull the image. */
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  /** Entrypoint override. */
  command?: string[];
  /** Arguments to the entrypoint. */
  args?: string[];
  /** Ports the container listens on, keyed by port name. */
  ports?: Record<string, { targetPort: number; protocol?: Protocol }>;
  /** Environment variables, keyed by name. */
  env?: Record<string, { value: string }>;
  /** Compute resources. */
  resources?: {
    requests?: { cpu?: string; memory?: string };
    limits?: { cpu?: string; memory?: string };
  };
}

/** How many replicas of a component run. */
export interface ScalingSpec {
  /** Number of replicas (0 to 1000, default 1). */
  count?: number;
}

/** Publish container ports as a Service. */
export interface ExposeSpec {
  /** Service type (default ClusterIP). */
  type?: "ClusterIP" | "NodePort" | "LoadBalancer";
  /** Ports to publish, keyed by container port name. */
  ports: Record<string, { targetPort: number; exposedPort?: number; protocol?: Protocol }>;
}

const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUANTITY = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[KMGTPE]i|[mkMGTPE])?$/;

const containerChecks = {
  imagePullPolicy: checks.oneOf(["Always", "IfNotPresent", "Never"]),
  "ports.*.targetPort": checks.intRange(1, 65535),
  "ports.*.protocol": checks.oneOf(["TCP", "UDP", "SCTP"]),
  "resources.requests.cpu": checks.pattern(QUANTITY, "a Kubernetes quantity"),
  "resources.requests.memory": checks.pattern(QUANTITY, "a Kubernetes quantity"),
  "resources.limits.cpu": checks.pattern(QUANTITY, "a Kubernetes quantity"),
  "resources.limits.memory": checks.pattern(QUANTITY, "a Kubernetes quantity"),
};

function portNameIssues(ports: unknown, path: string) {
  if (!ports || typeof ports !== "object") return [];
  return Object.keys(ports)
    .filter((k) => !PORT_NAME.test(k) || k.length > 15)
    .map((k) => ({ code: "invalid_name" as const, path: `${path}.${k}`, message: `port name "${k}" must be at most 15 lower case letters, digits and '-'`, constraint: "IANA service name" }));
}

/** Resource: a container to run (spec.container). FQN `opm.dev/catalog/resources/container@v1`. */
export function Container(spec: Input<ContainerSpec>): Part {
  return makePart({
    kind: "resource",
    fqn: FQN.container,
    cue: { ...RES, def: "#Container" },
    spec: { container: spec },
    issues: [...runChecks(spec, containerChecks, "container"), ...portNameIssues((spec as ContainerSpec).ports, "container.ports")],
    site: callSite(),
  });
}

/** Trait: how many replicas run (spec.scaling). FQN `opm.dev/catalog/traits/scaling@v1`. */
export function Scaling(spec: Input<ScalingSpec>): Part {
  return makePart({
    kind: "trait",
    fqn: FQN.scaling,
    cue: { ...TRAITS, def: "#Scaling" },
    spec: { scaling: spec },
    appliesTo: [FQN.container],
    issues: runChecks(spec, { count: checks.intRange(0, 1000) }, "scaling"),
    site: callSite(),
  });
}

/** Trait: publish ports as a Service (spec.expose). FQN `opm.dev/catalog/traits/expose@v1`. */
export function Expose(spec: Input<ExposeSpec>): Part {
  return makePart({
    kind: "trait",
    fqn: FQN.expose,
    cue: { ...TRAITS, def: "#Expose" },
    spec: { expose: spec },
    appliesTo: [FQN.container],
    issues: [
      ...runChecks(
        spec,
        {
          type: checks.oneOf(["ClusterIP", "NodePort", "LoadBalancer"]),
          "ports.*.targetPort": checks.intRange(1, 65535),
          "ports.*.exposedPort": checks.intRange(1, 65535),
          "ports.*.protocol": checks.oneOf(["TCP", "UDP", "SCTP"]),
        },
        "expose",
      ),
      ...portNameIssues((spec as ExposeSpec).ports, "expose.ports"),
    ],
    site: callSite(),
  });
}

export interface StatelessWorkloadSpec {
  container: ContainerSpec;
  scaling?: ScalingSpec;
}

/**
 * Blueprint: a horizontally scalable workload with no local state, rendered as a
 * Deployment. Composes Container and Scaling. FQN `opm.dev/catalog/blueprints/stateless-workload@v1`.
 */
export function StatelessWorkload(spec: { [K in keyof StatelessWorkloadSpec]: Input<StatelessWorkloadSpec[K]> }): Component {
  const site = callSite();
  const c = spec.container as ContainerSpec;
  const blueprint = makePart({
    kind: "blueprint",
    fqn: FQN.statelessWorkload,
    cue: { ...BLUEPRINTS, def: "#StatelessWorkload" },
    spec: { container: spec.container, scaling: spec.scaling },
    composes: [FQN.container, FQN.scaling],
    issues: [
      ...runChecks(spec.container, containerChecks, "container"),
      ...portNameIssues(c?.ports, "container.ports"),
      ...runChecks(spec.scaling, { count: checks.intRange(0, 1000) }, "scaling"),
    ],
    site,
  });
  return component(blueprint);
}

// Types the builders above take and return, so that users of `opm-ts/catalog` can name them.
export type { Component, Part, Input };
