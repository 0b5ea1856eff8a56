/**
 * Typed builders for the catalog: resources, traits and blueprints, generated from the
 * CUE catalog by `npm run codegen` (see `dsl/generated/`). Import from `opm-ts/catalog`.
 *
 * @packageDocumentation
 */
export * from "./generated/index.js";
export type { SpecInput, ResourceDefinition, TraitDefinition, BlueprintDefinition } from "./builders.js";
export type { ResourcePart, TraitPart, BlueprintPart } from "./parts.js";
export { NoLatestTag, ResourcesRequired, RunAsNonRoot, NoHostAccess, AllowedRegistries, MinReplicas, usePolicy, BUILTIN_POLICIES } from "./policy.js";
export type { PolicyUse, PolicyOptions, PolicySelector, PolicyDefinition, Severity } from "./policy.js";
export type { Component } from "./component.js";
export type { Part } from "./parts.js";
export type { Input } from "./refs.js";
export type { Applicable, TraitNotApplicable } from "./component.js";
export type { FqnsOf, PartKind } from "./parts.js";
export type { DefinitionBase } from "./builders.js";
