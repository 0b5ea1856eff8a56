import type { Issue } from "./errors.js";
import { hasRefToken, isSymbolic } from "./symbolic.js";

/**
 * The one JSON-schema type of opm-ts: what config fields produce, what the catalog's specs are
 * exported as (the engine's OpenAPI export), and what generated builders embed.
 */
export interface JsonSchema {
  type?: "string" | "integer" | "number" | "boolean" | "array" | "object";
  description?: string;
  default?: unknown;
  enum?: readonly unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean | number;
  exclusiveMaximum?: boolean | number;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: { readonly [name: string]: JsonSchema };
  /** Fields that must be given (a field with a default needs no value). */
  required?: readonly string[];
  additionalProperties?: JsonSchema | boolean;
  oneOf?: readonly JsonSchema[];
  anyOf?: readonly JsonSchema[];
  allOf?: readonly JsonSchema[];
  not?: JsonSchema;
  $ref?: string;
  /** opm extension: a secret (its value is never printed); see `isSecretSchema`. */
  "x-opm-secret"?: boolean;
  /** opm extension: what a pattern means, for messages ("a DNS label"). */
  "x-opm-what"?: string;
  /** opm extension: the field has a default computed from another field (e.g. `*targetPort`). */
  "x-opm-derived-default"?: boolean;
  /**
   * opm extension, only with `resolve(s, { markRefs: true })`: this (resolved) schema is the
   * named schema `$ref` pointed at (its OpenAPI name), so codegen can refer to it by name.
   */
  "x-opm-ref"?: string;
}

/**
 * The one way to recognise a secret in a schema: the `x-opm-secret` mark config fields carry, or
 * the shape of `core.#Secret` (`group`, `key`, `source`) in a schema exported from CUE.
 */
export function isSecretSchema(schema: JsonSchema): boolean {
  if (schema["x-opm-secret"]) return true;
  const p = schema.properties;
  if (!p?.group || !p.key) return false;
  // A `core.#Secret` as the engine exports it: its fields, or a reference to the definition.
  const refsSecret = ((schema as { allOf?: { $ref?: string }[] }).allOf ?? []).some((a) => /core_v1\.Secret$/.test(a.$ref ?? ""));
  return !!(p.source || refsSecret);
}

/**
 * Checks a value against a schema and returns every problem (never only the first), each with
 * its dotted path below `path`. References and raw CUE are skipped: a release supplies their
 * values and CUE checks them. Objects with `properties` and no `additionalProperties` are closed,
 * as CUE definitions are; an unknown field gets a "did you mean" when one is close.
 */
export function checkValue(schema: JsonSchema, v: unknown, path: string, context: ValueContext = "values"): Issue[] {
  if (v === undefined || isSymbolic(v)) return [];
  const at = (k: string | number) => (path ? `${path}.${k}` : String(k));
  const issue = (code: Issue["code"], message: string, constraint?: string): Issue => ({ code, path, message, ...(constraint ? { constraint } : {}) });
  if (isSecretSchema(schema)) {
    if (context === "values") return checkSecret(v, path);
    const wrong = specSecret(v, path);
    if (wrong) return [wrong];
  }
  const check = (s: JsonSchema, x: unknown, p: string) => checkValue(s, x, p, context);
  const out: Issue[] = [];
  const branches = schema.oneOf ?? schema.anyOf;
  if (branches && !branches.some((s) => check(s, v, path).length === 0)) {
    out.push(issue("invalid_type", `${describeValue(v)} matches none of the ${branches.length} allowed shapes`, "oneOf"));
  }
  if (schema.enum) {
    if (schema.enum.includes(v as never)) return out;
    const allowed = schema.enum.map((m) => JSON.stringify(m)).join(" | ");
    return [...out, issue("enum", `${describeValue(v)} is not one of ${allowed}`, allowed)];
  }
  switch (schema.type) {
    case "integer":
    case "number": {
      const want = schema.type === "integer" ? "int" : "number";
      if (typeof v !== "number" || !Number.isFinite(v) || (schema.type === "integer" && !Number.isInteger(v))) {
        return [...out, issue("invalid_type", `expected ${want}, got ${describeValue(v)}`, want)];
      }
      const exMin = schema.exclusiveMinimum === true ? schema.minimum : typeof schema.exclusiveMinimum === "number" ? schema.exclusiveMinimum : undefined;
      const exMax = schema.exclusiveMaximum === true ? schema.maximum : typeof schema.exclusiveMaximum === "number" ? schema.exclusiveMaximum : undefined;
      if (schema.minimum !== undefined && schema.exclusiveMinimum !== true && v < schema.minimum)
        out.push(issue("out_of_range", `${v} is less than the minimum ${schema.minimum}`, `>=${schema.minimum}`));
      if (schema.maximum !== undefined && schema.exclusiveMaximum !== true && v > schema.maximum)
        out.push(issue("out_of_range", `${v} is greater than the maximum ${schema.maximum}`, `<=${schema.maximum}`));
      if (exMin !== undefined && v <= exMin) out.push(issue("out_of_range", `${v} must be greater than ${exMin}`, `>${exMin}`));
      if (exMax !== undefined && v >= exMax) out.push(issue("out_of_range", `${v} must be less than ${exMax}`, `<${exMax}`));
      return out;
    }
    case "string": {
      if (typeof v !== "string") return [...out, issue("invalid_type", `expected string, got ${describeValue(v)}`, "string")];
      // A template literal with a reference in it is only known once the release fills it in.
      if (hasRefToken(v)) return out;
      const re = schema.pattern !== undefined ? safeRegExp(schema.pattern) : null;
      if (re && !re.test(v)) {
        out.push(
          issue(
            "pattern",
            `${describeValue(v)} ${schema["x-opm-what"] ? `is not ${schema["x-opm-what"]}` : `does not match ${schema.pattern}`}`,
            `=~"${schema.pattern}"`,
          ),
        );
      }
      const n = [...v].length;
      if (schema.minLength !== undefined && n < schema.minLength)
        out.push(issue("out_of_range", `must be at least ${schema.minLength} characters, got ${n}`, `strings.MinRunes(${schema.minLength})`));
      if (schema.maxLength !== undefined && n > schema.maxLength)
        out.push(issue("out_of_range", `must be at most ${schema.maxLength} characters, got ${n}`, `strings.MaxRunes(${schema.maxLength})`));
      return out;
    }
    case "boolean":
      return typeof v === "boolean" ? out : [...out, issue("invalid_type", `expected bool, got ${describeValue(v)}`, "bool")];
    case "array": {
      if (!Array.isArray(v)) return [...out, issue("invalid_type", `expected a list, got ${describeValue(v)}`, "[...]")];
      if (schema.minItems !== undefined && v.length < schema.minItems)
        out.push(issue("out_of_range", `needs at least ${schema.minItems} items, got ${v.length}`, `list.MinItems(${schema.minItems})`));
      if (schema.maxItems !== undefined && v.length > schema.maxItems)
        out.push(issue("out_of_range", `allows at most ${schema.maxItems} items, got ${v.length}`, `list.MaxItems(${schema.maxItems})`));
      if (schema.items) for (const [i, x] of v.entries()) out.push(...check(schema.items, x, at(i)));
      return out;
    }
    case "object": {
      if (!v || typeof v !== "object" || Array.isArray(v)) return [...out, issue("invalid_type", `expected an object, got ${describeValue(v)}`, "{...}")];
      const props = schema.properties ?? {};
      const obj = v as Record<string, unknown>;
      const extra = schema.additionalProperties ?? (schema.properties && !branches ? false : undefined);
      // In the author's order: each given field, then each missing required one.
      for (const [key, x] of Object.entries(obj)) {
        if (x === undefined) continue;
        const sub = Object.hasOwn(props, key) ? props[key] : undefined;
        if (sub) out.push(...check(sub, x, at(key)));
        else if (extra === false) {
          const known = Object.keys(props);
          const near = known.find((k) => k.toLowerCase() === key.toLowerCase() || levenshtein(k, key) <= 2);
          out.push({
            code: "unknown_field",
            path: at(key),
            message: `unknown field "${key}"${near ? ` (did you mean "${near}"?)` : ""}; allowed: ${known.join(", ") || "none"}`,
            constraint: "closed",
          });
        } else if (extra && extra !== true) out.push(...check(extra, x, at(key)));
      }
      const required = new Set(schema.required ?? []);
      for (const [key, sub] of Object.entries(props)) {
        if (obj[key] !== undefined || !required.has(key) || sub.default !== undefined || hasAllDefaults(sub)) continue;
        // A missing object is reported as the fields inside it that need a value.
        const inner = sub.type === "object" && sub.properties && !isSecretSchema(sub) ? check(sub, {}, at(key)) : [];
        if (inner.length) {
          out.push(...inner);
          continue;
        }
        out.push(
          isSecretSchema(sub)
            ? context === "values"
              ? {
                  code: "required",
                  path: at(key),
                  message: "a secret value is required: give it in a values file, with --secret <path>=@file or =env:VAR, or as { secretRef } / { external }",
                  constraint: "required",
                }
              : {
                  code: "required",
                  path: at(key),
                  message: "a secret is required: wire a config secret here (cfg.<field> of a config.secret() field)",
                  constraint: SPEC_SECRET,
                }
            : { code: "required", path: at(key), message: "a value is required and has no default", constraint: "required" },
        );
      }
      return out;
    }
  }
  return out;
}

/** An object whose every property has a default (or is optional) needs no value. */
function hasAllDefaults(s: JsonSchema): boolean {
  if (s.type !== "object" || !s.properties) return false;
  const req = new Set(s.required ?? []);
  return Object.entries(s.properties).every(([k, p]) => !req.has(k) || p.default !== undefined || hasAllDefaults(p));
}

const regexCache = new Map<string, RegExp | null>();
/** The pattern as a JavaScript RegExp; null for an RE2 feature JavaScript lacks (CUE checks it at render time). */
function safeRegExp(p: string): RegExp | null {
  if (!regexCache.has(p)) {
    let r: RegExp | null = null;
    for (const flags of ["u", ""]) {
      try {
        r = new RegExp(p, flags);
        break;
      } catch {
        /* try the next */
      }
    }
    regexCache.set(p, r);
  }
  return regexCache.get(p)!;
}

/** A value as messages show it (long strings shortened). */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? v.slice(0, 57) + "..." : v);
  return `${typeof v} ${String(v)}`;
}

/** Edit distance, for "did you mean". */
export function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

/**
 * Where a value is written: `values` (a release's values, where a secret is given as a string,
 * `{ secretRef }` or `{ external }`), or `spec` (a component's spec in module code, where a
 * secret is a config secret, `cfg.x` of a `config.secret()` field).
 */
export type ValueContext = "values" | "spec";

const SPEC_SECRET =
  'a config secret (cfg.<field> of a config.secret() field), or { group, key, source: { from: "secret", name, key } } naming a Secret that exists';

/**
 * A secret written into a component's spec: module code references secrets, it never holds
 * them. A value, `{ secretRef }` or `{ external }` belongs in the release's values (declare a
 * config.secret() field); a literal or external `core.#Secret` here would point at a Secret
 * that no part of the release renders.
 */
function specSecret(v: unknown, at: string): Issue | undefined {
  const bad = (got: string): Issue => ({
    code: "secret",
    path: at,
    message: `${got} cannot be written in a component's spec: declare the secret with config.secret() in the module's config, wire it here as cfg.<field>, and give its value (a string, { secretRef } or { external }) in the release's values`,
    constraint: SPEC_SECRET,
  });
  if (typeof v === "string") return bad("a secret value");
  if (!v || typeof v !== "object" || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  if ("secretRef" in o || "external" in o) return bad(`{ ${"secretRef" in o ? "secretRef" : "external"} }`);
  const from = (o.source as { from?: unknown } | undefined)?.from;
  if (from === "literal" || from === "external") return bad(`a secret with source.from "${from}"`);
  return undefined;
}

const SECRET_FORMS = "a string (the value), { secretRef: { name, key } } or { external: { store, remoteKey, property? } }";

/** Checks a secret's input without ever printing the value. */
function checkSecret(v: unknown, at: string): Issue[] {
  const bad = (message: string): Issue[] => [{ code: "secret", path: at, message, constraint: SECRET_FORMS }];
  if (typeof v === "string") return v.length ? [] : bad("the secret value is empty");
  if (!v || typeof v !== "object" || Array.isArray(v))
    return bad(`a secret must be ${SECRET_FORMS}; got ${v === null ? "null" : Array.isArray(v) ? "a list" : typeof v}`);
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 1 || !["secretRef", "external"].includes(keys[0]!))
    return bad(`a secret must be ${SECRET_FORMS}; got an object with ${keys.map((k) => JSON.stringify(k)).join(", ") || "no keys"}`);
  const inner = o[keys[0]!] as Record<string, unknown> | undefined;
  if (!inner || typeof inner !== "object") return bad(`${keys[0]} must be an object`);
  const need = keys[0] === "secretRef" ? ["name", "key"] : ["store", "remoteKey"];
  const allowed = keys[0] === "secretRef" ? need : [...need, "property", "storeKind"];
  const out: Issue[] = [];
  for (const k of need)
    if (typeof inner[k] !== "string" || !inner[k])
      out.push({ code: "secret", path: `${at}.${keys[0]}.${k}`, message: `${keys[0]}.${k} is required (a string)` });
  for (const k of Object.keys(inner))
    if (!allowed.includes(k))
      out.push({ code: "unknown_field", path: `${at}.${keys[0]}.${k}`, message: `unknown field "${k}"; allowed: ${allowed.join(", ")}` });
  if (keys[0] === "external" && inner.storeKind !== undefined && !["SecretStore", "ClusterSecretStore"].includes(inner.storeKind as string)) {
    out.push({ code: "enum", path: `${at}.external.storeKind`, message: 'storeKind must be "SecretStore" or "ClusterSecretStore"' });
  }
  return out;
}
