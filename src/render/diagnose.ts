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
 * What a diagnosis program computes instead of the release's objects. In every mode the
 * render's `out` becomes `let renderOut` with no transformer matched to any component (a
 * struct unified with `#Render` is evaluated whole, so its objects must not fail), and:
 * - `summary`: with an empty provider, each component's labels, resources and traits (to
 *   match transformers when the caller did not already, as for a CUE module);
 * - `pairs`: for each (component, transformer) pair, whether its output evaluates;
 * - `pair`: one pair's output, to read its error.
 */
export type DiagnoseMode =
  | { kind: "summary" }
  | { kind: "pairs"; pairs: readonly (readonly [string, string])[] }
  | { kind: "pair"; component: string; transformer: string };

/** At most this many failing pairs are evaluated one by one (each is a whole evaluation). */
const MAX_PAIRS = 20;

const transform = (tn: string, cn: string) =>
  `(renderOut.#provider.transformers[${tn}].#transform & {#component: renderOut._data[${cn}], #context: renderOut.components[${cn}].context}).output`;

/** The top-level field of a diagnosis program. */
export function diagnoseField(mode: DiagnoseMode): string {
  if (mode.kind === "summary") return `diag: {for cn, c in renderOut.components {(cn): {labels: c.labels, resources: c.resources, traits: c.traits}}}`;
  if (mode.kind === "pairs") {
    return `diag: [for p in ${JSON.stringify(mode.pairs)} {component: p[0], transformer: p[1], ok: json.Marshal(${transform("p[1]", "p[0]")}) != _|_}]`;
  }
  return `output: ${transform(JSON.stringify(mode.transformer), JSON.stringify(mode.component))}`;
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
  /** The provider's transformers' rules (to match when `matched` is not given). */
  rules?: Record<string, MatchRule>;
  /** The program in a diagnosis mode; `components` are the component names. */
  program: (mode: DiagnoseMode, components: readonly string[]) => string;
  /** The author's field and line for a pair: the trait the transformer needs, else the component. */
  site: (component: string, transformer: string) => { path: string; source?: SourceLocation };
  /** True when the transformer reads `#component.spec.<key>` (to explain `undefined field: <key>`). */
  readsSpec: (transformer: string, key: string) => boolean;
}

type Summary = Record<string, { labels: Record<string, string>; resources: string[]; traits: string[] }>;

/**
 * One issue per (component, transformer) pair whose output fails to evaluate, or
 * undefined when the failure is not in a transformer's output (the caller then reports
 * the evaluator's own error).
 */
export async function diagnoseTransformers(d: DiagnoseInput): Promise<Issue[] | undefined> {
  let matched = d.matched;
  let pairs: { component: string; transformer: string; ok: boolean }[];
  try {
    if (!matched) {
      if (!d.rules) return undefined;
      const rules = d.rules;
      const summary = (await d.engine.eval<{ diag: Summary }>(d.program({ kind: "summary" }, []))).diag;
      matched = Object.fromEntries(
        Object.entries(summary).map(([cn, c]) => [
          cn,
          Object.entries(rules)
            .filter(([, r]) => Object.entries(r.requiredLabels).every(([k, v]) => c.labels[k] === v) && r.requiredResources.every((x) => c.resources.includes(x)) && r.requiredTraits.every((x) => c.traits.includes(x)))
            .map(([tn]) => tn),
        ]),
      );
    }
    const names = Object.keys(matched);
    const all = Object.entries(matched).flatMap(([cn, tns]) => tns.map((tn) => [cn, tn] as const));
    pairs = (await d.engine.eval<{ diag: typeof pairs }>(d.program({ kind: "pairs", pairs: all }, names))).diag;
  } catch {
    return undefined;
  }
  const names = Object.keys(matched);
  const failing = pairs.filter((x) => !x.ok);
  if (!failing.length) return undefined;
  const issues: Issue[] = [];
  for (const { component, transformer } of failing.slice(0, MAX_PAIRS)) {
    const short = transformer.split("/").pop()!;
    const { path, source } = d.site(component, transformer);
    let found: Issue[];
    try {
      await d.engine.eval(d.program({ kind: "pair", component, transformer }, names));
      continue; // passes on its own: the failure is elsewhere
    } catch (e) {
      if (!EngineError.is(e) || e.code !== "E_ENGINE") throw e;
      found = [...e.issues];
    }
    for (const i of found) {
      const { object, field } = outputField(i.path);
      // The evaluator counts every place the same cause shows ("and 31 more errors"); each failing pair is listed here.
      const message = i.message.replace(/ \(and \d+ more errors?\)$/, "");
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
