/**
 * Runs the built `opm` binary (bin/opm.js, after `npm run build`) as a user would, without
 * blocking the event loop (so an in-process test API server keeps answering).
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const REPO = path.resolve(import.meta.dirname, "../..");
export const BIN = path.join(REPO, "bin", "opm.js");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function opm(args: readonly string[], options: { cwd?: string; input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return runProgram(process.execPath, [BIN, ...args], options.input ?? "", { cwd: options.cwd ?? REPO, env: { ...process.env, ...options.env } });
}

/** Runs any program the same way (e.g. kubectl). */
export function runProgram(cmd: string, args: readonly string[], input = "", options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** A scratch project outside the repo; with `linked`, `opm-ts` resolves to this checkout (as after `npm i opm-ts`). */
export function scratchProject(files: Record<string, string>, options: { linked?: boolean; type?: "module" | "commonjs" } = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), "opm-user-"));
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "scratch", private: true, type: options.type ?? "module" }, null, 2) + "\n");
  if (options.linked ?? true) {
    mkdirSync(path.join(dir, "node_modules"));
    symlinkSync(REPO, path.join(dir, "node_modules", "opm-ts"), "dir");
  }
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}
