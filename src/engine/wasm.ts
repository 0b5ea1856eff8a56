/**
 * Loading cue-wasm: finds the installed package's WebAssembly chunk, decodes it once, caches
 * the decoded module on disk (opm-ts's cache folder) and compiles it once per process for every
 * engine and worker.
 */
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { gunzip } from "node:zlib";
import { promisify } from "node:util";

export interface CueWasmFiles {
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
export function cueWasmFiles(): CueWasmFiles {
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
export type WasmModule = object;
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
export function cueModule(): Promise<WasmModule> {
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

/** What identifies the evaluator in a cache key: cue-wasm's version and the hash of its WebAssembly chunk. */
export function evaluatorId(): string {
  const f = cueWasmFiles();
  return `cue-wasm@${f.version}/${path.basename(f.inlinePath)}`;
}
