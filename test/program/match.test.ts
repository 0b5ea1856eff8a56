import { describe, expect, it } from "vitest";
import { missingFor, nearestTransformers, type TransformerRule } from "../../src/program/match.js";

const rules: Record<string, TransformerRule> = {
  deployment: { requiredLabels: { "workload-type": "stateless" }, requiredResources: ["container"], requiredTraits: [] },
  service: { requiredLabels: {}, requiredResources: ["container"], requiredTraits: ["expose"] },
  pvc: { requiredLabels: {}, requiredResources: ["claims"], requiredTraits: [] },
};

describe("missingFor (the TypeScript copy of core.#Match)", () => {
  it("is empty when every rule holds, with sets or lists", () => {
    const c = { labels: { "workload-type": "stateless" }, resources: new Set(["container"]), traits: new Set(["expose"]) };
    expect(missingFor(c, rules.deployment!)).toEqual([]);
    expect(missingFor({ ...c, resources: ["container"], traits: ["expose"] }, rules.service!)).toEqual([]);
  });
  it("names every missing label, resource and trait", () => {
    const c = { labels: { "workload-type": "stateful" }, resources: [], traits: [] };
    expect(missingFor(c, rules.deployment!)).toEqual(["label workload-type=stateless", "resource container"]);
    expect(missingFor(c, rules.service!)).toEqual(["resource container", "trait expose"]);
  });
});

describe("nearestTransformers", () => {
  it("ranks transformers whose resources the component has first, then by what is missing", () => {
    const c = { labels: {}, resources: ["container"], traits: [] };
    expect(nearestTransformers(c, rules)).toBe("deployment needs label workload-type=stateless; service needs trait expose; pvc needs resource claims");
  });
});
