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
import * as ast from "../core/cue/ast.js";
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
  | { kind: "expr"; field: readonly ast.Decl[] };

/** At most this many failing pairs are evaluated one by one (each is a whole evaluation). */
const MAX_PAIRS = 20;

export const renderOut = (...names: string[]): ast.Expr => ast.sel(ast.ident("renderOut"), ...names);
const bottom = ast.ident("_|_");
/** `json.Marshal(x) != _|_`: whether x evaluates, without failing the program. */
const evaluates = (x: ast.Expr): ast.Expr => ast.binary("!=", ast.call(ast.sel(ast.ident("json"), "Marshal"), x), bottom);
/** `(renderOut.#provider.transformers[tn].#transform & {#component: …, #context: …}).output`. */
const transformOf = (tn: ast.Expr, component: ast.Expr, context: ast.Expr): ast.Expr =>
  ast.sel(
    ast.paren(
      ast.and(
        ast.sel(ast.index(renderOut("#provider", "transformers"), tn), "#transform"),
        ast.struct([ast.field("#component", component), ast.field("#context", context)]),
      ),
    ),
    "output",
  );
const transform = (tn: ast.Expr, cn: ast.Expr) =>
  transformOf(tn, ast.index(renderOut("_data"), cn), ast.sel(ast.index(renderOut("components"), cn), "context"));
/** `{component: cn, transformer: tn, ok: …}`: one pair and whether its output evaluates. */
const pairOk = (output: ast.Expr): ast.Struct =>
  ast.struct([ast.field("component", ast.ident("cn")), ast.field("transformer", ast.ident("tn")), ast.field("ok", evaluates(output))]);
const setOf = (source: ast.Expr, name: string): ast.Struct =>
  ast.struct([ast.comprehension([{ kind: "for", value: name, source }], ast.struct([ast.field({ dynamic: ast.ident(name) }, ast.lit(true))]))]);

/** The `#matched` of a diagnosis program: every component of the release, matched to nothing. */
export const DIAGNOSE_MATCHED: ast.Expr = ast.struct([
  ast.comprehension(
    [{ kind: "for", key: "cn", value: "_", source: ast.sel(ast.ident("#release"), "components") }],
    ast.struct([ast.field({ dynamic: ast.ident("cn") }, ast.list([]))]),
  ),
]);

/** The top-level declarations of a diagnosis program; `core` is the linked core package's field. */
export function diagnoseField(mode: DiagnoseMode, core: string): ast.Decl[] {
  if (mode.kind === "expr") return [...mode.field];
  if (mode.kind === "pair") return [ast.field("output", transform(ast.lit(mode.transformer), ast.lit(mode.component)))];
  const ok = pairOk(transform(ast.ident("tn"), ast.ident("cn")));
  if (mode.pairs) {
    const each = ast.comprehension(
      [
        { kind: "for", value: "p", source: ast.fromJSON(mode.pairs) },
        { kind: "let", name: "cn", expr: ast.index(ast.ident("p"), ast.lit(0)) },
        { kind: "let", name: "tn", expr: ast.index(ast.ident("p"), ast.lit(1)) },
      ],
      ok,
    );
    return [ast.field("diag", ast.list([each]))];
  }
  const c = ast.ident("c");
  const s = ast.struct([
    ast.field("labels", ast.sel(c, "labels")),
    ast.field("resources", setOf(ast.sel(c, "resources"), "r")),
    ast.field("traits", setOf(ast.sel(c, "traits"), "t")),
  ]);
  const matches = ast.sel(
    ast.paren(ast.and(ast.sel(ast.ident(core), "#Match"), ast.struct([ast.field("#c", ast.ident("s")), ast.field("#t", ast.ident("t"))]))),
    "ok",
  );
  const each = ast.comprehension(
    [
      { kind: "for", key: "cn", value: "c", source: renderOut("components") },
      { kind: "let", name: "s", expr: s },
      { kind: "for", key: "tn", value: "t", source: renderOut("transformers") },
      { kind: "if", cond: matches },
    ],
    ok,
  );
  return [ast.field("diag", ast.list([each]))];
}

/**
 * The `pairs` and `pair` declarations of an expr-mode diagnosis program (see all-errors.ts) in
 * which each component is rendered alone: `core.#Render` over a release holding only that
 * component, so one component's failing field does not fail every other's transformers.
 * `components` maps each component to the CUE expression of the spec its transformers see
 * (the fields of its spec that evaluate, when others fail), or undefined for its own spec.
 */
export function isolatedField(
  mode: Exclude<DiagnoseMode, { kind: "expr" }>,
  core: string,
  components: Record<string, ast.Expr | undefined>,
  matched?: Record<string, string[]>,
): ast.Decl[] {
  const R = (...names: string[]) => renderOut("#release", ...names);
  const diagR = ast.letDecl(
    "diagR",
    ast.struct(
      Object.entries(components).map(([cn, spec]) => {
        const c = ast.index(R("_unified", "#components"), ast.lit(cn));
        const component = ast.struct([
          ast.field("metadata", ast.sel(c, "metadata")),
          ast.field("spec", spec ?? ast.sel(c, "spec")),
          ...["#resources", "#traits", "#names"].map((n) => ast.field(n, ast.sel(c, n))),
        ]);
        const release = ast.struct([
          ast.field("metadata", R("metadata")),
          ast.field("_unified", ast.struct([ast.field("metadata", R("_unified", "metadata"))])),
          ast.field("values", ast.struct([])),
          ast.field("components", ast.struct([ast.field(cn, component)])),
        ]);
        return ast.field(
          cn,
          ast.and(
            ast.sel(ast.ident(core), "#Render"),
            ast.struct([
              ast.field("#release", release),
              ast.field("#provider", renderOut("#provider")),
              ...(matched?.[cn] ? [ast.field("#matched", ast.struct([ast.field(cn, ast.fromJSON(matched[cn]))]))] : []),
            ]),
          ),
        );
      }),
    ),
  );
  const alone = (cn: ast.Expr) => ast.index(ast.ident("diagR"), cn);
  const out = (tn: ast.Expr, cn: ast.Expr) =>
    transformOf(tn, ast.index(ast.sel(alone(cn), "_data"), cn), ast.sel(ast.index(ast.sel(alone(cn), "components"), cn), "context"));
  if (mode.kind === "pair") return [diagR, ast.field("output", out(ast.lit(mode.transformer), ast.lit(mode.component)))];
  const cn = ast.ident("cn");
  const each = ast.comprehension(
    [
      { kind: "for", value: "cn", source: ast.fromJSON(Object.keys(components)) },
      {
        kind: "for",
        value: "tn",
        source: ast.paren(ast.or(ast.unary("*", ast.sel(ast.index(ast.sel(alone(cn), "components"), cn), "matched")), ast.list([]))),
      },
    ],
    pairOk(out(ast.ident("tn"), cn)),
  );
  return [diagR, ast.field("diag", ast.list([each]))];
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
  /**
   * An error at the component's own data rather than in the transformer's output (e.g. a
   * value that depends on itself), in the author's terms; undefined to report it as the pair's.
   */
  componentField?: (enginePath: string, message: string) => Issue | undefined;
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
    // Not cached: a diagnosis program may hold a release's secret values.
    pairs = (
      await d.engine.eval<{ diag: typeof pairs }>(d.program({ kind: "pairs", ...(given ? { pairs: given } : {}) }), {
        label: "the diagnosis of a failed render (transformers)",
        cache: false,
      })
    ).diag;
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
      await d.engine.eval(d.program({ kind: "pair", component, transformer }), {
        label: `the diagnosis of a failed render (component ${component}, transformer ${transformer})`,
        cache: false,
      });
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
      const own = !/(^|\.)output(\.|$)/.test(i.path) && /(^|\.)#components\./.test(i.path) ? d.componentField?.(i.path, message) : undefined;
      if (own) {
        if (!issues.some((x) => x.path === own.path && x.message === own.message)) issues.push(own);
        continue;
      }
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
    issues.push({
      code: "engine",
      path: "components",
      message: `${failing.length - MAX_PAIRS} more (component, transformer) pairs fail to evaluate: ${failing
        .slice(MAX_PAIRS)
        .map((f) => `${f.component}/${f.transformer.split("/").pop()}`)
        .join(", ")}`,
    });
  }
  return issues;
}

const CRON_FIELD: Record<string, [string, string]> = {
  minute: ["minute", "0-59"],
  hour: ["hour", "0-23"],
  dayOfMonth: ["day of month", "1-31"],
  month: ["month", "1-12 or jan-dec"],
  dayOfWeek: ["day of week", "0-7 or sun-sat"],
};

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
    return {
      path: `${cron[1]}.spec.cronJobConfig.schedule`,
      code: "out_of_range",
      message: `${name} ${JSON.stringify(value ?? "")} is out of range ${range}`,
      constraint: `${name} ${range}`,
    };
  }
  const env = /^(components\.[^.]+)\._envNames\.(.+)$/.exec(path);
  if (env) {
    const name = env[2]!.startsWith('"') ? (JSON.parse(env[2]!) as string) : env[2]!;
    return {
      path: `${env[1]}.spec.container.env.${name}`,
      code: "invalid_name",
      message: `${JSON.stringify(name)} is not a valid environment variable name (letters, digits, '_', '-' and '.', not starting with a digit)`,
      constraint: "^[-._a-zA-Z][-._a-zA-Z0-9]*$",
    };
  }
  return undefined;
}
