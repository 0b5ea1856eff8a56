/**
 * The engine: the CUE evaluator (cue-wasm) in a pool of worker threads, with timeouts, crash
 * recovery and the result cache. Loading and compiling cue-wasm is in wasm.ts, the worker's
 * program in worker-source.ts, the result cache in cache.ts.
 *
 * Size: over 400 lines because the `Engine` class is one state machine (worker slots, the job
 * queue, timeouts, crash replacement, the cache lookups around each job) whose parts share its
 * private state; splitting the class would only spread that state across files.
 */
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { EngineError, EngineTimeoutError, OpmError, type Issue } from "../core/errors.js";
import { parseDuration } from "../core/duration.js";
import { WORKER_SOURCE } from "./worker-source.js";
import { ResultCache, resultKey } from "./cache.js";
import { cacheFile, cueModule, cueWasmFiles, evaluatorId } from "./wasm.js";

export { cacheFile } from "./wasm.js";

/** Options of an {@link Engine}. */
export interface EngineOptions {
  /** Milliseconds one evaluation may take before it is stopped (default 30 000). */
  timeoutMs?: number;
  /** The most worker threads to run at once (default `OPM_WORKERS`, else min(available cores, 4)). */
  workers?: number;
  /**
   * Whether to use the process-wide result cache (default true; `OPM_RENDER_CACHE=off`
   * turns it off for every engine).
   */
  cache?: boolean;
}

/** Timings of one evaluation. */
export interface EvalStats {
  /** Milliseconds spent inside the evaluator (0 when the result came from the cache). */
  evalMs: number;
  /** Whether the result came from the result cache. */
  cached?: boolean;
}

type Op = "init" | "eval" | "openapi";
type Reply = { id: number; ok: boolean; value?: string; error?: string; ms?: number; fatal?: boolean; init?: boolean };

interface Job {
  id: number;
  op: Op;
  source: string;
  /** What the job evaluates, for errors. */
  label: string;
  /** This job's time limit (the engine's when not given), and when it was asked for. */
  timeoutMs?: number;
  queuedAt?: number;
  resolve: (v: Answer) => void;
  reject: (e: unknown) => void;
}

// ---------------------------------------------------------------- the result cache

let sharedCache: ResultCache | undefined;
let sharedCacheDir: string | undefined;

/**
 * The process-wide result cache: in memory, and on disk in `results/` of opm-ts's cache
 * folder (see `cachePath` in wasm.ts; `OPM_CACHE_DIR=off` keeps it in memory only).
 * `OPM_RENDER_CACHE_MAX_MB` bounds the disk cache (default 256).
 */
export function resultCache(): ResultCache {
  const dir = cacheFile("results");
  if (!sharedCache || sharedCacheDir !== dir) {
    const mb = Number(process.env.OPM_RENDER_CACHE_MAX_MB);
    sharedCache = new ResultCache({ dir, ...(mb > 0 ? { maxDiskBytes: mb * 1024 * 1024 } : {}) });
    sharedCacheDir = dir;
  }
  return sharedCache;
}

/** Whether results are cached: not when `OPM_RENDER_CACHE=off` (read at every call). */
function cacheEnabled(): boolean {
  return process.env.OPM_RENDER_CACHE !== "off";
}

// ---------------------------------------------------------------- the engine

/** Options of one evaluation. */
export interface EvalOptions {
  /** Timings of the evaluation are written here. */
  stats?: EvalStats;
  /**
   * What is being evaluated, in words, for errors (e.g.
   * `component web, transformer deployment`): a crash or a timeout names it.
   */
  label?: string;
  /**
   * `false` neither reads nor writes the result cache; `"memory"` keeps the result out
   * of the disk cache (for programs holding secret values). Default: the engine's setting.
   */
  cache?: boolean | "memory";
  /** This evaluation's time limit in ms (default: the engine's). */
  timeoutMs?: number;
}

/** The number of workers when not given: `OPM_WORKERS`, else min(available cores, 4). */
export function defaultWorkers(): number {
  const env = Number(process.env.OPM_WORKERS);
  if (Number.isInteger(env) && env > 0) return env;
  return Math.max(1, Math.min(availableParallelism(), 4));
}

type Answer = { ok: boolean; value?: string; error?: string; ms: number };

interface Slot {
  worker: Worker;
  /** The job the worker is evaluating (its first job is `init`). */
  running?: { job: Job; timer: NodeJS.Timeout };
  /** Set once the worker has loaded the evaluator. */
  loaded: boolean;
  /** Resolves when the worker has loaded the evaluator. */
  init: Promise<void>;
}

/**
 * The CUE evaluator (cue-wasm, CUE v0.4.3) in a pool of worker threads, so evaluation
 * never blocks the caller's event loop and independent programs run in parallel.
 *
 * Workers are started on demand, up to {@link Engine.workers} (default
 * min(available cores, 4), or `OPM_WORKERS`): one by {@link Engine.start} or the first
 * call, more while calls wait. Each worker evaluates one program at a time; calls are
 * answered in any order, so callers assemble results by their own keys. An evaluation
 * that runs past the timeout is stopped by terminating its worker; it fails with
 * {@link EngineTimeoutError}. A crash of the evaluator fails only the call that caused it
 * with an {@link EngineError}. Both name the call's `label`, and the worker is replaced.
 *
 * Results are cached by content (see {@link EvalOptions.cache}): an unchanged program is
 * answered from memory or from the disk cache without evaluating it again.
 */
export class Engine {
  /** Milliseconds one evaluation may take. */
  readonly timeoutMs: number;
  /** The most workers this engine runs at once. */
  readonly workers: number;
  /** Whether this engine uses the result cache. */
  readonly cache: boolean;
  #slots: Slot[] = [];
  #queue: Job[] = [];
  #nextId = 1;
  #closed = false;
  #inflight = new Map<string, Promise<Answer>>();

  constructor(options: EngineOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.workers = Math.max(1, Math.floor(options.workers ?? defaultWorkers()));
    this.cache = options.cache ?? true;
  }

  /**
   * Starts a worker and loads the evaluator (done on first use otherwise). Calling it
   * early lets the engine load while the caller does other work.
   */
  start(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("engine is closed"));
    if (this.#slots.some((s) => s.loaded)) return Promise.resolve();
    try {
      const slot = this.#slots[0] ?? this.#spawn();
      // A caller may wait for this alone: keep the process alive until the worker has loaded.
      slot.worker.ref();
      return slot.init;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Workers running now (for tests and diagnostics). */
  get running(): number {
    return this.#slots.length;
  }

  #spawn(): Slot {
    const f = cueWasmFiles();
    // No inherited Node options: the worker source is CommonJS whatever `--input-type` the
    // process runs with, and loaders such as tsx (`--import tsx`) are not loaded again.
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { wasmExecUrl: f.wasmExecUrl } });
    worker.unref();
    const slot: Slot = { worker, loaded: false, init: Promise.resolve() };
    this.#slots.push(slot);
    worker.on("message", (m: Reply) => this.#reply(slot, m));
    worker.on("error", (e) => this.#lost(slot, e));
    worker.on("exit", () => this.#lost(slot, new Error("the CUE engine worker exited")));
    cueModule().then(
      (module) => {
        if (this.#slots.includes(slot)) worker.postMessage({ op: "module", module });
      },
      (e: unknown) => {
        const err = new Error(`opm-ts: cannot load the CUE engine: ${e instanceof Error ? e.message : String(e)}`);
        void worker.terminate();
        this.#lost(slot, err);
      },
    );
    slot.init = new Promise<void>((resolve, reject) => {
      this.#send(slot, { id: this.#nextId++, op: "init", source: "", label: "", resolve: () => resolve(), reject });
    });
    slot.init.catch(() => undefined);
    return slot;
  }

  #send(slot: Slot, job: Job): void {
    const timeoutMs = job.op === "init" ? Math.max(this.timeoutMs, 60_000) : (job.timeoutMs ?? this.timeoutMs);
    const timer = setTimeout(() => this.#timeout(slot, job, timeoutMs), timeoutMs);
    slot.running = { job, timer };
    slot.worker.postMessage({ id: job.id, op: job.op, source: job.source });
  }

  /** Hands queued jobs to idle workers, starts workers for jobs still waiting, and keeps the process alive only while needed. */
  #pump(): void {
    if (this.#closed) return;
    for (const slot of this.#slots) {
      if (!this.#queue.length) break;
      if (!slot.running) this.#send(slot, this.#queue.shift()!);
    }
    // Start workers for the jobs still waiting (each booting worker will take one).
    const booting = () => this.#slots.filter((s) => s.running?.job.op === "init").length;
    while (this.#queue.length > booting() && this.#slots.length < this.workers) this.#spawn();
    const waiting = this.#queue.length > 0;
    for (const s of this.#slots) {
      // A worker only holds the process open while a caller waits for it.
      if (s.running && (s.running.job.op !== "init" || waiting)) s.worker.ref();
      else s.worker.unref();
    }
  }

  #remove(slot: Slot): void {
    const i = this.#slots.indexOf(slot);
    if (i < 0) return;
    this.#slots.splice(i, 1);
    if (slot.running) clearTimeout(slot.running.timer);
  }

  #reply(slot: Slot, m: Reply): void {
    const run = slot.running;
    if (!run || run.job.id !== m.id || !this.#slots.includes(slot)) return;
    clearTimeout(run.timer);
    slot.running = undefined;
    const job = run.job;
    if (m.ok) {
      if (job.op === "init") slot.loaded = true;
      job.resolve({ ok: true, value: m.value ?? "", ms: m.ms ?? 0 });
    } else if (m.fatal) {
      // The worker exits after a fatal reply; a new one takes the jobs still queued.
      this.#remove(slot);
      const e = m.init
        ? new Error(`opm-ts: cannot load the CUE engine: ${m.error}`)
        : new EngineError(
            [{ code: "engine", path: "", message: `the CUE evaluator crashed${about(job)}: ${firstLines(m.error ?? "")}` }],
            `the CUE evaluator crashed${about(job)}`,
          );
      job.reject(e);
      if (m.init) this.#rejectAll(e);
    } else job.resolve({ ok: false, error: m.error ?? "unknown error", ms: m.ms ?? 0 });
    this.#pump();
  }

  #timeout(slot: Slot, job: Job, timeoutMs: number): void {
    if (slot.running?.job !== job) return;
    // A running evaluation cannot be interrupted inside WebAssembly: replace the worker.
    this.#remove(slot);
    slot.running = undefined;
    void slot.worker.terminate();
    const e =
      job.op === "init"
        ? new Error(`opm-ts: the CUE engine did not load within ${timeoutMs} ms`)
        : new EngineTimeoutError(timeoutMs, job.label || undefined, Math.round(performance.now() - (job.queuedAt ?? performance.now())));
    job.reject(e);
    if (job.op === "init") this.#rejectAll(e);
    this.#pump();
  }

  /** A worker stopped unexpectedly: fail the job it was running, go on with a new one. */
  #lost(slot: Slot, e: unknown): void {
    if (!this.#slots.includes(slot)) return;
    const run = slot.running;
    this.#remove(slot);
    slot.running = undefined;
    if (run) {
      if (run.job.op === "init") {
        run.job.reject(e);
        this.#rejectAll(e);
      } else {
        const msg = `the CUE engine worker stopped${about(run.job)}: ${e instanceof Error ? e.message : String(e)}`;
        run.job.reject(new EngineError([{ code: "engine", path: "", message: msg }], msg));
      }
    }
    this.#pump();
  }

  #rejectAll(e: unknown): void {
    for (const job of this.#queue.splice(0)) job.reject(e);
  }

  #call(op: Op, source: string, label: string, timeoutMs?: number): Promise<Answer> {
    if (this.#closed) return Promise.reject(new Error("engine is closed"));
    const p = new Promise<Answer>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, op, source, label, resolve, reject, queuedAt: performance.now(), ...(timeoutMs ? { timeoutMs } : {}) });
    });
    try {
      this.#pump();
    } catch (e) {
      this.#rejectAll(e); // cue-wasm cannot be found
    }
    return p;
  }

  /** Evaluates (or finds in the cache) one program; the evaluator's own errors come back as answers. */
  async #answer(op: Op, source: string, options: EvalOptions): Promise<Answer & { cached?: boolean }> {
    // A closed engine answers nothing, not even from the cache.
    if (this.#closed) throw new Error("engine is closed");
    const mode = options.cache ?? true;
    if (!this.cache || mode === false || !cacheEnabled()) return this.#call(op, source, options.label ?? "", options.timeoutMs);
    const disk = mode !== "memory";
    const cache = resultCache();
    const key = resultKey({ evaluator: evaluatorId(), op, source });
    const hit = await cache.get(key, disk);
    if (hit) return hit.ok ? { ok: true, value: hit.value, ms: 0, cached: true } : { ok: false, error: hit.error, ms: 0, cached: true };
    // The same program asked for twice at once is evaluated once.
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = this.#call(op, source, options.label ?? "", options.timeoutMs);
      this.#inflight.set(key, pending);
      pending
        .then(
          (a) => cache.set(key, a.ok ? { ok: true, value: a.value ?? "" } : { ok: false, error: a.error ?? "" }, disk),
          () => undefined, // crashes and timeouts are not cached
        )
        .finally(() => this.#inflight.delete(key));
    }
    return pending;
  }

  /**
   * Evaluates a CUE program and returns its JSON value (parsed). The second argument is
   * the {@link EvalOptions} (or, as before, an {@link EvalStats} to fill in).
   */
  async eval<T = unknown>(source: string, options?: EvalStats | EvalOptions): Promise<T> {
    return JSON.parse(await this.evalText(source, options)) as T;
  }

  /** Evaluates a CUE program and returns its JSON text. */
  async evalText(source: string, options?: EvalStats | EvalOptions): Promise<string> {
    const o = evalOptions(options);
    const r = await this.#answer("eval", source, o);
    if (o.stats) {
      o.stats.evalMs = r.ms;
      o.stats.cached = Boolean(r.cached);
    }
    if (!r.ok) throw new EngineError(parseEngineError(r.error ?? "unknown error"));
    return r.value ?? "";
  }

  /** Exports the definitions of a CUE program as an OpenAPI 3 document (parsed). */
  async openapi<T = unknown>(source: string, options?: EvalOptions): Promise<T> {
    const r = await this.#answer("openapi", source, options ?? {});
    if (!r.ok) throw new EngineError(parseEngineError(r.error ?? "unknown error"));
    return JSON.parse(r.value ?? "") as T;
  }

  /**
   * The cached result of a part of a program the caller evaluated inside a larger one
   * (such as one (component, transformer) pair of the staged render), by the part's own
   * key: the digest of the standalone program that evaluates it alone. The same switches
   * as {@link Engine.eval}'s `cache` apply; undefined when not cached or caching is off.
   */
  async cachedPart(key: string, mode: boolean | "memory" = true): Promise<string | undefined> {
    if (this.#closed) throw new Error("engine is closed");
    if (!this.cache || mode === false || !cacheEnabled()) return undefined;
    const hit = await resultCache().get(resultKey({ evaluator: evaluatorId(), op: "part", source: key }), mode !== "memory");
    return hit?.ok ? hit.value : undefined;
  }

  /** Stores the result of a part (see {@link Engine.cachedPart}). */
  rememberPart(key: string, value: string, mode: boolean | "memory" = true): void {
    if (!this.cache || mode === false || !cacheEnabled()) return;
    void resultCache().set(resultKey({ evaluator: evaluatorId(), op: "part", source: key }), { ok: true, value }, mode !== "memory");
  }

  /** Stops the workers. Calls still queued or running fail; further calls fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const e = new Error("engine is closed");
    const slots = this.#slots.splice(0);
    for (const s of slots) {
      if (s.running) {
        clearTimeout(s.running.timer);
        s.running.job.reject(e);
        s.running = undefined;
      }
    }
    this.#rejectAll(e);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}

function evalOptions(o: EvalStats | EvalOptions | undefined): EvalOptions {
  if (!o) return {};
  if ("stats" in o || "label" in o || "cache" in o || "timeoutMs" in o) return o as EvalOptions;
  return { stats: o as EvalStats };
}

function about(job: Job): string {
  return job.label ? ` while evaluating ${job.label}` : "";
}

function firstLines(text: string): string {
  const lines = text.split("\n").filter((l) => l.trim());
  const i = lines.findIndex((l) => /^panic|^fatal error/.test(l));
  return (i >= 0 ? lines.slice(i, i + 2) : lines.slice(0, 2)).join(" ").trim() || "no message";
}

/**
 * Turns the evaluator's error text into issues. The text has the form
 * `path.to.field: message` (possibly several lines); the path has no file position.
 */
export function parseEngineError(text: string): Issue[] {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const out: Issue[] = [];
  for (const line of lines.length ? lines : [text]) {
    const m = /^(?:cue: marshal error: )?((?:[#_A-Za-z0-9$"\-/.@]|\[\d+\])+?): (.*)$/.exec(line);
    if (m && !/\s/.test(m[1]!)) out.push({ code: "engine", path: m[1]!, message: m[2]! });
    else out.push({ code: "engine", path: "", message: line.replace(/^cue: marshal error: /, "") });
  }
  return out;
}

let shared: Engine | undefined;

/** The process-wide engine, created on first use. */
export function defaultEngine(): Engine {
  if (!shared) shared = new Engine({ timeoutMs: evalTimeoutFromEnv() ?? (Number(process.env.OPM_ENGINE_TIMEOUT_MS) || undefined) });
  return shared;
}

/** `OPM_EVAL_TIMEOUT` (`90s`, `2m`, or seconds) in milliseconds; an invalid value is an error. */
export function evalTimeoutFromEnv(): number | undefined {
  const v = process.env.OPM_EVAL_TIMEOUT;
  if (v === undefined || v === "") return undefined;
  const ms = parseDuration(v);
  if (ms === undefined) throw new OpmError("usage", `OPM_EVAL_TIMEOUT=${JSON.stringify(v)} is not a duration: use e.g. 90s, 2m or a number of seconds`);
  return ms;
}
