import type { Issue } from "../src/core/errors.js";
import type { FieldSchema } from "./config.js";

/**
 * Checks a value against a JSON-schema-like description (the shape config fields
 * produce and the engine's OpenAPI export has). Returns every problem, never only the first.
 * Objects with `properties` and no `additionalProperties` are treated as closed, as CUE
 * definitions are.
 */
export function checkSchema(schema: FieldSchema, v: unknown, path: readonly string[], root = "values"): Issue[] {
  const at = [root, ...path].join(".");
  const issue = (code: Issue["code"], message: string, constraint?: string): Issue => ({ code, path: at, message, ...(constraint ? { constraint } : {}) });
  if (schema["x-opm-secret"]) return checkSecret(v, at);
  if (schema.enum) {
    if (schema.enum.includes(v as never)) return [];
    const allowed = schema.enum.map((m) => JSON.stringify(m)).join(" | ");
    return [issue("enum", `${describeValue(v)} is not one of ${allowed}`, allowed)];
  }
  switch (schema.type) {
    case "integer":
    case "number": {
      const want = schema.type === "integer" ? "int" : "number";
      if (typeof v !== "number" || !Number.isFinite(v) || (schema.type === "integer" && !Number.isInteger(v))) {
        return [issue("invalid_type", `expected ${want}, got ${describeValue(v)}`, want)];
      }
      const out: Issue[] = [];
      if (schema.minimum !== undefined && v < schema.minimum) out.push(issue("out_of_range", `${v} is less than the minimum ${schema.minimum}`, `>=${schema.minimum}`));
      if (schema.maximum !== undefined && v > schema.maximum) out.push(issue("out_of_range", `${v} is greater than the maximum ${schema.maximum}`, `<=${schema.maximum}`));
      return out;
    }
    case "string": {
      if (typeof v !== "string") return [issue("invalid_type", `expected string, got ${describeValue(v)}`, "string")];
      const out: Issue[] = [];
      if (schema.pattern !== undefined && !safeRegExp(schema.pattern).test(v)) {
        out.push(issue("pattern", `${schema["x-opm-secret"] ? "the secret value" : describeValue(v)} is not ${schema["x-opm-what"] ?? "matching the pattern"}`, `=~"${schema.pattern}"`));
      }
      const n = [...v].length;
      if (schema.minLength !== undefined && n < schema.minLength) out.push(issue("out_of_range", `must be at least ${schema.minLength} characters, got ${n}`, `strings.MinRunes(${schema.minLength})`));
      if (schema.maxLength !== undefined && n > schema.maxLength) out.push(issue("out_of_range", `must be at most ${schema.maxLength} characters, got ${n}`, `strings.MaxRunes(${schema.maxLength})`));
      return out;
    }
    case "boolean":
      return typeof v === "boolean" ? [] : [issue("invalid_type", `expected bool, got ${describeValue(v)}`, "bool")];
    case "array": {
      if (!Array.isArray(v)) return [issue("invalid_type", `expected a list, got ${describeValue(v)}`, "[...]")];
      const out: Issue[] = [];
      if (schema.minItems !== undefined && v.length < schema.minItems) out.push(issue("out_of_range", `needs at least ${schema.minItems} items, got ${v.length}`, `list.MinItems(${schema.minItems})`));
      if (schema.maxItems !== undefined && v.length > schema.maxItems) out.push(issue("out_of_range", `allows at most ${schema.maxItems} items, got ${v.length}`, `list.MaxItems(${schema.maxItems})`));
      if (schema.items) v.forEach((x, i) => out.push(...checkSchema(schema.items!, x, [...path, String(i)], root)));
      return out;
    }
    case "object": {
      if (!v || typeof v !== "object" || Array.isArray(v)) return [issue("invalid_type", `expected an object, got ${describeValue(v)}`, "{...}")];
      const out: Issue[] = [];
      const props = schema.properties ?? {};
      const obj = v as Record<string, unknown>;
      const extra = schema.additionalProperties ?? (schema.properties ? false : undefined);
      for (const key of Object.keys(obj)) {
        if (key in props) continue;
        if (extra === false) {
          const known = Object.keys(props);
          const near = known.find((k) => k.toLowerCase() === key.toLowerCase() || levenshtein(k, key) <= 2);
          out.push({
            code: "unknown_field",
            path: [root, ...path, key].join("."),
            message: `unknown field "${key}"${near ? ` (did you mean "${near}"?)` : ""}; allowed: ${known.join(", ") || "none"}`,
            constraint: "closed",
          });
        } else if (extra) out.push(...checkSchema(extra, obj[key], [...path, key], root));
      }
      const required = new Set(schema.required ?? []);
      for (const [key, sub] of Object.entries(props)) {
        const x = obj[key];
        if (x === undefined) {
          if (required.has(key) && sub.default === undefined && !hasAllDefaults(sub)) {
            // A missing object is reported as the fields inside it that need a value.
            const inner = sub.type === "object" && sub.properties && !sub["x-opm-secret"] ? checkSchema(sub, {}, [...path, key], root) : [];
            if (inner.length) {
              out.push(...inner);
              continue;
            }
            out.push(
              sub["x-opm-secret"]
                ? { code: "required", path: [root, ...path, key].join("."), message: "a secret value is required: give it in a values file, with --secret <path>=@file or =env:VAR, or as { secretRef } / { external }", constraint: "required" }
                : { code: "required", path: [root, ...path, key].join("."), message: "a value is required and has no default", constraint: "required" },
            );
          }
          continue;
        }
        out.push(...checkSchema(sub, x, [...path, key], root));
      }
      return out;
    }
  }
  return [];
}

/** An object whose every property has a default (or is optional) needs no value. */
function hasAllDefaults(s: FieldSchema): boolean {
  if (s.type !== "object" || !s.properties) return false;
  const req = new Set(s.required ?? []);
  return Object.entries(s.properties).every(([k, p]) => !req.has(k) || p.default !== undefined || hasAllDefaults(p));
}

const regexCache = new Map<string, RegExp>();
function safeRegExp(p: string): RegExp {
  let r = regexCache.get(p);
  if (!r) {
    try {
      r = new RegExp(p, "u");
    } catch {
      r = new RegExp(p);
    }
    regexCache.set(p, r);
  }
  return r;
}

export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? v.slice(0, 57) + "..." : v);
  return `${typeof v} ${String(v)}`;
}

export function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

const SECRET_FORMS = 'a string (the value), { secretRef: { name, key } } or { external: { store, remoteKey, property? } }';

/** Checks a secret's input without ever printing the value. */
function checkSecret(v: unknown, at: string): Issue[] {
  const bad = (message: string): Issue[] => [{ code: "secret", path: at, message, constraint: SECRET_FORMS }];
  if (typeof v === "string") return v.length ? [] : bad("the secret value is empty");
  if (!v || typeof v !== "object" || Array.isArray(v)) return bad(`a secret must be ${SECRET_FORMS}; got ${v === null ? "null" : Array.isArray(v) ? "a list" : typeof v}`);
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 1 || !["secretRef", "external"].includes(keys[0]!)) return bad(`a secret must be ${SECRET_FORMS}; got an object with ${keys.map((k) => JSON.stringify(k)).join(", ") || "no keys"}`);
  const inner = o[keys[0]!] as Record<string, unknown> | undefined;
  if (!inner || typeof inner !== "object") return bad(`${keys[0]} must be an object`);
  const need = keys[0] === "secretRef" ? ["name", "key"] : ["store", "remoteKey"];
  const allowed = keys[0] === "secretRef" ? need : [...need, "property", "storeKind"];
  const out: Issue[] = [];
  for (const k of need) if (typeof inner[k] !== "string" || !inner[k]) out.push({ code: "secret", path: `${at}.${keys[0]}.${k}`, message: `${keys[0]}.${k} is required (a string)` });
  for (const k of Object.keys(inner)) if (!allowed.includes(k)) out.push({ code: "unknown_field", path: `${at}.${keys[0]}.${k}`, message: `unknown field "${k}"; allowed: ${allowed.join(", ")}` });
  if (keys[0] === "external" && inner.storeKind !== undefined && !["SecretStore", "ClusterSecretStore"].includes(inner.storeKind as string)) {
    out.push({ code: "enum", path: `${at}.external.storeKind`, message: 'storeKind must be "SecretStore" or "ClusterSecretStore"' });
  }
  return out;
}
