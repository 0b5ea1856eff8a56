import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const engineTs = fileURLToPath(new URL("../../src/engine/engine.ts", import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), "opm-cache-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Evaluates `a: 40 + 2` with a fresh process's engine (the module cache is per process). */
async function evalInFreshProcess(env: Record<string, string>): Promise<unknown> {
  const code = `import { Engine } from ${JSON.stringify(engineTs)}; const e = new Engine(); console.log(JSON.stringify(await e.eval("a: 40 + 2"))); await e.close();`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    // The result cache would answer without loading the module: this test is about the module cache.
    env: { ...process.env, OPM_RENDER_CACHE: "off", ...env },
  });
  return JSON.parse(stdout.trim());
}

describe("cue-wasm module cache", () => {
  it("writes the decompressed module to OPM_CACHE_DIR, reuses it, and replaces a damaged file", async () => {
    expect(await evalInFreshProcess({ OPM_CACHE_DIR: dir })).toEqual({ a: 42 });
    // The module cache sits beside the result cache's results/ folder.
    const files = readdirSync(dir).filter((f) => f !== "results");
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^cue-wasm-1\.0\.0-\w+\.wasm$/);
    const file = path.join(dir, files[0]!);
    expect([...readFileSync(file).subarray(0, 4)]).toEqual([0x00, 0x61, 0x73, 0x6d]);
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(10_000_000);

    // Damaged (truncated) but with a valid header: compiling fails, the file is rewritten.
    writeFileSync(file, readFileSync(file).subarray(0, 4096));
    expect(await evalInFreshProcess({ OPM_CACHE_DIR: dir })).toEqual({ a: 42 });
    expect(statSync(file).size).toBe(size);
  }, 60_000);

  it("works with the cache turned off", async () => {
    expect(await evalInFreshProcess({ OPM_CACHE_DIR: "off" })).toEqual({ a: 42 });
  }, 60_000);
});
