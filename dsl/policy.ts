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
    issues.push({
      code: "enum",
      path: `policies.${def.fqn}.onViolation`,
      message: `${JSON.stringify(options.onViolation)} is not one of "block" | "warn" | "audit"`,
      ...(site ? { source: site } : {}),
    });
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
  if (p.options.onViolation)
    decls.push(
      ast.field("rules", ast.struct([ast.field({ pattern: ast.ident("string") }, ast.struct([ast.field("onViolation", ast.lit(p.options.onViolation))]))])),
    );
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

// The built-in policies (their definitions, parameter types and builders) are generated from
// catalog/policies/ by `npm run codegen`.
export { BUILTIN_POLICIES, AllowedRegistries, MinReplicas, NoHostAccess, NoLatestTag, ResourcesRequired, RunAsNonRoot } from "./generated/policies.js";
export type { AllowedRegistriesParams, MinReplicasParams } from "./generated/policies.js";
