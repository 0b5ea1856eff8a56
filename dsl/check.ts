import type { Issue } from "./errors.js";
import { isRef } from "./refs.js";

/** A small runtime check used by builders; references are skipped (a release checks them). */
export type Check = (value: unknown, path: string) => Issue | undefined;

export const checks = {
  intRange(min: number, max: number): Check {
    return (v, path) => {
      if (v === undefined || isRef(v)) return undefined;
      if (typeof v !== "number" || !Number.isInteger(v)) return { code: "invalid_type", path, message: `expected int, got ${JSON.stringify(v)}`, constraint: "int" };
      if (v < min || v > max) return { code: "out_of_range", path, message: `${v} is out of range`, constraint: `>=${min} & <=${max}` };
      return undefined;
    };
  },
  oneOf(members: readonly string[]): Check {
    return (v, path) => {
      if (v === undefined || isRef(v) || members.includes(v as string)) return undefined;
      return { code: "enum", path, message: `${JSON.stringify(v)} is not one of ${members.map((m) => JSON.stringify(m)).join(" | ")}`, constraint: members.map((m) => JSON.stringify(m)).join(" | ") };
    };
  },
  pattern(re: RegExp, what: string): Check {
    return (v, path) => {
      if (v === undefined || isRef(v) || (typeof v === "string" && !v.includes("\u0000opmref:") ? re.test(v) : typeof v === "string")) return undefined;
      return { code: "pattern", path, message: `${JSON.stringify(v)} is not ${what}`, constraint: `=~"${re.source}"` };
    };
  },
};

/** Runs checks at paths (`a.b`, with `*` matching every key of a map) over a value. */
export function runChecks(value: unknown, table: Record<string, Check>, prefix: string): Issue[] {
  const out: Issue[] = [];
  for (const [path, check] of Object.entries(table)) {
    const walk = (v: unknown, segs: string[], at: string[]) => {
      if (segs.length === 0) {
        const i = check(v, [prefix, ...at].join("."));
        if (i) out.push(i);
        return;
      }
      if (v === undefined || v === null || isRef(v) || typeof v !== "object") return;
      const [head, ...rest] = segs;
      if (head === "*") for (const [k, x] of Object.entries(v)) walk(x, rest, [...at, k]);
      else walk((v as Record<string, unknown>)[head!], rest, [...at, head!]);
    };
    walk(value, path.split("."), []);
  }
  return out;
}
