/**
 * Finding which (component, transformer) pairs a failed evaluation broke.
 *
 * The evaluator (cue-wasm) reports only the first error of a program, with a path inside
 * a transformer's output (`output.0.spec.rules.0...: undefined field: expose`) that names
 * neither the component nor the transformer. When that happens the render evaluates the
 * same program again in diagnosis mode: once to learn which pairs fail (each pair's output
 * is marshalled inside a `!= _|_` guard, so a failing pair is a `false`, not an error), then
 * once per failing pair to read that pair's own first error. Every failing pair is then
 * reported, each with its component, its transformer and the author's `file:line`.
 */
import type { Issue, SourceLocation } from "../core/errors.js";
import { EngineError } from "../core/errors.js";
import type { Engine } from "../engine/engine.js";

/**
 * What a diagnosis program computes instead of the release's objects. In both modes the
 * render's `out` becomes `let renderOut`, with no transformer matched to any component (a
 * struct unified with `#Render` is evaluated whole, so its objects must not fail), and:
 * - `pairs`: for each (component, transformer) pair, whether its output evaluates (the
 *   pairs given, or every pair `core.#Match` accepts);
 * - `pair`: one pair's output, to read its error;
 * - `expr`: the given declarations, where `renderOut` is not `core.#Render` but holds only
 *   `#release` and `#provider` (see all-errors.ts).
 */
export type DiagnoseMode =
  | { kind: "pairs"; pairs?: readonly (readonly [string, string])[] }
  | { kind: "pair"; component: string; transformer: string }
  | { kind: "expr"; field: string };

/** At most this many failing pairs are evaluated one by one (each is a whole evaluation). */
const MAX_PAIRS = 20;

const transform = (tn: string, cn: string) =>
  `(renderOut.#provider.transformers[${tn}].#transform & {#component: renderOut._data[${cn}], #context: renderOut.components[${cn}].context}).output`;

/** The `#matched` of a diagnosis program: every component of the release, matched to nothing. */
export const DIAGNOSE_MATCHED = "{for cn, _ in #release.components {(cn): []}}";

/** The top-level field of a diagnosis program; `core` is the linked core package's field. */
export function diagnoseField(mode: DiagnoseMode, core: string): string {
  if (mode.kind === "expr") return mode.field;
  if (mode.kind === "pair") return `output: ${transform(JSON.stringify(mode.transformer), JSON.stringify(mode.component))}`;
  const ok = `ok: json.Marshal(${transform("tn", "cn")}) != _|_`;
  if (mode.pairs) return `diag: [for p in ${JSON.stringify(mode.pairs)} let cn = p[0] let tn = p[1] {component: cn, transformer: tn, ${ok}}]`;
  return [
    `diag: [`,
    `\tfor cn, c in renderOut.components`,
    `\tlet s = {labels: c.labels, resources: {for r in c.resources {(r): true}}, traits: {for t in c.traits {(t): true}}}`,
    `\tfor tn, t in renderOut.transformers if (${core}.#Match & {#c: s, #t: t}).ok {component: cn, transformer: tn, ${ok}},`,
    `]`,
  ].join("\n");
}

/**
 * The `pairs` and `pair` fields of an expr-mode diagnosis program (see all-errors.ts) in
 * which each component is rendered alone: `core.#Render` over a release holding only that
 * component, so one component's failing field does not fail every other's transformers.
 * `components` maps each component to the CUE expression of the spec its transformers see
 * (the fields of its spec that evaluate, when others fail), or undefined for its own spec.
 */
export function isolatedField(mode: Exclude<DiagnoseMode, { kind: "expr" }>, core: string, components: Record<string, string | undefined>, matched?: Record<string, string[]>): string {
  const R = "renderOut.#release";
  const q = (s: string) => JSON.stringify(s);
  const lets = [
    `let diagR = {`,
    ...Object.entries(components).map(([cn, spec]) => {
      const c = `${R}._unified.#components[${q(cn)}]`;
      return [
        `\t${q(cn)}: ${core}.#Render & {`,
        `\t\t#release: {metadata: ${R}.metadata, _unified: metadata: ${R}._unified.metadata, values: {}, components: ${q(cn)}: {metadata: ${c}.metadata, spec: ${spec ?? `${c}.spec`}, #resources: ${c}.#resources, #traits: ${c}.#traits, #names: ${c}.#names}}`,
        `\t\t#provider: renderOut.#provider`,
        ...(matched?.[cn] ? [`\t\t#matched: ${q(cn)}: ${JSON.stringify(matched[cn])}`] : []),
        `\t}`,
      ].join("\n");
    }),
    `}`,
  ].join("\n");
  const out = (tn: string, cn: string) => `(renderOut.#provider.transformers[${tn}].#transform & {#component: diagR[${cn}]._data[${cn}], #context: diagR[${cn}].components[${cn}].context}).output`;
  if (mode.kind === "pair") return `${lets}\noutput: ${out(q(mode.transformer), q(mode.component))}`;
  const names = JSON.stringify(Object.keys(components));
  return `${lets}\ndiag: [for cn in ${names} for tn in (*diagR[cn].components[cn].matched | []) {component: cn, transformer: tn, ok: json.Marshal(${out("tn", "cn")}) != _|_}]`;
}

/** `output.0.spec.rules.0.http` → `spec.rules[0].http` of object 1. */
function outputField(enginePath: string): { object?: number; field: string } {
  const segs = enginePath.split(".");
  const i = segs.indexOf("output");
  if (i < 0) return { field: enginePath };
  const rest = segs.slice(i + 1);
  const object = /^\d+$/.test(rest[0] ?? "") ? Number(rest.shift()) + 1 : undefined;
  const field = rest.reduce((acc, s) => (/^\d+$/.test(s) ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), "");
  return { ...(object ? { object } : {}), field };
}

/** A transformer's match rules (as `core.#Match` reads them). */
export interface MatchRule {
  requiredLabels: Record<string, string>;
  requiredResources: string[];
  requiredTraits: string[];
}

export interface DiagnoseInput {
  engine: Engine;
  /** Component → matching transformers, when the caller matched them already. */
  matched?: Record<string, string[]>;
  /** The program in a diagnosis mode. */
  program: (mode: DiagnoseMode) => string;
  /** Errors that are not the transformer's: a component's own field failing (listed elsewhere). */
  ignore?: (component: string, message: string, enginePath: string) => boolean;
  /** The author's field and line for a pair: the trait the transformer needs, else the component. */
  site: (component: string, transformer: string) => { path: string; source?: SourceLocation };
  /** True when the transformer reads `#component.spec.<key>` (to explain `undefined field: <key>`). */
  readsSpec: (transformer: string, key: string) => boolean;
}

/**
 * One issue per (component, transformer) pair whose output fails to evaluate, or
 * undefined when the failure is not in a transformer's output (the caller then reports
 * the evaluator's own error).
 */
export async function diagnoseTransformers(d: DiagnoseInput): Promise<Issue[] | undefined> {
  let pairs: { component: string; transformer: string; ok: boolean }[];
  try {
    const given = d.matched && Object.entries(d.matched).flatMap(([cn, tns]) => tns.map((tn) => [cn, tn] as const));
    pairs = (await d.engine.eval<{ diag: typeof pairs }>(d.program({ kind: "pairs", ...(given ? { pairs: given } : {}) }))).diag;
  } catch {
    return undefined;
  }
  const failing = pairs.filter((x) => !x.ok);
  if (!failing.length) return undefined;
  const issues: Issue[] = [];
  for (const { component, transformer } of failing.slice(0, MAX_PAIRS)) {
    const short = transformer.split("/").pop()!;
    const { path, source } = d.site(component, transformer);
    let found: Issue[];
    try {
      await d.engine.eval(d.program({ kind: "pair", component, transformer }));
      continue; // passes on its own: the failure is elsewhere
    } catch (e) {
      if (!EngineError.is(e) || e.code !== "engine") throw e;
      found = [...e.issues];
    }
    for (const i of found) {
      const { object, field } = outputField(i.path);
      // The evaluator counts every place the same cause shows ("and 31 more errors"); each failing pair is listed here.
      const message = i.message.replace(/ \(and \d+ more errors?\)$/, "");
      if (d.ignore?.(component, message, i.path)) continue;
      const undef = /^undefined field: ([A-Za-z0-9_]+)/.exec(message)?.[1];
      const hint = undef && d.readsSpec(transformer, undef) ? ` (component "${component}" has no spec.${undef}, which transformer ${short} reads)` : "";
      issues.push({
        code: "engine",
        path,
        message: `transformer ${short} cannot render component "${component}": ${object ? `object ${object} of its output, ` : ""}${field ? `${field}: ` : ""}${message}${hint}`,
        constraint: `transformer ${transformer}`,
        ...(source ? { source } : {}),
      });
    }
  }
  if (failing.length > MAX_PAIRS) {
    issues.push({ code: "engine", path: "components", message: `${failing.length - MAX_PAIRS} more (component, transformer) pairs fail to evaluate: ${failing.slice(MAX_PAIRS).map((f) => `${f.component}/${f.transformer.split("/").pop()}`).join(", ")}` });
  }
  return issues;
}

const CRON_FIELD: Record<string, [string, string]> = { minute: ["minute", "0-59"], hour: ["hour", "0-23"], dayOfMonth: ["day of month", "1-31"], month: ["month", "1-12 or jan-dec"], dayOfWeek: ["day of week", "0-7 or sun-sat"] };

/**
 * The author's field and a plain message for an error the catalog reports from a hidden
 * check field (`components.x._schedule._minute`, `components.x._envNames.<name>`), or
 * undefined for any other error.
 */
export function authorTerms(path: string, message: string): Pick<Issue, "path" | "message" | "code" | "constraint"> | undefined {
  const value = /^invalid value "((?:[^"\\]|\\.)*)"/.exec(message)?.[1];
  const cron = /^(components\.[^.]+)\._schedule\._(\w+)$/.exec(path);
  if (cron && CRON_FIELD[cron[2]!]) {
    const [name, range] = CRON_FIELD[cron[2]!]!;
    return { path: `${cron[1]}.spec.cronJobConfig.schedule`, code: "out_of_range", message: `${name} ${JSON.stringify(value ?? "")} is out of range ${range}`, constraint: `${name} ${range}` };
  }
  const env = /^(components\.[^.]+)\._envNames\.(.+)$/.exec(path);
  if (env) {
    const name = env[2]!.startsWith('"') ? (JSON.parse(env[2]!) as string) : env[2]!;
    return { path: `${env[1]}.spec.container.env.${name}`, code: "invalid_name", message: `${JSON.stringify(name)} is not a valid environment variable name (letters, digits, '_', '-' and '.', not starting with a digit)`, constraint: "^[-._a-zA-Z][-._a-zA-Z0-9]*$" };
  }
  return undefined;
}
