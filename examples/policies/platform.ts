import { AllowedRegistries, MinReplicas } from "opm-ts/catalog";

/** A platform operator's policy set: blocks too few replicas, warns about foreign registries. */
export default [
  MinReplicas({ min: 2 }, { onViolation: "block" }),
  AllowedRegistries({ registries: ["registry.example.com/"] }, { onViolation: "warn" }),
];
