/** Policy violations: cleaning, ordering, and their form as issues and paths. */
import type { Issue } from "../core/errors.js";
import type { Violation } from "./types.js";

export function cleanViolation(v: Violation): Violation {
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== "" && x !== undefined)) as unknown as Violation;
}

/** A violation as an issue, for printing. */
export function violationIssue(v: Violation): Issue {
  return { code: "policy", path: violationPath(v), message: `${v.message} (policy ${v.policy}, rule ${v.rule})` };
}

/** Where a violation is, as a path: `components.<c>` or `<Kind>/<name>` followed by the field path. */
export function violationPath(v: Violation): string {
  const base = v.object ?? `components.${v.component}`;
  return v.path ? `${base}.${v.path}` : base;
}

export function compareViolations(a: Violation, b: Violation): number {
  const sev = { block: 0, warn: 1, audit: 2 };
  const k = (v: Violation) => `${v.policy}\u0000${v.rule}\u0000${v.component ?? ""}\u0000${v.object ?? ""}\u0000${v.path ?? ""}\u0000${v.message}`;
  return sev[a.severity] - sev[b.severity] || (k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0);
}
