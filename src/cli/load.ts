import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { OpmError } from "../core/errors.js";
import { mergeValues, Module, ModuleRelease } from "../../dsl/module.js";
import type { Provenance } from "../../dsl/config.js";
import { isPolicyUse, type PolicyUse } from "../../dsl/policy.js";
import { loadCueModule, type CueModuleInput } from "../render/render.js";
import { loadValuesFile } from "../render/values.js";

export interface LoadOptions {
  valuesFiles?: string[];
  name?: string;
  namespace?: string;
  /** `--cluster-domain`: the cluster's DNS domain. */
  clusterDomain?: string;
  /** `--secret path=@file` or `--secret path=env:VAR`: secret values from files or the environment. */
  secrets?: string[];
}

/** Reads `--secret` flags into values (a dotted path set to the literal), never echoing a value. */
export function secretValues(flags: readonly string[]): { values: Record<string, unknown>; paths: string[][] } {
  const values: Record<string, unknown> = {};
  const paths: string[][] = [];
  for (const flag of flags) {
    const m = /^([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)=(@|env:)(.+)$/.exec(flag);
    if (!m)
      throw new OpmError("usage", `--secret takes path=@file or path=env:VARIABLE (e.g. --secret db.password=@./pw.txt), not "${flag.split("=")[0]}=..."`);
    const [, path, kind, where] = m;
    let value: string;
    if (kind === "@") {
      if (!existsSync(where!)) throw new OpmError("usage", `--secret ${path}: file ${where} does not exist`);
      value = readFileSync(where!, "utf8").replace(/\r?\n$/, "");
    } else {
      const v = process.env[where!];
      if (v === undefined) throw new OpmError("usage", `--secret ${path}: environment variable ${where} is not set`);
      value = v;
    }
    const segs = path!.split(".");
    let cur = values;
    for (const seg of segs.slice(0, -1)) {
      cur[seg] ??= {};
      cur = cur[seg] as Record<string, unknown>;
    }
    cur[segs[segs.length - 1]!] = value;
    paths.push(segs);
  }
  return { values, paths };
}

/** The error for a module or policy file that cannot be loaded; a missing `opm-ts` is explained. */
function loadFailure(file: string, e: unknown): OpmError {
  const message = ((e as Error)?.message ?? String(e)).replace(/\nRequire stack:[\s\S]*$/, "");
  const missing = /Cannot find (?:package|module) '((?:opm-ts)(?:\/[^']*)?)'/.exec(message);
  if (missing) {
    const dir = path.dirname(path.resolve(file));
    return new OpmError(
      "load",
      `cannot load ${file}: it imports ${missing[1]}, which is not installed where the file is (${dir} or a folder above it): install opm-ts in the module's project: npm i opm-ts`,
    );
  }
  // A TypeScript syntax error (esbuild, through tsx: "Transform failed with N errors:" and one line each).
  const syntax = [...message.matchAll(/^(.+?):(\d+):(\d+): ERROR: (.*)$/gm)];
  if (syntax.length) {
    const issues = syntax.map((m) => ({
      code: "io" as const,
      path: "",
      message: m[4]!,
      source: { file: path.relative(process.cwd(), m[1]!) || m[1]!, line: Number(m[2]), column: Number(m[3]) + 1 },
    }));
    return new OpmError("load", `cannot load ${file}: ${issues.length} syntax error${issues.length === 1 ? "" : "s"}`, issues);
  }
  return new OpmError("load", `cannot load ${file}: ${message}`);
}

let tsLoader: Promise<(url: string) => Promise<unknown>> | undefined;

/**
 * Imports a TypeScript file through tsx (registered once per process). When opm-ts runs
 * from its built files, imports of `opm-ts` and its subpaths resolve to this package's
 * own built files, loaded as plain ESM (once, shared with the CLI) rather than through
 * the TypeScript loader.
 */
function importTs(url: string): Promise<unknown> {
  tsLoader ??= (async () => {
    const { register } = await import("tsx/esm/api");
    const api = register({ namespace: `opm-${process.pid}` });
    if (!import.meta.url.endsWith(".ts")) {
      const { register: registerHook } = await import("node:module");
      const root = new URL("../../../", import.meta.url);
      const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as { name: string; exports: Record<string, string | { default?: string }> };
      const map: Record<string, string> = {};
      for (const [sub, target] of Object.entries(pkg.exports)) {
        const file = typeof target === "string" ? target : target.default;
        if (file?.endsWith(".js")) map[pkg.name + sub.slice(1)] = new URL(file, root).href;
      }
      registerHook(new URL("./resolve-hook.js", import.meta.url), { data: { map } });
    }
    return (u: string) => api.import(u, import.meta.url);
  })();
  return tsLoader.then((load) => load(url));
}

let cjsLoader: Promise<(file: string) => unknown> | undefined;

/** Whether Node loads the file as CommonJS (`.cts`/`.cjs`, or outside a `"type": "module"` package). */
function isCommonJs(abs: string): boolean {
  if (/\.c[jt]s$/.test(abs)) return true;
  if (/\.m[jt]s$/.test(abs)) return false;
  for (let dir = path.dirname(abs); ; dir = path.dirname(dir)) {
    const pj = path.join(dir, "package.json");
    if (existsSync(pj)) {
      try {
        return (JSON.parse(readFileSync(pj, "utf8")) as { type?: string }).type !== "module";
      } catch {
        return true;
      }
    }
    if (path.dirname(dir) === dir) return true;
  }
}

/**
 * Imports a module or policy file. A CommonJS one is required through tsx's CommonJS hook,
 * which keeps the file's own lines in stack traces (so errors keep their `file:line`);
 * tsx's ESM loader would run it as compiled code without them.
 */
async function importFile(abs: string): Promise<{ default?: unknown }> {
  if (!isCommonJs(abs)) return (await importTs(pathToFileURL(abs).href)) as { default?: unknown };
  cjsLoader ??= (async () => {
    const { register } = await import("tsx/cjs/api");
    const api = register({ namespace: `opm-cjs-${process.pid}` });
    return (file: string) => api.require(file, import.meta.url);
  })();
  const exported = (await cjsLoader)(abs);
  return exported && typeof exported === "object" && "default" in exported ? (exported as { default?: unknown }) : { default: exported };
}

/**
 * The one loader of an author's TypeScript file: imports it through tsx and returns its
 * default export once `accept` takes it (else a `load` error saying what it must export).
 */
async function loadDefaultExport<T>(file: string, accept: (v: unknown) => v is T, expected: string): Promise<T> {
  let mod: { default?: unknown };
  try {
    mod = await importFile(path.resolve(file));
  } catch (e) {
    if (OpmError.is(e)) throw e;
    throw loadFailure(file, e);
  }
  let value = mod.default;
  // tsx may wrap a CommonJS-style default export.
  if (value && typeof value === "object" && "default" in value && !Array.isArray(value) && !accept(value)) value = (value as { default: unknown }).default;
  if (!accept(value)) throw new OpmError("load", `${file} must default-export ${expected}`);
  return value;
}

/** Loads an author's TypeScript module file through tsx; it must default-export a Module or ModuleRelease. */
export function importModuleFile(file: string): Promise<Module | ModuleRelease> {
  return loadDefaultExport(
    file,
    (v): v is Module | ModuleRelease => Module.is(v) || ModuleRelease.is(v),
    "a Module (defineModule(...)) or a ModuleRelease (module.release(...))",
  );
}

/** Loads policy files: each default-exports a policy (NoLatestTag(), ...) or a list of them. */
export async function loadPolicies(files: readonly string[]): Promise<PolicyUse[]> {
  const out: PolicyUse[] = [];
  const policies = (v: unknown): v is PolicyUse | PolicyUse[] => {
    const list = Array.isArray(v) ? v : [v];
    return list.length > 0 && list.every(isPolicyUse);
  };
  for (const file of files) {
    if (!existsSync(file)) throw new OpmError("usage", `policy file ${file} does not exist`);
    const value = await loadDefaultExport(file, policies, "a policy (e.g. NoLatestTag()) or a list of policies");
    out.push(...(Array.isArray(value) ? value : [value]));
  }
  return out;
}

/** Loads the command's input: a .ts module file or a folder of CUE files, with values files and flags applied. */
export async function loadInput(target: string | undefined, opts: LoadOptions): Promise<ModuleRelease | CueModuleInput> {
  if (!target) throw new OpmError("usage", "missing the module: give a module.ts file or a folder of .cue files");
  if (!existsSync(target)) throw new OpmError("usage", `${target} does not exist`);
  const files = (opts.valuesFiles ?? []).map(loadValuesFile);
  const secrets = secretValues(opts.secrets ?? []);
  const secretSource = (p: readonly string[]) =>
    secrets.paths.some((s) => s.join(".") === p.join(".")) ? { file: `command line (--secret ${p.join(".")})`, line: 0 } : undefined;
  if (statSync(target).isDirectory()) {
    let values: Record<string, unknown> = {};
    let provenance: Provenance = () => undefined;
    for (const f of files) {
      const before = provenance;
      values = mergeValues(values, f.values);
      provenance = (p) => f.provenance(p) ?? before(p);
    }
    if (secrets.paths.length) {
      const before = provenance;
      values = mergeValues(values, secrets.values);
      provenance = (p) => secretSource(p) ?? before(p);
    }
    return loadCueModule(target, {
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
      ...(opts.clusterDomain !== undefined ? { clusterDomain: opts.clusterDomain } : {}),
      values,
      provenance,
    });
  }
  const loaded = await importModuleFile(target);
  let release = Module.is(loaded) ? loaded.release() : loaded;
  for (const f of files) release = release.withValues(f.values, (p) => f.provenance(p));
  if (secrets.paths.length) release = release.withValues(secrets.values, (p) => secretSource(p) ?? { file: "command line (--secret)", line: 0 });
  // Flags win over the release's own name and namespace; each is blamed only for itself.
  if (opts.name !== undefined) release = release.withIdentity({ name: opts.name }, { file: "command line (--name)", line: 0 });
  if (opts.namespace !== undefined) release = release.withIdentity({ namespace: opts.namespace }, { file: "command line (-n)", line: 0 });
  if (opts.clusterDomain !== undefined)
    release = release.withIdentity({ clusterDomain: opts.clusterDomain }, { file: "command line (--cluster-domain)", line: 0 });
  return release;
}
