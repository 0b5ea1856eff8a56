import { fileURLToPath } from "node:url";
import path from "node:path";
import type { SourceLocation } from "../src/core/errors.js";

// Frames from this package's own code are skipped when looking for the author's call site.
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, path.basename(path.dirname(here)) === "dist" ? "../.." : "..");
const internal = [path.join(root, "dsl") + path.sep, path.join(root, "src") + path.sep, path.join(root, "dist") + path.sep, path.join(root, "bin") + path.sep];

const FRAME = /\(?((?:file:\/\/)?[^\s()]+?):(\d+):(\d+)\)?$/;

function isInternal(file: string): boolean {
  if (file.startsWith("node:") || file.includes(`${path.sep}node_modules${path.sep}`)) return true;
  return internal.some((p) => file.startsWith(p));
}

/**
 * The first stack frame outside opm-ts itself: the author's TypeScript call that is
 * building a value right now. Paths are relative to the current directory.
 */
export function callSite(): SourceLocation | undefined {
  const stack = new Error().stack?.split("\n").slice(1) ?? [];
  for (const line of stack) {
    const m = FRAME.exec(line.trim());
    if (!m) continue;
    let file = m[1]!;
    if (file.startsWith("file://")) file = fileURLToPath(file);
    if (!path.isAbsolute(file) || isInternal(file)) continue;
    return { file: path.relative(process.cwd(), file) || file, line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}
