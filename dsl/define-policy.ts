/**
 * Policies defined in TypeScript: `definePolicy` compiles rules written over typed
 * references into a `core.#Policy` in CUE, checked by the same engine as built-in ones.
 */
import * as ast from "../src/core/cue/ast.js";
import { printExpr } from "../src/core/cue/print.js";
import { shapeDefaultIssues, shapeImports, shapeSchema, shapeToStruct, type ConfigShape, type RefsOf, type ValuesOf } from "./config.js";
import { OpmError, ValidationError } from "../src/core/errors.js";
import { CUSTOM_IMPORT, fqnOf, pascal, refsAt, type Identity } from "./define.js";
import { deepRef, templateExpr } from "./template.js";
import { usePolicy, type PolicyOptions, type PolicyUse, type Severity } from "./policy.js";
import { isRef, rawCue, refExpr, type Ref } from "./refs.js";
import { callSite } from "./source.js";

/** One problem a rule reports: a field path inside the checked component or object, and a message. */
export interface ViolationTemplate {
  path: string | Ref<string>;
  message: string | Ref<string>;
}

/** A violation: a field path and a message; a message may be a template string with references in it. */
export function violation(path: string | Ref<string>, message: string | Ref<string>): ViolationTemplate {
  return { path, message };
}

/**
 * A CUE condition or expression written with references, as a tagged template: with
 * `input.spec.replicas` and `params.min` interpolated around a `<`, it compiles to
 * `#in.spec.replicas < #params.min`. Use it as the condition of `when()`.
 */
export function expr<T = boolean>(strings: TemplateStringsArray, ...values: unknown[]): Ref<T> {
  let text = strings[0]!;
  values.forEach((v, i) => {
    text += (isRef(v) ? printExpr(refExpr(v)) : printExpr(ast.fromJSON(v))) + strings[i + 1]!;
  });
  return rawCue<T>(`(${text})`);
}

/** A reference to a value whose shape is not known: every field is a reference too. */
export type DeepRef = Ref<unknown> & { readonly [field: string]: DeepRef };

/** What a rule's check sees: the component or object (any field is a reference) and the parameters. */
export interface PolicyCheckInput<P extends ConfigShape> {
  /**
   * The checked value: for target "component", `{ name, labels, resources, traits, spec }`;
   * for target "object", a rendered Kubernetes object.
   */
  input: DeepRef;
  params: RefsOf<P>;
}

export interface PolicyRuleDefinition<P extends ConfigShape> {
  description: string;
  /** The default severity (default `block`); `onViolation` when attaching overrides it. */
  onViolation?: Severity;
  target: "component" | "object";
  /**
   * The violations: a list of `violation(...)`, each possibly under `when(cond, ...)` or
   * produced by `forEach(ref, ...)`; or raw CUE for the list.
   */
  check: (x: PolicyCheckInput<P>) => readonly unknown[] | Ref<unknown>;
}

export interface PolicyDefinitionInput<P extends ConfigShape> extends Identity {
  /** Parameters (config field builders); unknown parameters are errors. */
  params?: P;
  rules: Record<string, PolicyRuleDefinition<P>>;
}

/** A policy defined in TypeScript: the CUE declaration it compiles to. */
export interface CustomPolicy {
  readonly kind: "policy";
  readonly fqn: string;
  readonly cueName: string;
  readonly decl: ast.Decl;
  readonly imports: readonly string[];
}

/** Attach a policy defined with definePolicy: `(params, options) => PolicyUse`. */
// biome-ignore lint/complexity/noBannedTypes: `{} extends T` asks whether every parameter is optional
export type PolicyBuilder<P extends ConfigShape> = ({} extends ValuesOf<P>
  ? (params?: ValuesOf<P>, options?: PolicyOptions) => PolicyUse
  : (params: ValuesOf<P>, options?: PolicyOptions) => PolicyUse) & { readonly fqn: string; readonly definition: CustomPolicy };

const SEVERITY = ["block", "warn", "audit"] as const;

/** Defines a policy in TypeScript. It compiles to CUE (`#<Name>Policy`) in the module's custom package. */
// biome-ignore lint/complexity/noBannedTypes: `{}` is the empty parameter shape (a policy without parameters)
export function definePolicy<const P extends ConfigShape = {}>(def: PolicyDefinitionInput<P>): PolicyBuilder<P> {
  const fqn = fqnOf(def);
  const shape = (def.params ?? {}) as P;
  const cueName = pascal(def.name) + "Policy";
  if (!Object.keys(def.rules).length) throw new OpmError("usage", `policy ${fqn} has no rules`);
  const badDefaults = shapeDefaultIssues(shape, "params");
  if (badDefaults.length)
    throw new ValidationError(badDefaults, `policy ${fqn}: ${badDefaults.length} invalid parameter default${badDefaults.length === 1 ? "" : "s"}`);
  const rules = Object.entries(def.rules).map(([name, r]) => {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw new OpmError("usage", `policy ${fqn}: rule name ${JSON.stringify(name)} must be a DNS label`);
    if (r.target !== "component" && r.target !== "object") throw new OpmError("usage", `policy ${fqn}, rule ${name}: target must be "component" or "object"`);
    const severity = r.onViolation ?? "block";
    if (!SEVERITY.includes(severity)) throw new OpmError("usage", `policy ${fqn}, rule ${name}: onViolation must be "block", "warn" or "audit"`);
    const checked = r.check({ input: deepRef("#in", []) as DeepRef, params: refsAt(shape, "#params", []) as RefsOf<P> });
    const violations = Array.isArray(checked) ? templateExpr(checked) : templateExpr(checked);
    return ast.field(
      name,
      ast.struct([
        ast.field("description", ast.lit(r.description)),
        ast.field("onViolation", ast.or(...SEVERITY.map((s) => (s === severity ? ast.unary("*", ast.lit(s)) : ast.lit(s))))),
        ast.field("target", ast.lit(r.target)),
        ast.field("#check", ast.struct([ast.field("#in", ast.top), ast.field("#params", ast.top), ast.field("violations", violations)])),
      ]),
    );
  });
  const decl = ast.field(
    `#${cueName}`,
    ast.and(
      ast.sel(ast.ident("core"), "#Policy"),
      ast.struct([
        ast.field("metadata", ast.fromJSON({ modulePath: def.modulePath, name: def.name, version: def.version ?? "v1", description: def.description })),
        ast.field("#params", shapeToStruct(shape)),
        ast.field("rules", ast.struct(rules)),
      ]),
    ),
    { doc: `#${cueName}: ${def.description} (defined in TypeScript)` },
  );
  const definition: CustomPolicy = Object.freeze({ kind: "policy" as const, fqn, cueName, decl, imports: shapeImports(shape) });
  const schema = { type: "object" as const, ...shapeSchema(shape) };
  const builder = (params: Record<string, unknown> = {}, options: PolicyOptions = {}) =>
    usePolicy(
      { fqn, cue: { importPath: CUSTOM_IMPORT, alias: "custom", def: `#${cueName}` }, params: schema, description: def.description, custom: definition },
      params,
      options,
      callSite(),
    );
  return Object.assign(builder, { fqn, definition }) as unknown as PolicyBuilder<P>;
}
