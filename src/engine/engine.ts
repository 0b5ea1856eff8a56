import { Worker } from "node:worker_threads";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { gunzip } from "node:zlib";
import { promisify } from "node:util";
import { EngineError, EngineTimeoutError, OpmError, type Issue } from "../core/errors.js";
import { WORKER_SOURCE } from "./worker-source.js";
import { parseDuration } from "../core/duration.js";

/** Options of an {@link Engine}. */
export interface EngineOptions {
  /** Milliseconds one evaluation may take before it is stopped (default 30 000). */
  timeoutMs?: number;
}

/** Timings of one evaluation. */
export interface EvalStats {
  /** Milliseconds spent inside the evaluator. */
  evalMs: number;
}

type Op = "init" | "eval" | "openapi";
type Reply = { id: number; ok: boolean; value?: string; error?: string; ms?: number; fatal?: boolean; init?: boolean };

interface Job {
  id: number;
  op: Op;
  source: string;
  /** This call's time limit (the engine's when not given), and when it was asked for. */
  timeoutMs?: number;
  queuedAt?: number;
  resolve: (v: { value: string; ms: number }) => void;
  reject: (e: unknown) => void;
}

// ---------------------------------------------------------------- loading cue-wasm

interface CueWasmFiles {
  version: string;
  /** cue-wasm's Go runtime glue (defines `globalThis.Go`). */
  wasmExecUrl: string;
  /** cue-wasm's ES module exporting the gzipped, base64-encoded WebAssembly module. */
  inlinePath: string;
  /** Where the decompressed module is cached. */
  cachePath: string | undefined;
}

let files: CueWasmFiles | undefined;

/** Finds the files of the installed cue-wasm package (ESM only, so read from its folder). */
function cueWasmFiles(): CueWasmFiles {
  if (files) return files;
  const require = createRequire(import.meta.url);
  const dist = path.dirname(require.resolve("cue-wasm"));
  const pkgDir = path.dirname(dist);
  const version = (JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8")) as { version: string }).version;
  // The ESM entry imports its two chunks by hashed names: read them from it.
  const entry = readFileSync(path.join(dist, "cue-wasm-index.modern.js"), "utf8");
  const wasmExec = /import\("\.\/(wasm_exec\.full-[\w]+\.js)"\)/.exec(entry)?.[1];
  const inline = /import\("\.\/(cue\.wasm\.full\.inline-[\w]+\.js)"\)/.exec(entry)?.[1];
  if (!wasmExec || !inline) throw new Error(`opm-ts: cannot find the WebAssembly chunks of cue-wasm ${version} in ${dist}`);
  files = {
    version,
    wasmExecUrl: pathToFileURL(path.join(dist, wasmExec)).href,
    inlinePath: path.join(dist, inline),
    cachePath: cachePath(pkgDir, `cue-wasm-${version}-${inline.replace(/^cue\.wasm\.full\.inline-|\.js$/g, "")}.wasm`),
  };
  return files;
}

/**
 * The cache file for the decompressed module: `OPM_CACHE_DIR` if set (`off` disables
 * the cache), else `node_modules/.cache/opm-ts/` beside the installed cue-wasm.
 */
function cachePath(pkgDir: string, name: string): string | undefined {
  const env = process.env.OPM_CACHE_DIR;
  if (env === "off") return undefined;
  if (env) return path.join(env, name);
  const nodeModules = path.dirname(pkgDir);
  if (path.basename(nodeModules) !== "node_modules") return undefined;
  return path.join(nodeModules, ".cache", "opm-ts", name);
}

/** A file in opm-ts's cache folder (see `cachePath`), or undefined when caching is off. */
export function cacheFile(name: string): string | undefined {
  const require = createRequire(import.meta.url);
  return cachePath(path.dirname(path.dirname(require.resolve("cue-wasm"))), name);
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** A compiled WebAssembly module (the `lib` settings leave the WebAssembly API untyped). */
type WasmModule = object;
declare const WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> };

async function readCache(f: CueWasmFiles): Promise<Uint8Array | undefined> {
  if (!f.cachePath) return undefined;
  try {
    const cached = await readFile(f.cachePath);
    return WASM_MAGIC.every((b, i) => cached[i] === b) ? cached : undefined;
  } catch {
    return undefined; // not cached yet
  }
}

/** Decodes the module from cue-wasm's inline chunk and caches it (best effort). */
async function decodeAndCache(f: CueWasmFiles): Promise<Uint8Array> {
  const mod = (await import(pathToFileURL(f.inlinePath).href)) as { default: string };
  const bytes = await promisify(gunzip)(Buffer.from(mod.default, "base64"));
  if (f.cachePath) {
    try {
      await mkdir(path.dirname(f.cachePath), { recursive: true });
      const tmp = `${f.cachePath}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(tmp, bytes);
      await rename(tmp, f.cachePath); // atomic: concurrent processes never see half a file
    } catch {
      /* a read-only install: decode again next time */
    }
  }
  return bytes;
}

let compiled: Promise<WasmModule> | undefined;

/** The compiled cue-wasm module, shared by every engine (and worker) of the process. */
function cueModule(): Promise<WasmModule> {
  if (!compiled) {
    const f = cueWasmFiles();
    compiled = (async () => {
      const cached = await readCache(f);
      if (cached) {
        try {
          return await WebAssembly.compile(cached);
        } catch {
          /* a damaged cache file: decode again (and overwrite it) */
        }
      }
      return WebAssembly.compile(await decodeAndCache(f));
    })();
    compiled.catch(() => {
      compiled = undefined;
    });
  }
  return compiled;
}

// ---------------------------------------------------------------- the engine

/**
 * The CUE evaluator (cue-wasm, CUE v0.4.3) in a worker thread, so evaluation never
 * blocks the caller's event loop.
 *
 * One worker is started on first use (or by {@link Engine.start}) and reused; calls are
 * queued and evaluated one at a time. An evaluation that runs past the timeout is
 * stopped by terminating the worker; it fails with {@link EngineTimeoutError}, and the
 * calls queued behind it run on a new worker. A crash of the evaluator fails the call
 * that caused it and is recovered the same way.
 */
export class Engine {
  /** Milliseconds one evaluation may take. */
  readonly timeoutMs: number;
  #worker: Worker | undefined;
  #ready: Promise<void> | undefined;
  #queue: Job[] = [];
  #running: { job: Job; worker: Worker; timer: NodeJS.Timeout } | undefined;
  #nextId = 1;
  #closed = false;

  constructor(options: EngineOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /**
   * Starts the worker and loads the evaluator (done on first use otherwise). Calling it
   * early lets the engine load while the caller does other work.
   */
  start(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("engine is closed"));
    try {
      if (!this.#ready) this.#spawn();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#ready!;
  }

  #spawn(): void {
    const f = cueWasmFiles();
    // No inherited Node options: the worker source is CommonJS whatever `--input-type` the
    // process runs with, and loaders such as tsx (`--import tsx`) are not loaded again.
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { wasmExecUrl: f.wasmExecUrl } });
    worker.unref();
    this.#worker = worker;
    worker.on("message", (m: Reply) => this.#reply(worker, m));
    worker.on("error", (e) => this.#lost(worker, e));
    worker.on("exit", () => this.#lost(worker, new Error("the CUE engine worker exited")));
    const moduleSent = cueModule().then(
      (module) => {
        if (this.#worker === worker) worker.postMessage({ op: "module", module });
      },
      (e: unknown) => {
        const err = new Error(`opm-ts: cannot load the CUE engine: ${e instanceof Error ? e.message : String(e)}`);
        void worker.terminate();
        this.#lost(worker, err);
        throw err;
      },
    );
    const init = new Promise<void>((resolve, reject) => {
      const job: Job = { id: this.#nextId++, op: "init", source: "", resolve: () => resolve(), reject };
      this.#queue.unshift(job);
    });
    this.#ready = Promise.all([moduleSent, init]).then(() => undefined);
    this.#ready.catch(() => undefined);
    this.#pump();
  }

  /** Sends the next queued job when the worker is idle. */
  #pump(): void {
    if (this.#running || !this.#queue.length || this.#closed) {
      if (!this.#running && this.#worker) this.#worker.unref();
      return;
    }
    if (!this.#worker) {
      this.#spawn();
      return;
    }
    const worker = this.#worker;
    const job = this.#queue.shift()!;
    const timeoutMs = job.op === "init" ? Math.max(this.timeoutMs, 60_000) : (job.timeoutMs ?? this.timeoutMs);
    const timer = setTimeout(() => this.#timeout(worker, job, timeoutMs), timeoutMs);
    this.#running = { job, worker, timer };
    worker.ref();
    worker.postMessage({ id: job.id, op: job.op, source: job.source });
  }

  #reply(worker: Worker, m: Reply): void {
    const run = this.#running;
    if (!run || run.worker !== worker || run.job.id !== m.id) return;
    clearTimeout(run.timer);
    this.#running = undefined;
    if (m.ok) run.job.resolve({ value: m.value ?? "", ms: m.ms ?? 0 });
    else if (m.fatal) {
      // The worker exits after a fatal reply; the next job starts a new one.
      this.#drop(worker);
      const e = m.init
        ? new Error(`opm-ts: cannot load the CUE engine: ${m.error}`)
        : new EngineError([{ code: "engine", path: "", message: `the CUE evaluator crashed: ${firstLines(m.error ?? "")}` }], "the CUE evaluator crashed");
      run.job.reject(e);
      if (m.init) this.#rejectAll(e);
    } else run.job.reject(new EngineError(parseEngineError(m.error ?? "unknown error")));
    this.#pump();
  }

  #timeout(worker: Worker, job: Job, timeoutMs: number): void {
    if (this.#running?.job !== job) return;
    this.#running = undefined;
    // A running evaluation cannot be interrupted inside WebAssembly: replace the worker.
    this.#drop(worker);
    void worker.terminate();
    const e = job.op === "init" ? new Error(`opm-ts: the CUE engine did not load within ${timeoutMs} ms`) : new EngineTimeoutError(timeoutMs, Math.round(performance.now() - (job.queuedAt ?? performance.now())));
    job.reject(e);
    if (job.op === "init") this.#rejectAll(e);
    this.#pump();
  }

  /** The worker stopped unexpectedly: fail the job it was running, go on with a new one. */
  #lost(worker: Worker, e: unknown): void {
    if (this.#worker !== worker) return;
    this.#drop(worker);
    const run = this.#running;
    if (run?.worker === worker) {
      clearTimeout(run.timer);
      this.#running = undefined;
      run.job.reject(e);
      if (run.job.op === "init") this.#rejectAll(e);
    }
    this.#pump();
  }

  #drop(worker: Worker): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    this.#ready = undefined;
  }

  #rejectAll(e: unknown): void {
    for (const job of this.#queue.splice(0)) job.reject(e);
  }

  #call(op: Op, source: string, timeoutMs?: number): Promise<{ value: string; ms: number }> {
    if (this.#closed) return Promise.reject(new Error("engine is closed"));
    const p = new Promise<{ value: string; ms: number }>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, op, source, resolve, reject, queuedAt: performance.now(), ...(timeoutMs ? { timeoutMs } : {}) });
    });
    if (!this.#worker) this.#spawn();
    else this.#pump();
    return p;
  }

  /** Evaluates a CUE program and returns its JSON value (parsed). */
  async eval<T = unknown>(source: string, stats?: EvalStats, timeoutMs?: number): Promise<T> {
    return JSON.parse(await this.evalText(source, stats, timeoutMs)) as T;
  }

  /** Evaluates a CUE program and returns its JSON text. */
  async evalText(source: string, stats?: EvalStats, timeoutMs?: number): Promise<string> {
    const r = await this.#call("eval", source, timeoutMs);
    if (stats) stats.evalMs = r.ms;
    return r.value;
  }

  /** Exports the definitions of a CUE program as an OpenAPI 3 document (parsed). */
  async openapi<T = unknown>(source: string): Promise<T> {
    return JSON.parse((await this.#call("openapi", source)).value) as T;
  }

  /** Stops the worker. Calls still queued or running fail; further calls fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const w = this.#worker;
    this.#worker = undefined;
    this.#ready = undefined;
    const e = new Error("engine is closed");
    const run = this.#running;
    this.#running = undefined;
    if (run) {
      clearTimeout(run.timer);
      run.job.reject(e);
    }
    this.#rejectAll(e);
    if (w) await w.terminate();
  }
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
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  const out: Issue[] = [];
  for (const line of lines.length ? lines : [text]) {
    const m = /^(?:cue: marshal error: )?((?:[#_A-Za-z0-9$"\-\/.@]|\[\d+\])+?): (.*)$/.exec(line);
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
  if (ms === undefined) throw new OpmError("E_USAGE", `OPM_EVAL_TIMEOUT=${JSON.stringify(v)} is not a duration: use e.g. 90s, 2m or a number of seconds`);
  return ms;
}
