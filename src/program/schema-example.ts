import type { JsonSchema } from "./catalog-index.js";

/** An example value for a schema: defaults where given, else a plausible value of the type. */
export function exampleOf(s: JsonSchema, depth = 0): unknown {
  if (s.default !== undefined && s.default !== "__opm_derived_default__") return s.default;
  if (s.enum?.length) return s.enum[0];
  const branches = s.oneOf ?? s.anyOf;
  if (branches?.length)
    return exampleOf(
      { ...s, oneOf: undefined, anyOf: undefined, ...branches[0]!, properties: { ...(s.properties ?? {}), ...(branches[0]!.properties ?? {}) } },
      depth,
    );
  switch (s.type) {
    case "string":
      return s.pattern ? `<string matching ${s.pattern}>` : "<string>";
    case "integer":
    case "number":
      return s.minimum ?? (typeof s.exclusiveMinimum === "number" ? s.exclusiveMinimum + 1 : 1);
    case "boolean":
      return false;
    case "array":
      return s.items && depth < 6 ? [exampleOf(s.items, depth + 1)] : [];
    case "object": {
      if (depth >= 6) return {};
      if (s.properties && Object.keys(s.properties).length) {
        return Object.fromEntries(Object.entries(s.properties).map(([k, p]) => [k, exampleOf(p, depth + 1)]));
      }
      if (typeof s.additionalProperties === "object") return { "<name>": exampleOf(s.additionalProperties, depth + 1) };
      return {};
    }
    default:
      return null;
  }
}
