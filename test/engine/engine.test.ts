import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { Engine, evalTimeoutFromEnv, parseEngineError } from "../../src/engine/engine.js";
import { parseDuration } from "../../src/core/duration.js";
import { EngineError, EngineTimeoutError } from "../../src/core/errors.js";

/** A program whose evaluation takes exponential time: 2^n disjuncts in one struct. */
function runaway(n = 24): string {
  return "x: " + Array.from({ length: n }, (_, i) => `({a${i}: 1} | {b${i}: 1})`).join(" & ") + "\n";
}

/**
 * A program that makes CUE v0.4.3 panic (a nil environment when file-level lets are
 * referenced from inside a definition; reduced from a real linking experiment).
 */
const PANICS = readFileSync(fileURLToPath(new URL("./fixtures/panics.cue", import.meta.url)), "utf8");

const engine = new Engine({ timeoutMs: 20_000, cache: false });
afterAll(() => engine.close());

describe("Engine", () => {
  it("evaluates a CUE program to JSON", async () => {
    const stats = { evalMs: -1 };
    expect(await engine.eval('a: 1 + 1\nb: "x\\(a)"\n#hidden: 3\n', stats)).toEqual({ a: 2, b: "x2" });
    expect(stats.evalMs).toBeGreaterThanOrEqual(0);
  });

  it("evaluates with the standard library", async () => {
    expect(await engine.eval('import "strings"\na: strings.ToUpper("abc")\n')).toEqual({ a: "ABC" });
  });

  it("turns evaluation errors into structured issues (code, path, message)", async () => {
    const e = await engine.eval('a: b: int & "x"\nc: >=1 & 0\n').catch((x: unknown) => x);
    expect(EngineError.is(e)).toBe(true);
    const issues = (e as EngineError).issues;
    expect(issues.length).toBeGreaterThanOrEqual(1);
    expect(issues[0]).toMatchObject({ code: "engine", path: "a.b" });
    expect(issues[0]!.message).toMatch(/conflicting values/);
  });

  it("reports incomplete values with their path", async () => {
    const e = await engine.eval("a: int\n").catch((x: unknown) => x);
    expect(EngineError.is(e)).toBe(true);
    expect((e as EngineError).issues[0]).toMatchObject({ path: "a" });
    expect((e as EngineError).issues[0]!.message).toMatch(/incomplete value/);
  });

  it("answers concurrent calls, each with its own result", async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => engine.eval<{ v: number }>(`v: ${i} * 10\n`)));
    expect(results.map((r) => r.v)).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
    const mixed = await Promise.allSettled([engine.eval("a: 1\n"), engine.eval("a: 1 & 2\n"), engine.eval("a: 3\n")]);
    expect(mixed.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });

  it("exports definitions as OpenAPI", async () => {
    const doc = await engine.openapi<{ components: { schemas: Record<string, unknown> } }>("#A: {a: int}\n");
    expect(Object.keys(doc.components.schemas)).toContain("A");
  });

  it("recovers from a crash of the evaluator", async () => {
    const e = await engine.eval(PANICS).catch((x: unknown) => x);
    expect(EngineError.is(e)).toBe(true);
    expect((e as EngineError).message).toMatch(/crashed/);
    expect((e as EngineError).issues[0]!.message).toMatch(/panic: runtime error/);
    expect(await engine.eval("a: 5\n")).toEqual({ a: 5 });
  });
});

describe("Engine timeout", () => {
  it("stops a runaway evaluation, keeps the caller's event loop free, and answers later calls", async () => {
    const e = new Engine({ timeoutMs: 1_500, cache: false });
    try {
      await e.start();
      const order: string[] = [];
      const started = Date.now();
      // Queued behind the runaway program: runs on the replacement worker.
      const calls = Promise.allSettled([e.eval(runaway()), e.eval("after: true\n")]);
      // The caller's event loop turns while the worker is busy: an immediate runs before the calls settle.
      setImmediate(() => order.push("event loop turned"));
      void calls.then(() => order.push("calls settled"));
      const [slow, next] = await calls;
      expect(order).toEqual(["event loop turned", "calls settled"]);
      expect(slow.status).toBe("rejected");
      const err = (slow as PromiseRejectedResult).reason;
      expect(EngineTimeoutError.is(err)).toBe(true);
      expect((err as EngineTimeoutError).timeoutMs).toBe(1_500);
      expect(String((err as Error).message)).toMatch(/did not finish within the 1500 ms limit/);
      expect(String((err as Error).message)).toMatch(/--eval-timeout/);
      expect((err as EngineTimeoutError).elapsedMs).toBeGreaterThanOrEqual(1_500);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
      expect(next).toEqual({ status: "fulfilled", value: { after: true } });
      expect(await e.eval("again: 1\n")).toEqual({ again: 1 });
    } finally {
      await e.close();
    }
  });
});

describe("per-call time limit", () => {
  it("stops one call at its own limit, reporting limit and elapsed time", async () => {
    const e = new Engine({ timeoutMs: 60_000 });
    try {
      const err = await e.eval(runaway(), { timeoutMs: 800 }).catch((x: unknown) => x);
      expect(EngineTimeoutError.is(err)).toBe(true);
      expect((err as EngineTimeoutError).timeoutMs).toBe(800);
      expect((err as EngineTimeoutError).elapsedMs).toBeGreaterThanOrEqual(800);
      expect((err as Error).message).toMatch(/within the 800 ms limit and was stopped \(\d+ ms after it was asked for\)/);
      expect(await e.eval("b: 2\n")).toEqual({ b: 2 });
    } finally {
      await e.close();
    }
  });
});

describe("parseDuration and OPM_EVAL_TIMEOUT", () => {
  it("reads seconds, units and combinations; rejects anything else", () => {
    expect(parseDuration("45")).toBe(45_000);
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("500ms")).toBe(500);
    for (const bad of ["", "0", "-5", "fast", "5x", "s"]) expect(parseDuration(bad)).toBeUndefined();
    const before = process.env.OPM_EVAL_TIMEOUT;
    try {
      process.env.OPM_EVAL_TIMEOUT = "2m";
      expect(evalTimeoutFromEnv()).toBe(120_000);
      process.env.OPM_EVAL_TIMEOUT = "soon";
      expect(() => evalTimeoutFromEnv()).toThrow(/OPM_EVAL_TIMEOUT="soon" is not a duration/);
    } finally {
      if (before === undefined) delete process.env.OPM_EVAL_TIMEOUT;
      else process.env.OPM_EVAL_TIMEOUT = before;
    }
  });
});

describe("Engine.close", () => {
  it("fails running, queued and later calls", async () => {
    const e = new Engine({ timeoutMs: 30_000, cache: false });
    await e.start();
    const running = expect(e.eval(runaway())).rejects.toThrow(/closed/);
    const queued = expect(e.eval("a: 1\n")).rejects.toThrow(/closed/);
    // The engine is started, so the first call was handed to the worker at once; the second waits behind it.
    await e.close();
    await running;
    await queued;
    await expect(e.eval("a: 1\n")).rejects.toThrow(/closed/);
    await expect(e.start()).rejects.toThrow(/closed/);
  });

  it("is idempotent", async () => {
    const e = new Engine();
    expect(await e.eval("a: 1\n")).toEqual({ a: 1 });
    await e.close();
    await e.close();
    await expect(e.eval("b: 2\n")).rejects.toThrow(/closed/);
  });

  it("lets the process exit when idle (the worker does not hold it open)", async () => {
    // A separate Node process evaluates without ever calling close(); it must end by itself.
    const engineUrl = new URL("../../src/engine/engine.ts", import.meta.url).href;
    const script = `import { Engine } from ${JSON.stringify(engineUrl)};
const e = new Engine();
console.log(JSON.stringify(await e.eval("a: 1 + 1\\n")));`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    // No timer here: a worker that held the process open would keep this promise pending until vitest's test timeout fails the test.
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.on("exit", (c, s) => r([c, s])));
    expect({ code, signal, err }).toEqual({ code: 0, signal: null, err: "" });
    expect(out.trim()).toBe('{"a":2}');
  }, 30_000);
});

describe("parseEngineError", () => {
  it("splits lines into path and message", () => {
    expect(parseEngineError("a.b: conflicting values 1 and 2\nc: incomplete value int")).toEqual([
      { code: "engine", path: "a.b", message: "conflicting values 1 and 2" },
      { code: "engine", path: "c", message: "incomplete value int" },
    ]);
    expect(parseEngineError("cue: marshal error: x.y: cannot convert incomplete value")).toEqual([
      { code: "engine", path: "x.y", message: "cannot convert incomplete value" },
    ]);
    expect(parseEngineError("something odd happened")).toEqual([{ code: "engine", path: "", message: "something odd happened" }]);
  });
});
