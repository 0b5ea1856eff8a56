import { definePolicy, expr, violation, when } from "opm-ts";
import { AllowedRegistries, MinReplicas } from "opm-ts/catalog";

/** A policy written in TypeScript: every component names its owning team. */
export const TeamLabel = definePolicy({
  modulePath: "example.com/policies",
  name: "team-label",
  description: "Every component carries a team label.",
  rules: {
    "has-team": {
      description: "The component has a `team` label.",
      onViolation: "audit",
      target: "component",
      check: ({ input }) => [when(expr`${input.labels.team} == _|_`, violation("labels.team", `component ${input.name} has no team label`))],
    },
  },
});

/**
 * A platform operator's policy set: blocks too few replicas, warns about foreign
 * registries, and audits components without a team label.
 */
export default [
  MinReplicas({ min: 2 }, { onViolation: "block" }),
  AllowedRegistries({ registries: ["registry.example.com/"] }, { onViolation: "warn" }),
  TeamLabel(),
];
