import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { defaultWorkers, Engine } from "../../src/engine/engine.js";
import { EngineError, EngineTimeoutError } from "../../src/core/errors.js";
import { render } from "../../src/index.js";
import hello from "../../examples/hello/module.js";
import shop from "../../examples/shop/module.js";

/** A program whose evaluation takes exponential time: 2^n disjuncts in one struct. */
function runaway(n = 24): string {
  return "x: " + Array.from({ length: n }, (_, i) => `({a${i}: 1} | {b${i}: 1})`).join(" & ") + "\n";
}

/** A program that makes CUE v0.4.3 panic (see engine.test.ts). */
const PANICS = readFileSync(fileURLToPath(new URL("./fixtures/panics.cue", import.meta.url)), "utf8");

/** Small programs with distinct answers. */
const programs = Array.from({ length: 12 }, (_, i) => `import "strings"\nn: ${i}\ns: strings.Repeat("x", ${i + 1})\nl: [for k in [0, 1, 2] {k * ${i}}]\n`);

const engines: Engine[] = [];
function pool(workers: number, timeoutMs = 30_000): Engine {
  const e = new Engine({ workers, timeoutMs, cache: false });
  engines.push(e);
  return e;
}
afterAll(() => Promise.all(engines.map((e) => e.close())));

describe("engine pool", () => {
  it("takes its size from OPM_WORKERS, else min(available cores, 4)", () => {
    const before = process.env.OPM_WORKERS;
    try {
      process.env.OPM_WORKERS = "3";
      expect(defaultWorkers()).toBe(3);
      expect(new Engine().workers).toBe(3);
      delete process.env.OPM_WORKERS;
      const n = defaultWorkers();
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(4);
      expect(new Engine({ workers: 2 }).workers).toBe(2);
    } finally {
      if (before === undefined) delete process.env.OPM_WORKERS;
      else process.env.OPM_WORKERS = before;
    }
  });

  it("answers every call with its own result whatever the pool size, never running more workers than its bound", async () => {
    const one = pool(1);
    const three = pool(3);
    const a = Promise.all(programs.map((p) => one.eval(p)));
    const b = Promise.all(programs.map((p) => three.eval(p)));
    expect(one.running).toBeLessThanOrEqual(1);
    expect(three.running).toBeLessThanOrEqual(3);
    const [ra, rb] = await Promise.all([a, b]);
    expect(rb).toEqual(ra);
    expect(ra.map((r) => (r as { n: number }).n)).toEqual(programs.map((_, i) => i));
    expect(three.running).toBeLessThanOrEqual(3);
  });

  it("a crash fails only the call that caused it, naming what it evaluated, and the worker is replaced", async () => {
    const e = pool(2);
    const label = "component web, transformer deployment";
    const results = await Promise.allSettled([e.eval(PANICS, { label }), ...programs.slice(0, 5).map((p) => e.eval(p))]);
    const [crash, ...rest] = results;
    expect(crash!.status).toBe("rejected");
    const err = (crash as PromiseRejectedResult).reason;
    expect(EngineError.is(err)).toBe(true);
    expect((err as EngineError).message).toMatch(/crashed while evaluating component web, transformer deployment/);
    expect((err as EngineError).issues[0]!.message).toMatch(/panic: runtime error/);
    expect(rest.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "fulfilled", "fulfilled"]);
    expect(rest.map((r) => (r as PromiseFulfilledResult<{ n: number }>).value.n)).toEqual([0, 1, 2, 3, 4]);
    expect(await e.eval("after: 1\n")).toEqual({ after: 1 });
    expect(e.running).toBeGreaterThanOrEqual(1);
    expect(e.running).toBeLessThanOrEqual(2);
  });

  it("a timeout fails only the call that ran too long, naming it, and the others are answered", async () => {
    const e = pool(2, 3_000);
    await e.start();
    const label = "component slow, transformer deployment";
    const results = await Promise.allSettled([e.eval(runaway(), { label }), ...programs.slice(0, 6).map((p) => e.eval(p))]);
    const [slow, ...rest] = results;
    expect(slow!.status).toBe("rejected");
    const err = (slow as PromiseRejectedResult).reason;
    expect(EngineTimeoutError.is(err)).toBe(true);
    expect(EngineError.is(err)).toBe(true);
    expect((err as EngineTimeoutError).label).toBe(label);
    expect(String((err as Error).message)).toMatch(/evaluation of component slow, transformer deployment did not finish within the 3000 ms limit/);
    expect(rest.map((r) => r.status)).toEqual(Array(6).fill("fulfilled"));
    expect(await e.eval("after: 2\n")).toEqual({ after: 2 });
    expect(e.running).toBeLessThanOrEqual(2);
  });

  it("a process that only awaits start() stays alive until the worker has loaded, then exits by itself", async () => {
    const engineTs = fileURLToPath(new URL("../../src/engine/engine.ts", import.meta.url));
    const code = `import { Engine } from ${JSON.stringify(engineTs)}; const e = new Engine({ cache: false }); await e.start(); console.log("ready " + e.running);`;
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code]);
    expect(stdout.trim()).toBe("ready 1");
  }, 120_000);

  it("renders byte-identical YAML with a pool of 1 and a pool of 3, renders running side by side", async () => {
    const one = pool(1, 120_000);
    const three = pool(3, 120_000);
    const inputs = [shop.release({ name: "s", namespace: "y" }), hello.release({ name: "b", namespace: "z", values: { replicas: 4 } })];
    const [r1, r3] = await Promise.all([
      Promise.all(inputs.map((i) => render(i, { engine: one }))),
      Promise.all(inputs.map((i) => render(i, { engine: three }))),
    ]);
    expect(r3.map((r) => r.yaml())).toEqual(r1.map((r) => r.yaml()));
    expect(r1[1]!.objects.find((o) => o.kind === "Deployment")).toMatchObject({ spec: { replicas: 4 } });
  }, 300_000);
});
