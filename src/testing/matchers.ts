import type { K8sObject, RenderResult } from "../render/types.js";

/** What a test runner passes to a matcher as `this` (the part these matchers use; vitest and Jest both provide it). */
export interface MatcherContext {
  /** True under `.not`. */
  isNot: boolean;
  /** The runner's deep equality (understands asymmetric matchers such as `expect.any(Number)`). */
  equals(a: unknown, b: unknown): boolean;
}

/** A matcher's verdict, in the shape vitest and Jest expect. */
export interface MatcherOutcome {
  pass: boolean;
  message: () => string;
}

/** The matchers of `opmMatchers`, as they appear on `expect(...)`. */
export interface OpmMatchers<R = unknown> {
  /**
   * The render result (or list of objects) holds an object of this kind, and this name when given.
   * @example expect(out).toContainObject("Service", "hello-web")
   */
  toContainObject(kind: string, name?: string): R;
  /**
   * The object has this value at a field path: dots and `[index]`, or `["key.with.dots"]`,
   * e.g. `spec.template.spec.containers[0].image`. The value is compared with the runner's deep
   * equality, so `expect.any(Number)` works.
   * @example expect(getObject(out, "Deployment")).toHaveField("spec.replicas", 3)
   */
  toHaveField(path: string | readonly (string | number)[], value: unknown): R;
}

const show = (v: unknown): string => (v === undefined ? "undefined" : (JSON.stringify(v) ?? String(v)));

function objectsOf(received: unknown): readonly K8sObject[] | undefined {
  if (Array.isArray(received)) return received as K8sObject[];
  const objects = (received as RenderResult | undefined)?.objects;
  return Array.isArray(objects) ? objects : undefined;
}

const describeObject = (o: Partial<K8sObject> | undefined) => (o?.kind && o?.metadata?.name ? `${o.kind} ${o.metadata.name}` : "the object");

/** Splits `a.b[0]["c.d"]` into `["a", "b", 0, "c.d"]`; throws on a malformed path. */
function parseFieldPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /\s*(?:\.?([^.[\]"]+)|\[(\d+)\]|\[\s*"((?:[^"\\]|\\.)*)"\s*\])/y;
  let i = 0;
  while (i < path.length) {
    re.lastIndex = i;
    const m = re.exec(path);
    if (!m || (m[1] !== undefined && i > 0 && path[i] !== "."))
      throw new Error(`opm-ts/testing: cannot read the field path ${show(path)} at character ${i + 1}`);
    out.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : JSON.parse(`"${m[3]}"`)));
    i = re.lastIndex;
  }
  if (!out.length) throw new Error("opm-ts/testing: the field path is empty");
  return out;
}

/**
 * The value at a field path, or where the path stops: `{ found: false, at }` names the deepest
 * existing prefix and `keys` what it holds.
 */
export function fieldAt(
  value: unknown,
  path: string | readonly (string | number)[],
): { found: true; value: unknown } | { found: false; at: string; keys: string[] } {
  const steps = typeof path === "string" ? parseFieldPath(path) : path;
  let cur: unknown = value;
  const seen: string[] = [];
  for (const step of steps) {
    if (cur === null || typeof cur !== "object" || !Object.hasOwn(cur, step)) {
      const keys = cur !== null && typeof cur === "object" ? Object.keys(cur) : [];
      return { found: false, at: seen.join("") || "(the object)", keys };
    }
    seen.push(typeof step === "number" ? `[${step}]` : seen.length ? `.${step}` : step);
    cur = (cur as Record<string | number, unknown>)[step];
  }
  return { found: true, value: cur };
}

/**
 * Matchers for rendered output, for `expect.extend` (vitest or Jest). `opm-ts/testing/vitest`
 * registers them for you.
 */
export const opmMatchers = {
  toContainObject(this: MatcherContext, received: unknown, kind: string, name?: string): MatcherOutcome {
    const objects = objectsOf(received);
    const what = `${kind}${name === undefined ? "" : ` ${name}`}`;
    if (!objects) return { pass: false, message: () => `expected a render result or a list of objects, got ${show(received)?.slice(0, 200)}` };
    const pass = objects.some((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
    const all = objects.map((o) => `${o.kind} ${o.metadata?.name}`).join(", ") || "nothing";
    return {
      pass,
      message: () => (pass ? `expected no ${what}, but it was rendered` : `expected a ${what} among the rendered objects: ${all}`),
    };
  },

  toHaveField(this: MatcherContext, received: unknown, path: string | readonly (string | number)[], expected: unknown): MatcherOutcome {
    const shown = typeof path === "string" ? path : path.join(".");
    if (received === null || typeof received !== "object" || objectsOf(received)) {
      return {
        pass: false,
        message: () =>
          `toHaveField expects one object (e.g. getObject(out, "Deployment")), got ${Array.isArray(received) || objectsOf(received) ? "a list of objects" : show(received)}`,
      };
    }
    const who = describeObject(received as Partial<K8sObject>);
    const at = fieldAt(received, path);
    if (!at.found) {
      return {
        pass: false,
        message: () =>
          `expected ${who} to have ${shown} = ${show(expected)}, but ${at.at} has no such field${at.keys.length ? ` (it has: ${at.keys.join(", ")})` : ""}`,
      };
    }
    const pass = this.equals(at.value, expected);
    return {
      pass,
      message: () =>
        pass ? `expected ${who} not to have ${shown} = ${show(expected)}` : `expected ${who} to have ${shown} = ${show(expected)}, found ${show(at.value)}`,
    };
  },
};
