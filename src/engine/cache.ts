import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * The content-addressed result cache of the engine.
 *
 * An evaluation's result depends only on the exact program text, the evaluator (the
 * cue-wasm version and the hash of its WebAssembly chunk), the operation (`eval`,
 * `openapi`) and the cache format; the key is a SHA-256 of all of them, so a cache
 * written by another cue-wasm version, another catalog (the catalog is part of every
 * program) or another option set is never read.
 *
 * Entries live in memory (per process, LRU, bounded in bytes) and on disk (one file per
 * key under `<cache dir>/results/`, bounded in total bytes, least recently used files
 * evicted first). Each file starts with a header naming its key and the SHA-256 of its
 * body; a file whose header or checksum does not match (a torn or foreign write, a
 * damaged disk) is ignored and rewritten. Files are written to a temporary name and
 * renamed, so concurrent writers never expose half a file. Every disk error is
 * swallowed: the cache can only make a render faster, never break or alter it.
 *
 * Successful evaluations and the evaluator's own error answers (deterministic for a
 * given program) are cached; crashes and timeouts never are.
 */

/** A cached answer of the evaluator: a JSON text or the evaluator's error text. */
export type CachedResult = { ok: true; value: string } | { ok: false; error: string };

const FORMAT = "opm-ts-result-1";

/** The key of a result: SHA-256 over everything the result depends on. */
export function resultKey(parts: { evaluator: string; op: string; source: string; options?: string }): string {
  const h = createHash("sha256");
  for (const p of [FORMAT, parts.evaluator, parts.op, parts.options ?? "", parts.source]) {
    h.update(String(Buffer.byteLength(p)));
    h.update(":");
    h.update(p);
  }
  return h.digest("hex");
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Encodes an entry as a file: header line (format, key, kind, checksum of the body), body. */
export function encodeEntry(key: string, r: CachedResult): string {
  const body = r.ok ? r.value : r.error;
  return `${FORMAT} ${key} ${r.ok ? "ok" : "error"} ${sha256(body)}\n${body}`;
}

/** Decodes a file written by {@link encodeEntry}; undefined unless it is whole and for this key. */
export function decodeEntry(key: string, text: string): CachedResult | undefined {
  const nl = text.indexOf("\n");
  if (nl < 0) return undefined;
  const [format, k, kind, sum, ...rest] = text.slice(0, nl).split(" ");
  if (rest.length || format !== FORMAT || k !== key || (kind !== "ok" && kind !== "error")) return undefined;
  const body = text.slice(nl + 1);
  if (sha256(body) !== sum) return undefined;
  return kind === "ok" ? { ok: true, value: body } : { ok: false, error: body };
}

export interface ResultCacheOptions {
  /** Folder of the disk cache; undefined keeps results in memory only. */
  dir: string | undefined;
  /** Bound of the disk cache in bytes (default 256 MiB). */
  maxDiskBytes?: number;
  /** Bound of the memory cache in bytes (default 64 MiB). */
  maxMemoryBytes?: number;
}

export class ResultCache {
  readonly dir: string | undefined;
  readonly maxDiskBytes: number;
  readonly maxMemoryBytes: number;
  #memory = new Map<string, CachedResult>();
  #memoryBytes = 0;
  /** Bytes on disk as far as this process knows (undefined until the folder is scanned). */
  #diskBytes: number | undefined;
  #scanning: Promise<void> | undefined;
  #evicting = false;
  /** Disk writes not finished yet (awaited by {@link flush}). */
  #writes = new Set<Promise<void>>();

  constructor(options: ResultCacheOptions) {
    this.dir = options.dir;
    this.maxDiskBytes = options.maxDiskBytes ?? 256 * 1024 * 1024;
    this.maxMemoryBytes = options.maxMemoryBytes ?? 64 * 1024 * 1024;
  }

  #file(key: string): string {
    return path.join(this.dir!, `${key}.res`);
  }

  /** The cached result for a key (memory first, then disk), or undefined. */
  async get(key: string, disk = true): Promise<CachedResult | undefined> {
    const m = this.#memory.get(key);
    if (m) {
      this.#memory.delete(key); // most recently used goes last
      this.#memory.set(key, m);
      return m;
    }
    if (!disk || !this.dir) return undefined;
    const file = this.#file(key);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch {
      return undefined;
    }
    const r = decodeEntry(key, text);
    if (!r) return undefined; // torn, damaged or foreign: evaluated again and rewritten
    this.#remember(key, r);
    const now = new Date();
    const touch = utimes(file, now, now) // the LRU order on disk is the mtime
      .catch(() => undefined)
      .finally(() => this.#writes.delete(touch));
    this.#writes.add(touch);
    return r;
  }

  /** Stores a result in memory and (unless `disk` is false) on disk, best effort. */
  set(key: string, r: CachedResult, disk = true): void {
    this.#remember(key, r);
    if (!disk || !this.dir) return;
    const w = this.#write(key, r).finally(() => this.#writes.delete(w));
    this.#writes.add(w);
  }

  /** Resolves when every disk write (and access-time update) started so far has finished or failed. */
  async flush(): Promise<void> {
    while (this.#writes.size) await Promise.all([...this.#writes]);
  }

  /** Forgets the memory cache (the disk cache stays). */
  clearMemory(): void {
    this.#memory.clear();
    this.#memoryBytes = 0;
  }

  #remember(key: string, r: CachedResult): void {
    const size = 2 * (r.ok ? r.value.length : r.error.length) + 200;
    if (size > this.maxMemoryBytes) return;
    const old = this.#memory.get(key);
    if (old) {
      this.#memory.delete(key);
      this.#memoryBytes -= 2 * (old.ok ? old.value.length : old.error.length) + 200;
    }
    this.#memory.set(key, r);
    this.#memoryBytes += size;
    for (const [k, v] of this.#memory) {
      if (this.#memoryBytes <= this.maxMemoryBytes) break;
      this.#memory.delete(k);
      this.#memoryBytes -= 2 * (v.ok ? v.value.length : v.error.length) + 200;
    }
  }

  async #write(key: string, r: CachedResult): Promise<void> {
    const dir = this.dir!;
    const text = encodeEntry(key, r);
    const file = this.#file(key);
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(tmp, text);
      await rename(tmp, file); // atomic: a reader sees the old file or the whole new one
    } catch {
      unlink(tmp).catch(() => undefined); // unwritable: results stay in memory only
      return;
    }
    await this.#account(Buffer.byteLength(text));
  }

  /** Adds a written file to the known size and evicts least recently used files when over the bound. */
  async #account(bytes: number): Promise<void> {
    if (this.#diskBytes === undefined) {
      this.#scanning ??= this.#scan();
      await this.#scanning;
    } else this.#diskBytes += bytes;
    if (this.#diskBytes! <= this.maxDiskBytes || this.#evicting) return;
    this.#evicting = true;
    try {
      const files = await this.#list();
      files.sort((a, b) => a.mtimeMs - b.mtimeMs);
      let total = files.reduce((n, f) => n + f.size, 0);
      const target = this.maxDiskBytes * 0.8;
      for (const f of files) {
        if (total <= target) break;
        try {
          await unlink(f.file);
          total -= f.size;
        } catch {
          /* already gone (another process evicted it) */
        }
      }
      this.#diskBytes = total;
    } finally {
      this.#evicting = false;
    }
  }

  async #scan(): Promise<void> {
    this.#diskBytes = (await this.#list()).reduce((n, f) => n + f.size, 0);
  }

  async #list(): Promise<{ file: string; size: number; mtimeMs: number }[]> {
    const dir = this.dir!;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return [];
    }
    const out: { file: string; size: number; mtimeMs: number }[] = [];
    for (const name of names) {
      if (!name.endsWith(".res") && !name.endsWith(".tmp")) continue;
      const file = path.join(dir, name);
      try {
        const s = await stat(file);
        // Temporary files older than a minute were left by a killed process.
        if (name.endsWith(".tmp")) {
          if (Date.now() - s.mtimeMs > 60_000) await unlink(file).catch(() => undefined);
          continue;
        }
        out.push({ file, size: s.size, mtimeMs: s.mtimeMs });
      } catch {
        /* removed meanwhile */
      }
    }
    return out;
  }
}
