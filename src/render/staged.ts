/**
 * The staged render: the same results as the reference program (one whole program, see
 * `buildProgram`), computed by several smaller CUE programs, all evaluated by the engine:
 *
 * 1. stage 1 resolves the release to plain data through `core.#Render` (no transformer
 *    runs): identity, per component its labels, resources, traits, transformer context,
 *    matched transformers and concrete data, the values and the module's secrets;
 * 2. stage 2 evaluates each matched (component, transformer) pair on that literal data.
 *    Each pair has a key of its own (the digest of its standalone program) and its result
 *    is cached under it, so a changed component re-evaluates only its own pairs. The pairs
 *    not cached are evaluated several to a program (a program's linked catalog costs far
 *    more than a pair), one program per worker of the pool, and put back in the reference
 *    program's order, so the output never depends on the pool size;
 * 3. stage 3 checks the policies on the literal components and objects, and renders the
 *    release's secrets.
 *
 * The staged render answers `undefined` (the caller then runs the reference program) when
 * it cannot give the reference's answer itself: when a stage fails in CUE (the reference
 * program then reports the error, with its paths, `file:line`s and diagnosis), and for a
 * module written in CUE that declares `#policies` (its policies are CUE of the module's
 * package, not data the render can hand to a separate program).
 */
import { EngineError, EngineTimeoutError } from "../core/errors.js";
import type { PolicyUse } from "../../dsl/policy.js";
import { CUSTOM_PACKAGE } from "../../dsl/define.js";
import type { Engine, EvalStats } from "../engine/engine.js";
import {
  stage1Program,
  stage2Pairs,
  stage2Program,
  stage3Program,
  transformerTable,
  transformerTableProgram,
  type Pair,
  type ProviderInput,
  type Stage1Out,
  type TransformerSummary,
  type TransformerTable,
} from "../program/stages.js";
import { localPackages, platformPackage, type Prepared, type RenderOut } from "./render.js";
import type { ParsedFile } from "../program/link.js";
import { catalogPackage } from "../program/link.js";
import { matchRelease } from "../program/match.js";
import { Module, ModuleRelease } from "../../dsl/module.js";
import { refsIn } from "../../dsl/refs.js";
import type { K8sObject, Violation } from "./types.js";

/** Timings and counts of a staged render (in {@link RenderStats.stages}). */
export interface StageStats {
  /** Wall milliseconds of stage 1 (the release resolved to data). */
  stage1Ms: number;
  /** Wall milliseconds of stage 2 (the pairs). */
  stage2Ms: number;
  /** Wall milliseconds of stage 3 (policies, release secrets); 0 when not needed. */
  stage3Ms: number;
  /** Matched (component, transformer) pairs. */
  pairs: number;
  /** Pairs answered from the result cache. */
  pairsCached: number;
  /** Programs evaluated (or answered from the cache), the transformer table included. */
  programs: number;
}

export interface StagedInput {
  prepared: Prepared;
  engine: Engine;
  provider: string;
  platform: readonly PolicyUse[];
  /** Result cache mode of every evaluation. */
  cache: boolean | "memory";
  /** Name of the release, for labels of evaluations. */
  label: string;
  timeoutMs?: number;
}

export interface StagedOutput {
  out: RenderOut;
  violations: Violation[];
  releaseObjects: K8sObject[];
  programBytes: number;
  stages: StageStats;
  /** Whether every program and pair was answered from the result cache. */
  cached: boolean;
}

const tables = new Map<string, Promise<TransformerTable>>();

/** The provider's transformer table, evaluated once per process (and cached by the engine). */
function table(engine: Engine, p: ProviderInput, cache: boolean | "memory"): Promise<TransformerTable> {
  // Keyed by the provider and the module's own definitions (the catalog is read once per process).
  const key = `${p.provider}\u0000${p.custom?.files.map((f) => f.file.text).join("\u0000") ?? ""}`;
  let t = tables.get(key);
  if (!t) {
    const { source } = transformerTableProgram(p);
    t = engine
      .eval<{ out: { transformers: Record<string, TransformerSummary>; definitions: Record<string, string> } }>(source, {
        label: `the transformers of ${p.provider}`,
        cache: cache !== false,
      })
      .then((v) => transformerTable(p, v.out));
    tables.set(key, t);
    t.catch(() => tables.delete(key));
  }
  return t;
}

/** A crash or a timeout is the evaluator's failure, not the program's: it is reported as it is. */
function evaluatorFailure(e: unknown): boolean {
  return EngineTimeoutError.is(e) || (EngineError.is(e) && e.issues.some((i) => /^the CUE (evaluator crashed|engine worker stopped)/.test(i.message)));
}

/** Short name of a transformer for messages: `opm.dev/.../deployment@v1` → `deployment`. */
function shortName(fqn: string): string {
  return (
    fqn
      .replace(/@v\d+$/, "")
      .split("/")
      .pop() ?? fqn
  );
}

function pairsLabel(release: string, pairs: readonly Pair[]): string {
  const named = pairs.slice(0, 4).map((p) => `component ${p.component}, transformer ${shortName(p.transformer)}`);
  return `${named.join("; ")}${pairs.length > 4 ? `; and ${pairs.length - 4} more pairs` : ""} (release ${release})`;
}

/** Splits `xs` into at most `n` contiguous, nearly equal chunks. */
function chunks<T>(xs: readonly T[], n: number): T[][] {
  const k = Math.max(1, Math.min(n, xs.length));
  const out: T[][] = [];
  for (let i = 0; i < k; i++) out.push(xs.slice(Math.floor((i * xs.length) / k), Math.floor(((i + 1) * xs.length) / k)));
  return out.filter((c) => c.length);
}

/**
 * Fewest pairs per stage-2 program: a program's linked catalog costs about as much as a few
 * pairs, and a second worker costs far more to start, so a small release stays on one worker.
 */
const MIN_PAIRS_PER_PROGRAM = 8;

/** Components per stage-1 program when a release is split (see {@link stage1Parts}). */
const STAGE1_CHUNK = 8;

interface Stage1Part {
  files: readonly ParsedFile[];
  /** The part's stage-1 program, by transformer table and options (kept with the slices of a release object). */
  programs?: WeakMap<TransformerTable, Map<string, string>>;
  matched?: Record<string, string[]>;
  first?: string;
  last?: string;
}

/** The slices of a release object, with the matching and the compiled text they were cut for. */
const slicesOf = new WeakMap<object, { matched: string; parts: Stage1Part[] }>();

/** {@link stage1Parts}, kept per release object: an unchanged re-render does not compile the slices again. */
function stage1PartsOf(p: Prepared, matched: Record<string, string[]> | undefined): Stage1Part[] {
  const rel = p.release;
  const parts = rel && slicesOf.get(rel);
  // Keyed by content too: the release's whole compiled text (a release's values could be changed in place).
  const key = `${JSON.stringify(matched ?? null)}\u0000${p.program.files.map((f) => f.file.text).join("\u0000")}`;
  if (parts && parts.matched === key) return parts.parts;
  const made = stage1Parts(p, matched);
  if (rel && made.length > 1) {
    for (const m of made) m.programs = new WeakMap();
    slicesOf.set(rel, { matched: key, parts: made });
  }
  return made;
}

/**
 * The stage-1 programs of a release. A TypeScript release whose components do not refer to
 * each other (`#components.<name>`) is split into releases of the same module with a slice
 * of its components each: they evaluate side by side on the pool, and a changed component
 * re-evaluates only its slice (each slice is cached by its own text). Otherwise one program.
 */
function stage1Parts(p: Prepared, matched: Record<string, string[]> | undefined): Stage1Part[] {
  const whole = [{ files: p.program.files, ...(matched ? { matched } : {}) }];
  const rel = p.release;
  if (!rel || !matched || rel.module.transformers.length) return whole;
  const built = rel.module.components();
  const names = Object.keys(built);
  if (names.length <= STAGE1_CHUNK) return whole;
  if (Object.values(built).some((c) => refsIn([c.parts.map((x) => x.spec), c.ownAnnotations]).some((r) => r.root === "#components"))) return whole;
  const m = rel.module;
  const out: Stage1Part[] = [];
  for (let i = 0; i < names.length; i += STAGE1_CHUNK) {
    const slice = names.slice(i, i + STAGE1_CHUNK);
    const sub = new Module(
      { metadata: m.metadata, config: m.config, policies: [...m.policies], components: () => Object.fromEntries(slice.map((n) => [n, built[n]!])) } as never,
      m.site,
    );
    const release = new ModuleRelease(sub, {
      name: rel.name,
      namespace: rel.namespace,
      clusterDomain: rel.clusterDomain,
      values: { ...rel.values },
      provenance: () => undefined,
    });
    const compiled = release.compile();
    if (compiled.issues.length) return whole;
    out.push({
      files: compiled.printed,
      matched: Object.fromEntries(slice.map((n) => [n, matched[n] ?? []])),
      first: slice[0]!,
      last: slice[slice.length - 1]!,
    });
  }
  return out;
}

/**
 * Evaluates a release in stages. Undefined when the reference program must answer
 * (see the file comment); a crash or a timeout of the evaluator is thrown.
 */
export async function renderStaged(s: StagedInput): Promise<StagedOutput | undefined> {
  const { prepared: p, engine } = s;
  // Only modules that declare them pay for policy checks and release secrets (as in the reference program).
  const checkPolicies = s.platform.length > 0 || p.program.declares.policies;
  const releaseSecrets = p.program.declares.secrets;
  if (checkPolicies && !p.release) return undefined;
  // An unknown provider or policy package is reported by the reference program's linker.
  const uses = [...s.platform, ...(p.release?.module.policies ?? [])];
  if (!catalogPackage(s.provider) || uses.some((u) => !u.custom && !catalogPackage(u.cue.importPath))) return undefined;
  const { local, resolve, releasePkg } = localPackages(p.program.files);
  const customPkg = local.get(CUSTOM_PACKAGE);
  const custom = p.program.declares.transformers ? customPkg : undefined;
  const stats: StageStats = { stage1Ms: 0, stage2Ms: 0, stage3Ms: 0, pairs: 0, pairsCached: 0, programs: 1 };
  const opts = (label: string) => ({ label, cache: s.cache, ...(s.timeoutMs ? { timeoutMs: s.timeoutMs } : {}) });
  let programBytes = 0;
  let cached = true;
  try {
    const t0 = performance.now();
    const tab = await table(engine, { provider: s.provider, ...(custom ? { custom } : {}) }, s.cache);
    // A TypeScript release is matched here, by the same rules as `core.#Match` (match.ts).
    const matched = p.release && !p.release.module.transformers.length ? matchRelease(p.release, tab.transformers) : undefined;
    // Stage 1: the release as data, in chunks of components when they are independent.
    const parts = stage1PartsOf(p, matched);
    const ones = await Promise.all(
      parts.map(async (part, i) => {
        // A part's program is built once per set of inputs (the slices of a release object are kept, see stage1PartsOf).
        const key = `${checkPolicies} ${releaseSecrets} ${s.provider}`;
        let source1 = part.programs?.get(tab)?.get(key);
        if (source1 === undefined) {
          const local1 = part.files === p.program.files ? { releasePkg, resolve } : localPackages(part.files);
          source1 = stage1Program({
            release: local1.releasePkg,
            resolve: local1.resolve,
            ...(part.matched ? { matched: part.matched } : {}),
            transformers: tab.transformers,
            allData: checkPolicies,
            secrets: releaseSecrets,
          });
          if (part.programs) {
            const byTable = part.programs.get(tab) ?? new Map<string, string>();
            byTable.set(key, source1);
            part.programs.set(tab, byTable);
          }
        }
        programBytes += source1.length;
        stats.programs++;
        const st1: EvalStats = { evalMs: 0 };
        const what =
          parts.length > 1 ? `components ${part.first}…${part.last} (stage 1, part ${i + 1} of ${parts.length})` : "stage 1: the release resolved to data";
        const value = (await engine.eval<{ out: Stage1Out }>(source1, { ...opts(`release ${s.label} (${what})`), stats: st1 })).out;
        cached &&= Boolean(st1.cached);
        return value;
      }),
    );
    const one: Stage1Out =
      ones.length === 1
        ? ones[0]!
        : {
            ...ones[0]!,
            components: Object.assign({}, ...ones.map((o) => o.components)),
            data: Object.assign({}, ...ones.map((o) => o.data)),
            pairs: ones.flatMap((o) => o.pairs),
          };
    const t1 = performance.now();
    stats.stage1Ms = t1 - t0;
    // Stage 2: the pairs, from the cache or several to a program, one program per worker.
    const contexts = Object.fromEntries(Object.entries(one.components).map(([cn, c]) => [cn, c.context]));
    const pairs = stage2Pairs(tab, one.pairs, one.data, contexts);
    stats.pairs = pairs.length;
    const results: (string | undefined)[] = await Promise.all(pairs.map((pair) => engine.cachedPart(pair.key, s.cache)));
    const todo = pairs.map((pair, i) => ({ pair, i })).filter(({ i }) => results[i] === undefined);
    stats.pairsCached = pairs.length - todo.length;
    if (todo.length) cached = false;
    await Promise.all(
      chunks(todo, Math.min(engine.workers, Math.ceil(todo.length / MIN_PAIRS_PER_PROGRAM))).map(async (chunk) => {
        const source = stage2Program(
          tab,
          chunk.map((c) => c.pair),
        );
        programBytes += source.length;
        stats.programs++;
        const texts = (
          await engine.eval<{ out: string[] }>(source, {
            ...opts(
              pairsLabel(
                s.label,
                chunk.map((c) => c.pair),
              ),
            ),
            cache: false,
          })
        ).out;
        chunk.forEach(({ pair, i }, j) => {
          results[i] = texts[j]!;
          engine.rememberPart(pair.key, texts[j]!, s.cache);
        });
      }),
    );
    const outputs = results.map((r) => JSON.parse(r!) as K8sObject[]);
    const t2 = performance.now();
    stats.stage2Ms = t2 - t1;
    // Stage 3: policies and the release's secrets, on literal data.
    let violations: Violation[] = [];
    let releaseObjects: K8sObject[] = [];
    if (checkPolicies || releaseSecrets) {
      const rel = p.release!;
      const customOf = (u: PolicyUse) => (u.custom ? (s.platform.includes(u) ? platformPackage(s.platform) : customPkg) : undefined);
      const policies = checkPolicies
        ? [...(rel?.module.policies ?? []), ...s.platform].map((use) => ({ use, ...(customOf(use) ? { pkg: customOf(use)! } : {}) }))
        : [];
      const source3 = stage3Program({
        provider: s.provider,
        policies,
        components: checkPolicies
          ? Object.fromEntries(
              Object.entries(one.components).map(([cn, c]) => [cn, { labels: c.labels, resources: c.resources, traits: c.traits, data: one.data[cn]! }]),
            )
          : {},
        objects: checkPolicies ? pairs.flatMap((pair, i) => outputs[i]!.map((o) => ({ component: pair.component, object: JSON.stringify(o) }))) : [],
        ...(releaseSecrets ? { secrets: { list: one.secrets ?? [], release: one.release, module: one.module } } : {}),
      });
      programBytes += source3.length;
      stats.programs++;
      const st3: EvalStats = { evalMs: 0 };
      const three = (
        await engine.eval<{ out: { violations?: Violation[]; secrets?: K8sObject[] } }>(source3, {
          ...opts(`release ${s.label} (stage 3: policies and secrets)`),
          stats: st3,
        })
      ).out;
      cached &&= Boolean(st3.cached);
      violations = three.violations ?? [];
      releaseObjects = three.secrets ?? [];
      stats.stage3Ms = performance.now() - t2;
    }
    const out: RenderOut = {
      release: one.release,
      module: one.module,
      components: one.components,
      transformers: tab.transformers,
      values: one.values,
      objects: pairs.map((pair, i) => ({ component: pair.component, transformer: pair.transformer, output: outputs[i]! })),
    };
    return { out, violations, releaseObjects, programBytes, stages: stats, cached };
  } catch (e) {
    if (evaluatorFailure(e)) throw e;
    if (EngineError.is(e)) return undefined;
    throw e;
  }
}
