import * as ast from "../src/core/cue/ast.js";
import { checkValue, type JsonSchema } from "../src/core/schema.js";
import type { Issue, SourceLocation } from "../src/core/errors.js";
import type { CueRef } from "./parts.js";
import { toExpr } from "./refs.js";
import { callSite } from "./source.js";

export type Severity = "block" | "warn" | "audit";

/** Which components a policy applies to. Empty: every component of the module. */
export interface PolicySelector {
  /** Components carrying all these labels. */
  labels?: Record<string, string>;
  /** Components with these names. */
  components?: string[];
}

export interface PolicyOptions {
  /** Overrides the severity of every rule of the policy. */
  onViolation?: Severity;
  selector?: PolicySelector;
}

/** A policy attached with parameters, a severity and a selector. Immutable. */
export interface PolicyUse {
  readonly kind: "PolicyUse";
  readonly fqn: string;
  readonly cue: CueRef;
  readonly params: Readonly<Record<string, unknown>>;
  readonly options: PolicyOptions;
  readonly issues: readonly Issue[];
  readonly site?: SourceLocation;
  /** A policy defined in TypeScript (definePolicy) carries its CUE declaration. */
  readonly custom?: { readonly fqn: string; readonly cueName: string; readonly decl: ast.Decl; readonly imports: readonly string[] };
}

const POLICY = Symbol.for("opm-ts.policy");

export function isPolicyUse(v: unknown): v is PolicyUse {
  return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[POLICY] === true;
}

export const POLICIES_IMPORT = "opm.dev/catalog/policies@v1";

/** Describes a policy definition that can be attached: its FQN, CUE definition and parameter schema. */
export interface PolicyDefinition {
  fqn: string;
  cue: CueRef;
  params: JsonSchema;
  description: string;
  /** Set for policies defined in TypeScript. */
  custom?: PolicyUse["custom"];
}

const SEVERITIES = ["block", "warn", "audit"];

/** Attaches a policy definition with parameters and options; problems are collected, not thrown. */
export function usePolicy(def: PolicyDefinition, params: Record<string, unknown> = {}, options: PolicyOptions = {}, site = callSite()): PolicyUse {
  const issues: Issue[] = checkValue(def.params, params, "params").map((i) => ({
    ...i,
    path: `policies.${def.fqn}.${i.path}`,
    message: i.code === "unknown_field" ? `unknown policy parameter: ${i.message}` : i.message,
    ...(site ? { source: site } : {}),
  }));
  if (options.onViolation !== undefined && !SEVERITIES.includes(options.onViolation)) {
    issues.push({ code: "enum", path: `policies.${def.fqn}.onViolation`, message: `${JSON.stringify(options.onViolation)} is not one of "block" | "warn" | "audit"`, ...(site ? { source: site } : {}) });
  }
  return Object.freeze({
    kind: "PolicyUse" as const,
    fqn: def.fqn,
    cue: def.cue,
    params: Object.freeze({ ...params }),
    options: Object.freeze({ ...options }),
    issues,
    ...(site ? { site } : {}),
    ...(def.custom ? { custom: def.custom } : {}),
    [POLICY]: true,
  });
}

/** The CUE expression of an attached policy, e.g. `policies.#NoLatestTagPolicy & {...}`. */
export function policyExpr(p: PolicyUse, alias = p.cue.alias): ast.Expr {
  const decls: ast.Decl[] = [];
  if (Object.keys(p.params).length) decls.push(ast.field("params", toExpr(p.params)));
  if (p.options.onViolation) decls.push(ast.field("rules", ast.struct([ast.field({ pattern: ast.ident("string") }, ast.struct([ast.field("onViolation", ast.lit(p.options.onViolation))]))])));
  const sel = p.options.selector;
  if (sel && (sel.labels || sel.components)) {
    decls.push(
      ast.field(
        "selector",
        ast.struct([
          ...(sel.labels ? [ast.field("labels", ast.fromJSON(sel.labels))] : []),
          ...(sel.components ? [ast.field("components", ast.fromJSON(sel.components))] : []),
        ]),
      ),
    );
  }
  const def = ast.sel(ast.ident(alias), p.cue.def);
  return decls.length ? ast.and(def, ast.struct(decls)) : def;
}

const builtin = (name: string, def: string, description: string, params: JsonSchema = { type: "object", properties: {}, additionalProperties: false }): PolicyDefinition => ({
  fqn: `opm.dev/catalog/policies/${name}@v1`,
  cue: { importPath: POLICIES_IMPORT, alias: "policies", def },
  params,
  description,
});

/** Built-in policy definitions (`catalog/policies/`). */
export const BUILTIN_POLICIES = {
  noLatestTag: builtin("no-latest-tag", "#NoLatestTagPolicy", "Every container image has an explicit tag other than latest, or a digest."),
  resourcesRequired: builtin("resources-required", "#ResourcesRequiredPolicy", "Every container sets CPU and memory requests and limits."),
  runAsNonRoot: builtin("run-as-non-root", "#RunAsNonRootPolicy", "Containers run as a non-root user."),
  noHostAccess: builtin("no-host-access", "#NoHostAccessPolicy", "No host path volumes and no host network, PID or IPC namespace."),
  allowedRegistries: builtin("allowed-registries", "#AllowedRegistriesPolicy", "Container images come only from allowed registries.", {
    type: "object",
    properties: { registries: { type: "array", items: { type: "string" }, minItems: 1 } },
    required: ["registries"],
    additionalProperties: false,
  }),
  minReplicas: builtin("min-replicas", "#MinReplicasPolicy", "Workloads run at least a minimum number of replicas.", {
    type: "object",
    properties: { min: { type: "integer", minimum: 1, default: 2 } },
    additionalProperties: false,
  }),
} as const;

/** Policy: no `:latest` or untagged images. */
export function NoLatestTag(options: PolicyOptions = {}): PolicyUse {
  return usePolicy(BUILTIN_POLICIES.noLatestTag, {}, options, callSite());
}
/** Policy: CPU and memory requests and limits on every container. */
export function ResourcesRequired(options: PolicyOptions = {}): PolicyUse {
  return usePolicy(BUILTIN_POLICIES.resourcesRequired, {}, options, callSite());
}
/** Policy: containers run as non-root. */
export function RunAsNonRoot(options: PolicyOptions = {}): PolicyUse {
  return usePolicy(BUILTIN_POLICIES.runAsNonRoot, {}, options, callSite());
}
/** Policy: no host path volumes, host network, PID or IPC. */
export function NoHostAccess(options: PolicyOptions = {}): PolicyUse {
  return usePolicy(BUILTIN_POLICIES.noHostAccess, {}, options, callSite());
}
/** Policy: images only from the given registry prefixes. */
export function AllowedRegistries(params: { registries: string[] }, options: PolicyOptions = {}): PolicyUse {
  return usePolicy(BUILTIN_POLICIES.allowedRegistries, params, options, callSite());
}
/** Policy: at least `min` replicas (default 2). */
export function MinReplicas(params: { min?: number } = {}, options: PolicyOptions = {}): PolicyUse {
  return usePolicy(BUILTIN_POLICIES.minReplicas, params, options, callSite());
}
