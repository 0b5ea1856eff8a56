/**
 * Every error of a failed evaluation, not one plus "N more".
 *
 * The evaluator (cue-wasm) answers only the first error of a program. CUE v0.4.3 lets a
 * program test a value without failing (`json.Marshal(x) != _|_` is `false` for a value
 * holding an error), but not list a failing struct's fields (iterating a struct that holds
 * an error fails the program), so the fields to test come from the module's own CUE text
 * (the files a TypeScript module compiles to, or a CUE module folder's files):
 *
 * 1. one probe program tests every field the module's components declare (and the
 *    catalog's hidden checks), all at once;
 * 2. each failing field none of whose own fields fail is evaluated alone, in parallel,
 *    to read its message (at most {@link MAX_LEAVES} such evaluations);
 * 3. messages are deduplicated (one cause shows in every field that refers to it).
 *
 * The probe also says whether the release's values fail its `#config`; if they do, the
 * values a CUE module's own release sets are checked against the `#config` schema in
 * TypeScript, like a values file, and fields whose text reads `#config` are not read (they
 * fail with the values, which are listed instead). The module package is held in a `let`
 * (`buildProgram` links the module's packages as `let`s in a diagnosis) so that its errors fail only the expressions that read them.
 * Evaluation answers depend on order (once a field of a closed struct fails, the evaluator
 * may answer its siblings as failing), so fields are probed before the structs holding them,
 * and a field's own evaluation decides what is reported.
 * Only the failure path pays for any of this: a render that evaluates runs none of it.
 *
 * Size: over 400 lines because the probe, the one-by-one reads and the deduplication work on
 * one tree of declared fields and run only together, on the failure path.
 */
import * as ast from "../core/cue/ast.js";
import type { Issue, SourceLocation } from "../core/errors.js";
import { EngineError } from "../core/errors.js";
import type { Engine } from "../engine/engine.js";
import type { ParsedFile } from "../program/link.js";
import { cueConfigSchema } from "../program/config-schema.js";
import { checkValue } from "../core/schema.js";
import { codeTokens, CueSyntaxError, stringValue, tokenize, topLevelDecls, type Token } from "../core/cue/lexer.js";

/** At most this many failing fields are evaluated one by one to read their messages. */
export const MAX_LEAVES = 24;

/** A field declared in CUE text: its path below the declaration root, and its line. */
export interface FieldNode {
  path: string[];
  source: SourceLocation;
  children: FieldNode[];
  /** The value's text, for a field whose value is not a struct literal. */
  value?: string;
}

interface Scan {
  label: string;
  source: SourceLocation;
  kids: Map<string, Scan>;
  value?: string;
}

const OPEN = new Set(["{", "[", "("]);
const CLOSE = new Set(["}", "]", ")"]);

/** Index of the token closing the bracket at `i` (interpolations count as brackets), or -1. */
function closingToken(code: readonly Token[], i: number): number {
  let depth = 0;
  for (let k = i; k < code.length; k++) {
    const t = code[k]!;
    if ((t.kind === "punct" && OPEN.has(t.text)) || t.kind === "interpStart") depth++;
    else if ((t.kind === "punct" && CLOSE.has(t.text)) || t.kind === "interpEnd") depth--;
    if (depth === 0) return k;
  }
  return -1;
}

/** A label token followed by its `:` (optionally `?:` or `!:`): the label, and the index after the `:`. */
function labelAt(code: readonly Token[], i: number): { label: string; next: number } | undefined {
  const t = code[i];
  if (!t || (t.kind !== "ident" && t.kind !== "string")) return undefined;
  const colon = code[i + 1]?.text === "?" || code[i + 1]?.text === "!" ? i + 2 : i + 1;
  if (code[colon]?.kind !== "punct" || code[colon]!.text !== ":") return undefined;
  return { label: t.kind === "ident" ? t.text : stringValue(t), next: colon + 1 };
}

function scanStruct(
  t: string,
  from: number,
  to: number,
  at: (i: number) => SourceLocation,
  keep: (label: string, depth: number) => boolean,
  depth: number,
  into: Map<string, Scan>,
): void {
  for (const decl of topLevelDecls(t.slice(from, to))) {
    if (decl.kind !== "field") continue;
    const code = codeTokens(decl.tokens);
    // A chain of labels `a: b: c:`, then a value.
    const chain: { label: string; at: number }[] = [];
    let j = 0;
    for (let l = labelAt(code, j); l; l = labelAt(code, j)) {
      chain.push({ label: l.label, at: from + code[j]!.start });
      j = l.next;
    }
    if (!chain.length || !chain.every((c, k) => keep(c.label, depth + k))) continue;
    let level = into;
    let n: Scan | undefined;
    for (const c of chain) {
      n = level.get(c.label);
      if (!n) {
        n = { label: c.label, source: at(c.at), kids: new Map() };
        level.set(c.label, n);
      }
      level = n.kids;
    }
    // A plain struct literal is looked into; any other value is a leaf.
    const value = code[j];
    if (value?.kind === "punct" && value.text === "{" && closingToken(code, j) === code.length - 1)
      scanStruct(t, from + value.end, from + code[code.length - 1]!.start, at, keep, depth + chain.length, level);
    else n!.value = value ? t.slice(from + value.start, from + decl.end).trim() : "";
  }
}

/**
 * The regular fields a CUE struct body declares, recursively into struct literals (a value
 * that is not a plain struct literal is a leaf). Definitions, hidden fields, patterns and
 * comprehensions are skipped unless `keep` says otherwise; repeated declarations of one
 * field are merged. Text the lexer cannot read declares nothing.
 */
export function declaredFields(
  t: string,
  from: number,
  to: number,
  at: (i: number) => SourceLocation,
  keep: (label: string, depth: number) => boolean = (l) => !/^[#_]/.test(l),
): FieldNode[] {
  const top = new Map<string, Scan>();
  try {
    scanStruct(t, from, to, at, keep, 0, top);
  } catch (e) {
    if (!(e instanceof CueSyntaxError)) throw e;
    return [];
  }
  const conv = (n: Scan, prefix: string[]): FieldNode => {
    const path = [...prefix, n.label];
    return { path, source: n.source, children: [...n.kids.values()].map((k) => conv(k, path)), ...(n.value !== undefined ? { value: n.value } : {}) };
  };
  return [...top.values()].map((n) => conv(n, []));
}

/** The body of the first struct literal unified into something (`x & {…}`): its offsets inside `{` and `}`. */
function unifiedStruct(body: string): { from: number; to: number } | undefined {
  let code: Token[];
  try {
    code = codeTokens(tokenize(body));
  } catch (e) {
    if (e instanceof CueSyntaxError) return undefined;
    throw e;
  }
  const i = code.findIndex((t, k) => t.kind === "punct" && t.text === "&" && code[k + 1]?.kind === "punct" && code[k + 1]!.text === "{");
  if (i < 0) return undefined;
  const close = closingToken(code, i + 1);
  return { from: code[i + 1]!.end, to: close < 0 ? body.length : code[close]!.start };
}

/** The fields of every component a package's files declare under `#components`. */
export function componentFields(files: readonly ParsedFile[]): FieldNode[] {
  const byName = new Map<string, FieldNode>();
  for (const f of files) {
    const body = f.body;
    const offset = f.file.text.length - body.length;
    const lineStarts = [0];
    for (let k = 0; k < f.file.text.length; k++) if (f.file.text[k] === "\n") lineStarts.push(k + 1);
    const at = (i: number): SourceLocation => {
      const abs = i + offset;
      let lo = 0;
      let hi = lineStarts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (lineStarts[mid]! <= abs) lo = mid;
        else hi = mid - 1;
      }
      return { file: f.file.name, line: lo + 1, column: abs - lineStarts[lo]! + 1 };
    };
    // `#components` at the top level, then every regular field below it.
    const top = declaredFields(body, 0, body.length, at, (l, d) => (d === 0 ? l === "#components" : !/^[#_]/.test(l)));
    for (const c of top.flatMap((n) => n.children)) {
      const have = byName.get(c.path[1]!);
      if (have) mergeFields(have, c);
      else byName.set(c.path[1]!, c);
    }
  }
  return [...byName.values()].map((c) => relabel(c, ["components", c.path[1]!]));
}

/** Adds b's fields to a's (the same field declared in two places). */
function mergeFields(a: FieldNode, b: FieldNode): void {
  for (const c of b.children) {
    const label = c.path[c.path.length - 1];
    const have = a.children.find((x) => x.path[x.path.length - 1] === label);
    if (have) mergeFields(have, c);
    else a.children.push(c);
  }
}

function relabel(n: FieldNode, path: string[]): FieldNode {
  return {
    path,
    source: n.source,
    children: n.children.map((c) => relabel(c, [...path, c.path[c.path.length - 1]!])),
    ...(n.value !== undefined ? { value: n.value } : {}),
  };
}

/** Hidden checks the catalog adds to a component (see catalog/resources, catalog/traits). */
const HIDDEN_CHECKS: [when: string, checks: string[]][] = [
  ["env", ["_envNames"]],
  ["cronJobConfig", ["_schedule"]],
];

/** Whether a field named `label` is declared anywhere below n. */
const declares = (n: FieldNode, label: string): boolean => n.children.some((c) => c.path[c.path.length - 1] === label || declares(c, label));

/** `x.#def._hidden["regular"]`: definitions and hidden fields by selector, regular fields by index. */
const select = (x: ast.Expr, path: readonly string[]): ast.Expr => path.reduce((acc, s) => (/^[#_]/.test(s) ? ast.sel(acc, s) : ast.index(acc, ast.lit(s))), x);
const renderOut = (...names: string[]): ast.Expr => ast.sel(ast.ident("renderOut"), ...names);
/** `json.Marshal(x) == _|_`: whether x fails, without failing the program. */
const fails = (x: ast.Expr): ast.Expr => ast.binary("==", ast.call(ast.sel(ast.ident("json"), "Marshal"), x), ast.ident("_|_"));

/** One failing field and the evaluator's message for it. */
export interface FieldError {
  /**
   * Author's path (`components.web.spec.scaling.count`, `components.web._envNames."1BAD"`),
   * or the evaluator's path of a shared cause (see `origin`).
   */
  path: string;
  message: string;
  /** The evaluator's own path of the error when it is not the field itself (a shared cause). */
  origin?: string;
  source?: SourceLocation;
}

export interface FieldProbeInput {
  engine: Engine;
  /** A diagnosis program whose top-level declarations are `decls` (renderOut is the release). */
  program: (decls: readonly ast.Decl[]) => string;
  /** The components' declared fields ({@link componentFields}). */
  components: FieldNode[];
  /**
   * Called when the release's values fail its `#config` (fields that read `#config` then fail
   * with them, and are not read): the problems with the values, listed first.
   */
  checkValues?: () => Promise<Issue[]>;
  /** Evaluation label prefix (for crashes and timeouts). */
  label: string;
}

export interface FieldProbeResult {
  /** What `checkValues` found. */
  values: Issue[];
  errors: FieldError[];
  /** Per component with failing fields: its declared spec fields that fail and that pass. */
  specKeys: Record<string, { failing: string[]; passing: string[] }>;
  /** Failing fields whose message was not read (over {@link MAX_LEAVES}). */
  unread: string[];
  evaluations: number;
}

/** The failing fields of the components, each with its own message, deduplicated. */
export async function probeFields(d: FieldProbeInput): Promise<FieldProbeResult> {
  // Components as the release sees them (values applied), and as the module declares them
  // (its own defaults), which must evaluate too.
  const roots = [renderOut("#release", "_unified"), renderOut("#release", "#module")];
  const expr = (root: number, path: readonly string[]) => select(ast.sel(roots[root]!, "#components"), path.slice(1));
  // Every node to test: each component, its declared fields and its hidden checks.
  const nodes: { path: string[]; source?: SourceLocation; parent?: number; hidden?: boolean; value?: string }[] = [];
  const visit = (n: FieldNode, parent?: number) => {
    const id =
      nodes.push({ path: n.path, source: n.source, ...(parent !== undefined ? { parent } : {}), ...(n.value !== undefined ? { value: n.value } : {}) }) - 1;
    for (const c of n.children) visit(c, id);
    if (n.path.length !== 2) return;
    for (const [when, checks] of HIDDEN_CHECKS) {
      if (declares(n, when)) for (const h of checks) nodes.push({ path: [...n.path, ...h.split(".")], source: n.source, parent: id, hidden: true });
    }
  };
  for (const c of d.components) visit(c);
  // Fields before the structs holding them: once a field of a closed struct fails, the
  // evaluator answers the struct, and may answer the fields read after it, as failing too.
  const order: number[] = [];
  const post = (i: number) => {
    nodes.forEach((n, j) => {
      if (n.parent === i) post(j);
    });
    order.push(i);
  };
  nodes.forEach((n, i) => {
    if (n.parent === undefined) post(i);
  });
  const probe = [
    ast.field("config", fails(renderOut("#release", "_config"))),
    ast.field("diag", ast.list([0, 1].map((r) => ast.list(order.map((i) => fails(expr(r, nodes[i]!.path))))))),
  ];
  let failing: boolean[][];
  let configFails: boolean;
  try {
    const answer = await d.engine.eval<{ diag: boolean[][]; config: boolean }>(d.program(probe), {
      label: `${d.label} (probe of ${nodes.length} fields)`,
      cache: false,
    });
    configFails = answer.config;
    failing = answer.diag.map((row) => {
      const byNode: boolean[] = [];
      order.forEach((i, k) => {
        byNode[i] = row[k]!;
      });
      return byNode;
    });
  } catch (e) {
    if (EngineError.is(e) && e.code === "engine") return { values: [], errors: [], specKeys: {}, unread: [], evaluations: 1 };
    throw e;
  }
  const values = configFails && d.checkValues ? await d.checkValues() : [];
  const valuesFail = values.length > 0;
  // A failing field is read when none of its own fields fail (its error is its own). Under
  // the module's own defaults, only fields that pass with the release's values are read.
  const leavesOf = (r: number) => {
    const hasFailingChild = new Set(nodes.flatMap((n, i) => (failing[r]![i] && n.parent !== undefined ? [n.parent] : [])));
    return nodes
      .map((n, i) => ({ ...n, i, root: r }))
      .filter((n) => failing[r]![n.i] && !hasFailingChild.has(n.i) && (r === 0 || !failing[0]![n.i]) && !(valuesFail && n.value?.includes("#config")));
  };
  const leaves = [...leavesOf(0), ...leavesOf(1)];
  const read = leaves.slice(0, MAX_LEAVES);
  const answers = await Promise.all(
    read.map(async (n) => {
      try {
        await d.engine.eval(d.program([ast.field("output", expr(n.root, n.path))]), { label: `${d.label} (field ${n.path.join(".")})`, cache: false });
        return undefined;
      } catch (e) {
        if (!EngineError.is(e) || e.code !== "engine") throw e;
        return { n, issues: e.issues };
      }
    }),
  );
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  for (const a of answers) {
    if (!a) continue;
    for (const i of a.issues) {
      const message = i.message.replace(/ \(and \d+ more errors?\)$/, "");
      // A hidden check that is absent (no env, no schedule) is not an error.
      if (a.n.hidden && /^undefined field/.test(message)) continue;
      const own = i.path === "output" || i.path.startsWith("output.");
      // An error whose path is elsewhere (a shared cause) is reported at its own path.
      const path = own ? [...a.n.path, ...(i.path === "output" ? [] : splitPath(i.path.slice("output.".length)))].join(".") : i.path;
      if (!own && valuesFail && !i.path.includes("#components")) continue;
      const key = `${path}\n${message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      errors.push({ path, message, ...(own ? {} : { origin: i.path }), ...(own && a.n.source ? { source: a.n.source } : {}) });
    }
  }
  // A spec field fails when an error is found under it (the probe's answers are not enough:
  // once a field of a closed struct fails, the evaluator may answer its siblings as failing).
  const specKeys: FieldProbeResult["specKeys"] = {};
  const failed = new Set(errors.flatMap((e) => (/(?:^|#)components\.([^.]+)\.spec\.([^.]+)/.exec(e.path) ?? []).slice(1, 3).join("\n") || []));
  nodes.forEach((n) => {
    if (n.path.length !== 4 || n.path[2] !== "spec" || n.hidden) return;
    const keys = specKeys[n.path[1]!] ?? { failing: [], passing: [] };
    specKeys[n.path[1]!] = keys;
    (failed.has(`${n.path[1]}\n${n.path[3]}`) ? keys.failing : keys.passing).push(n.path[3]!);
  });
  for (const [cn, k] of Object.entries(specKeys)) if (!k.failing.length) delete specKeys[cn];
  return { values, errors, specKeys, unread: leaves.slice(MAX_LEAVES).map((n) => n.path.join(".")), evaluations: 1 + read.length };
}

/** `a.b."x.y".c` → ["a", "b", "\"x.y\"", "c"] (quoted labels keep their quotes). */
function splitPath(p: string): string[] {
  return p.match(/"(?:[^"\\]|\\.)*"|[^.]+/g) ?? [];
}

/** The line of each key set under `values` in a release's CUE files (`values.a.b` → line). */
export function valueLines(files: readonly ParsedFile[]): Map<string, SourceLocation> {
  const out = new Map<string, SourceLocation>();
  for (const f of files) {
    const body = f.body;
    const offset = f.file.text.length - body.length;
    const at = (i: number): SourceLocation => {
      const before = f.file.text.slice(0, i + offset);
      const line = before.split("\n").length;
      return { file: f.file.name, line, column: i + offset - before.lastIndexOf("\n") };
    };
    // The release's fields may sit inside `core.#ModuleRelease & {...}`: look one struct deep too.
    const walk = (nodes: FieldNode[]) => {
      for (const n of nodes) {
        const i = n.path.indexOf("values");
        if (i >= 0) {
          const rec = (m: FieldNode) => {
            out.set(["values", ...m.path.slice(i + 1)].join("."), m.source);
            m.children.forEach(rec);
          };
          n.children.forEach(rec);
        } else walk(n.children);
      }
    };
    const inner = unifiedStruct(body);
    walk(declaredFields(body, 0, body.length, at, (l) => !/^[#_]/.test(l)));
    if (inner) walk(declaredFields(body, inner.from, inner.to, at));
  }
  return out;
}

/** The values a CUE module's own release sets, checked against its `#config` schema. */
export async function releaseValueIssues(engine: Engine, parsed: readonly ParsedFile[], program: (decls: readonly ast.Decl[]) => string): Promise<Issue[]> {
  const schema = await cueConfigSchema(
    engine,
    parsed.filter((f) => f.package !== "release"),
  ).catch(() => undefined);
  if (!schema) return [];
  let values: unknown;
  try {
    values = (
      await engine.eval<{ values: unknown }>(program([ast.field("values", renderOut("#release", "values"))]), {
        label: "the values of a failed release",
        cache: false,
      })
    ).values;
  } catch {
    return [];
  }
  const lines = valueLines(parsed.filter((f) => f.package === "release"));
  return checkValue(schema, values, "values").map((i) => {
    let at: SourceLocation | undefined;
    for (let segs = i.path.split("."); segs.length > 1 && !at; segs = segs.slice(0, -1)) at = lines.get(segs.join("."));
    return { ...i, ...(at ? { source: at } : {}) };
  });
}
