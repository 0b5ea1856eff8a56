import { Worker } from "node:worker_threads";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { EngineError, EngineTimeoutError, type Issue } from "../../dsl/errors.js";
import { WORKER_SOURCE } from "./worker-source.js";

export interface EngineOptions {
  /** Milliseconds one evaluation may take before it is stopped (default 30 000). */
  timeoutMs?: number;
}

export interface EvalStats {
  /** Milliseconds spent inside the evaluator. */
  evalMs: number;
}

type Pending = {
  resolve: (v: { value: string; ms: number }) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
};

function cueWasmUrl(): string {
  // cue-wasm is ESM only; its "default" export condition is the modern ESM build
  // that sits beside the CommonJS entry `require.resolve` finds.
  const require = createRequire(import.meta.url);
  const cjs = require.resolve("cue-wasm");
  return pathToFileURL(path.join(path.dirname(cjs), "cue-wasm-index.modern.js")).href;
}

/**
 * The CUE evaluator (cue-wasm, CUE v0.4.3) in a worker thread. One worker is started
 * lazily and reused; an evaluation that runs past the timeout terminates the worker,
 * and the next call starts a new one.
 */
export class Engine {
  readonly timeoutMs: number;
  #worker: Worker | undefined;
  #ready: Promise<void> | undefined;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;

  constructor(options: EngineOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Starts the worker and loads the evaluator (done on first use otherwise). */
  async start(): Promise<void> {
    if (this.#closed) throw new Error("engine is closed");
    if (!this.#worker) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { cueWasmUrl: cueWasmUrl() } });
      worker.unref();
      worker.on("message", (m: { id: number; ok: boolean; value?: string; error?: string; ms?: number }) => {
        const p = this.#pending.get(m.id);
        if (!p) return;
        this.#pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.ok) p.resolve({ value: m.value ?? "", ms: m.ms ?? 0 });
        else p.reject(new EngineError(parseEngineError(m.error ?? "unknown error")));
      });
      worker.on("error", (e) => this.#fail(worker, e));
      worker.on("exit", () => this.#fail(worker, new Error("the CUE engine worker exited")));
      this.#worker = worker;
      this.#ready = this.#call("init", "").then(() => undefined);
      this.#ready.catch(() => undefined);
    }
    return this.#ready;
  }

  #fail(worker: Worker, e: unknown) {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    this.#ready = undefined;
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(e);
      this.#pending.delete(id);
    }
  }

  #call(op: "init" | "eval" | "openapi", source: string): Promise<{ value: string; ms: number }> {
    const worker = this.#worker!;
    const id = this.#nextId++;
    // Keep the process alive while work is outstanding.
    if (this.#pending.size === 0) worker.ref();
    return new Promise<{ value: string; ms: number }>((resolve, reject) => {
      const timeoutMs = op === "init" ? Math.max(this.timeoutMs, 60_000) : this.timeoutMs;
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        // A stuck evaluation cannot be interrupted inside WebAssembly: replace the worker.
        this.#fail(worker, new EngineTimeoutError(timeoutMs));
        void worker.terminate();
        reject(new EngineTimeoutError(timeoutMs));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      worker.postMessage({ id, op, source });
    }).finally(() => {
      if (this.#pending.size === 0 && this.#worker === worker) worker.unref();
    });
  }

  /** Evaluates a CUE program and returns its JSON value (parsed). */
  async eval<T = unknown>(source: string, stats?: EvalStats): Promise<T> {
    return JSON.parse(await this.evalText(source, stats)) as T;
  }

  /** Evaluates a CUE program and returns its JSON text. */
  async evalText(source: string, stats?: EvalStats): Promise<string> {
    await this.start();
    const r = await this.#call("eval", source);
    if (stats) stats.evalMs = r.ms;
    return r.value;
  }

  /** Exports the definitions of a CUE program as an OpenAPI 3 document (parsed). */
  async openapi<T = unknown>(source: string): Promise<T> {
    await this.start();
    return JSON.parse((await this.#call("openapi", source)).value) as T;
  }

  /** Stops the worker. Further calls fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const w = this.#worker;
    this.#worker = undefined;
    if (w) await w.terminate();
  }
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
  if (!shared) shared = new Engine({ timeoutMs: Number(process.env.OPM_ENGINE_TIMEOUT_MS) || undefined });
  return shared;
}
