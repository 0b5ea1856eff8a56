import { readFileSync } from "node:fs";

/** The 1-based line of a `// MARK:<name>` comment in a fixture file. */
export function markLine(file: string, name: string): number {
  const lines = readFileSync(file, "utf8").split("\n");
  const i = lines.findIndex((l) => l.includes(`// MARK:${name}`));
  if (i < 0) throw new Error(`no MARK:${name} in ${file}`);
  return i + 1;
}
