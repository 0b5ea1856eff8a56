import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { decodeEntry, encodeEntry, ResultCache, resultKey } from "../../src/engine/cache.js";
import { Engine, resultCache } from "../../src/engine/engine.js";
import { render } from "../../src/index.js";
import hello from "../../examples/hello/module.js";

const root = mkdtempSync(path.join(tmpdir(), "opm-results-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// This file's engines cache into a folder of their own.
const cacheDir = path.join(root, "cache");
process.env.OPM_CACHE_DIR = cacheDir;
delete process.env.OPM_RENDER_CACHE;
const resultsDir = path.join(cacheDir, "results");

const engine = new Engine({ workers: 1 });
afterAll(() => engine.close());

function entries(): string[] {
  try {
    return readdirSync(resultsDir).filter((f) => f.endsWith(".res"));
  } catch {
    return [];
  }
}

beforeEach(async () => {
  await resultCache().flush();
  resultCache().clearMemory();
  rmSync(resultsDir, { recursive: true, force: true });
});

/** Evaluates a program with a cold memory cache, waiting for the disk write. */
async function evalCold(source: string, opts: Parameters<Engine["eval"]>[1] = {}): Promise<unknown> {
  resultCache().clearMemory();
  try {
    return await engine.eval(source, opts);
  } finally {
    await resultCache().flush();
  }
}

describe("result keys and entries", () => {
  it("the key changes with the evaluator, the operation, the options and every byte of the program", () => {
    const base = { evaluator: "cue-wasm@1.0.0/x", op: "eval", source: "a: 1\n" };
    const k = resultKey(base);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(resultKey({ ...base })).toBe(k);
    expect(resultKey({ ...base, evaluator: "cue-wasm@1.0.1/x" })).not.toBe(k);
    expect(resultKey({ ...base, op: "openapi" })).not.toBe(k);
    expect(resultKey({ ...base, options: "gogc=200" })).not.toBe(k);
    expect(resultKey({ ...base, source: "a: 1 \n" })).not.toBe(k);
    // Field boundaries are part of the key: moving bytes between parts changes it.
    expect(resultKey({ evaluator: "ab", op: "c", source: "" })).not.toBe(resultKey({ evaluator: "a", op: "bc", source: "" }));
  });

  it("an entry decodes only whole, unaltered and for its own key", () => {
    const k = resultKey({ evaluator: "e", op: "eval", source: "a: 1" });
    const other = resultKey({ evaluator: "e", op: "eval", source: "a: 2" });
    const text = encodeEntry(k, { ok: true, value: '{"a":1}' });
    expect(decodeEntry(k, text)).toEqual({ ok: true, value: '{"a":1}' });
    expect(decodeEntry(other, text)).toBeUndefined();
    expect(decodeEntry(k, text.slice(0, -1))).toBeUndefined();
    expect(decodeEntry(k, text.replace('"a":1', '"a":2'))).toBeUndefined();
    expect(decodeEntry(k, text.split("\n")[0]!)).toBeUndefined();
    expect(decodeEntry(k, "")).toBeUndefined();
    const err = encodeEntry(k, { ok: false, error: "a: conflicting values 1 and 2" });
    expect(decodeEntry(k, err)).toEqual({ ok: false, error: "a: conflicting values 1 and 2" });
  });
});

describe("the engine's result cache", () => {
  it("answers a repeated program from memory, then from disk, without evaluating it", async () => {
    const stats = { evalMs: -1, cached: undefined as boolean | undefined };
    expect(await evalCold("a: 40 + 2\n", { stats })).toEqual({ a: 42 });
    expect(stats.cached).toBe(false);
    expect(entries()).toHaveLength(1);
    await engine.eval("a: 40 + 2\n", { stats });
    expect(stats).toMatchObject({ cached: true, evalMs: 0 });
    resultCache().clearMemory();
    expect(await engine.eval("a: 40 + 2\n", { stats })).toEqual({ a: 42 });
    expect(stats).toMatchObject({ cached: true, evalMs: 0 });
  });

  it("reads what is on disk for the key (proved with a planted entry), unless the cache is off", async () => {
    const source = "planted: 1\n";
    await evalCold(source);
    const [file] = entries();
    const key = file!.replace(/\.res$/, "");
    writeFileSync(path.join(resultsDir, file!), encodeEntry(key, { ok: true, value: '{"planted":2}' }));
    resultCache().clearMemory();
    expect(await engine.eval(source)).toEqual({ planted: 2 });
    resultCache().clearMemory();
    expect(await engine.eval(source, { cache: false })).toEqual({ planted: 1 });
    process.env.OPM_RENDER_CACHE = "off";
    try {
      resultCache().clearMemory();
      expect(await engine.eval(source)).toEqual({ planted: 1 });
    } finally {
      delete process.env.OPM_RENDER_CACHE;
    }
    const off = new Engine({ workers: 1, cache: false });
    try {
      resultCache().clearMemory();
      expect(await off.eval(source)).toEqual({ planted: 1 });
    } finally {
      await off.close();
    }
  });

  it("ignores a corrupt entry (a byte changed), evaluates, and rewrites it", async () => {
    const source = "corrupt: 7\n";
    await evalCold(source);
    const file = path.join(resultsDir, entries()[0]!);
    const key = path.basename(file, ".res");
    // A planted wrong value whose checksum no longer matches its body.
    writeFileSync(file, encodeEntry(key, { ok: true, value: '{"corrupt":7}' }).replace('"corrupt":7', '"corrupt":8'));
    expect(await evalCold(source)).toEqual({ corrupt: 7 });
    expect(decodeEntry(key, readFileSync(file, "utf8"))).toEqual({ ok: true, value: '{"corrupt":7}' });
  });

  it("ignores a torn entry (half written by a writer that did not rename) and an entry for another key", async () => {
    const source = "torn: true\n";
    await evalCold(source);
    const file = path.join(resultsDir, entries()[0]!);
    const key = path.basename(file, ".res");
    const whole = readFileSync(file, "utf8");
    writeFileSync(file, whole.slice(0, Math.floor(whole.length / 2)));
    expect(await evalCold(source)).toEqual({ torn: true });
    expect(readFileSync(file, "utf8")).toBe(whole);
    // A well-formed entry of another program (another cue-wasm, catalog or option set has another key).
    const foreign = resultKey({ evaluator: "cue-wasm@0.0.1/other", op: "eval", source });
    expect(foreign).not.toBe(key);
    writeFileSync(file, encodeEntry(foreign, { ok: true, value: '{"torn":false}' }));
    expect(await evalCold(source)).toEqual({ torn: true });
    expect(readFileSync(file, "utf8")).toBe(whole);
  });

  it("caches the evaluator's error answers too, with the same issues", async () => {
    const source = 'a: int & "x"\n';
    const first = await evalCold(source).catch((e: unknown) => e);
    expect(entries()).toHaveLength(1);
    resultCache().clearMemory();
    const stats = { evalMs: -1, cached: false };
    const second = await engine.eval(source, { stats }).catch((e: unknown) => e);
    expect(stats.cached).toBe(true);
    expect((second as { issues: unknown }).issues).toEqual((first as { issues: unknown }).issues);
    expect((first as { issues: { path: string }[] }).issues[0]!.path).toBe("a");
  });

  it("keeps working, in memory only, when the cache folder cannot be written", async () => {
    const blocker = path.join(root, "a-file");
    writeFileSync(blocker, "not a folder");
    const cache = new ResultCache({ dir: path.join(blocker, "results") });
    const key = resultKey({ evaluator: "e", op: "eval", source: "x" });
    cache.set(key, { ok: true, value: "1" });
    await cache.flush();
    expect(await cache.get(key)).toEqual({ ok: true, value: "1" });
    const before = process.env.OPM_CACHE_DIR;
    process.env.OPM_CACHE_DIR = path.join(blocker, "cache");
    try {
      const v = await engine.eval("unwritable: 3\n");
      await resultCache().flush();
      expect(v).toEqual({ unwritable: 3 });
      expect(await engine.eval("unwritable: 3\n")).toEqual({ unwritable: 3 });
    } finally {
      process.env.OPM_CACHE_DIR = before;
    }
  });

  it("evicts the least recently used files when over its size bound", async () => {
    const dir = path.join(root, "lru");
    mkdirSync(dir, { recursive: true });
    const value = "v".repeat(1000);
    const keys = Array.from({ length: 6 }, (_, i) => resultKey({ evaluator: "e", op: "eval", source: String(i) }));
    const writer = new ResultCache({ dir, maxDiskBytes: 5_000 });
    for (const k of keys.slice(0, 4)) writer.set(k, { ok: true, value });
    await writer.flush();
    // Oldest first: 0, 1, 2, 3; then entry 0 is read (most recently used).
    for (const [i, k] of keys.slice(0, 4).entries()) utimesSync(path.join(dir, `${k}.res`), 1000 + i, 1000 + i);
    const reader = new ResultCache({ dir, maxDiskBytes: 5_000 });
    expect(await reader.get(keys[0]!)).toEqual({ ok: true, value });
    await reader.flush();
    reader.set(keys[4]!, { ok: true, value }); // 5 files of ~1.2 KB: over 5 000 bytes
    await reader.flush();
    const left = readdirSync(dir).map((f) => f.replace(/\.res$/, ""));
    expect(left).toContain(keys[0]);
    expect(left).toContain(keys[4]);
    expect(left).not.toContain(keys[1]);
    expect(left.reduce((n, k) => n + statSync(path.join(dir, `${k}.res`)).size, 0)).toBeLessThanOrEqual(4_000);
  });

  it("survives processes writing the same entries at once: every answer right, every file whole", async () => {
    const shared = path.join(root, "concurrent");
    const engineTs = fileURLToPath(new URL("../../src/engine/engine.ts", import.meta.url));
    const code = `import { Engine, resultCache } from ${JSON.stringify(engineTs)};
const e = new Engine({ workers: 1 });
const out = [];
for (let i = 0; i < 8; i++) out.push(await e.eval("n: " + i + " * 3\\n"));
await resultCache().flush();
console.log(JSON.stringify(out)); await e.close();`;
    const run = () =>
      promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { env: { ...process.env, OPM_CACHE_DIR: shared } });
    const outs = await Promise.all([run(), run(), run()]);
    const want = Array.from({ length: 8 }, (_, i) => ({ n: i * 3 }));
    for (const o of outs) expect(JSON.parse(o.stdout.trim())).toEqual(want);
    const files = readdirSync(path.join(shared, "results"));
    expect(files.filter((f) => f.endsWith(".res"))).toHaveLength(8);
    expect(files.filter((f) => f.endsWith(".tmp"))).toHaveLength(0);
    for (const f of files) expect(decodeEntry(f.replace(/\.res$/, ""), readFileSync(path.join(shared, "results", f), "utf8"))).toBeDefined();
    // And a fourth process reads them all from disk.
    const again = await run();
    expect(JSON.parse(again.stdout.trim())).toEqual(want);
  }, 120_000);
});

describe("render() and the result cache", () => {
  it("renders the same bytes cached and uncached; cache: false neither reads nor writes", async () => {
    const rel = hello.release({ name: "cached", namespace: "demo" });
    await render(rel, { engine, cache: false }); // loads the transformers' match rules (cached apart)
    await resultCache().flush();
    rmSync(resultsDir, { recursive: true, force: true });
    const uncached = await render(rel, { engine, cache: false });
    await resultCache().flush();
    expect(entries().length).toBe(0);
    const first = await render(rel, { engine });
    await resultCache().flush();
    expect(entries().length).toBeGreaterThanOrEqual(1);
    resultCache().clearMemory();
    const fromDisk = await render(rel, { engine });
    expect(first.yaml()).toBe(uncached.yaml());
    expect(fromDisk.yaml()).toBe(uncached.yaml());
  });
});
