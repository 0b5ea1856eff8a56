/**
 * opm-ts: the Open Platform Model as an embedded TypeScript library.
 *
 * Define modules with typed builders, compile them to canonical CUE and render them into
 * Kubernetes manifests. Builders for the catalog's definitions are in `opm-ts/catalog`, test
 * helpers in `opm-ts/testing`, and applying a rendered release to a cluster in `opm-ts/apply`.
 *
 * @packageDocumentation
 */
export { config } from "../dsl/config.js";
export type {
  ConfigField,
  ConfigShape,
  ValuesOf,
  RefsOf,
  PartialValues,
  Provenance,
  IntField,
  NumberField,
  StringField,
  BoolField,
  EnumField,
  ListField,
  MapField,
  ObjectField,
  AnyField,
  ValueOf,
  FieldState,
  StrState,
  AllOmittable,
  OmittableKeys,
  RequiredKeys,
  Simplify,
} from "../dsl/config.js";
import type * as ast from "./core/cue/ast.js";
/** The CUE syntax tree that definitions compile to (types only). */
export type { ast };
export { defineModule, Module, ModuleRelease } from "../dsl/module.js";
export type { ModuleDefinition, ModuleMetadata, ReleaseOptions, ReleaseState, Compiled, CompiledDeclarations, CueSourceFile } from "../dsl/module.js";
export type { PrintedFile } from "./core/cue/print.js";
export { component, Component } from "../dsl/component.js";
export type { ComponentState } from "../dsl/component.js";
export type { Part, CueRef } from "../dsl/parts.js";
export { rawCue, isRef } from "../dsl/refs.js";
export type { Ref, Val, Input } from "../dsl/refs.js";
export type { JsonSchema } from "./core/schema.js";
export type { ModuleContext, ComponentRef } from "../dsl/context.js";
export { OpmError, ValidationError, RenderError, EngineError, EngineTimeoutError, formatIssue, formatLocation } from "./core/errors.js";
export type { Issue, IssueCode, SourceLocation } from "./core/errors.js";
export { Engine, defaultEngine } from "./engine/engine.js";
export type { EngineOptions, EvalStats } from "./engine/engine.js";
export { render, toCueFiles, loadCueModule, KUBERNETES_PROVIDER } from "./render/render.js";
export type { RenderOptions, RenderStats, RenderMode, CueModuleInput } from "./render/render.js";
export type { StageStats } from "./render/staged.js";
export { loadValuesFile, parseValues } from "./render/values.js";
export type { ValuesFile } from "./render/values.js";
export { LABELS, kindWeight, MANAGER } from "./render/types.js";
export type { K8sObject, OutputOptions, ReleaseInfo, RenderResult, Violation } from "./render/types.js";
export { PolicyError } from "./core/errors.js";
export { violationIssue, violationPath } from "./render/render.js";
export { defineResource, defineTrait, defineTransformer, when, forEach } from "../dsl/define.js";
export type {
  CustomBuilder,
  CustomDefinition,
  CustomTransformer,
  TransformerDefinition,
  TransformerInput,
  TransformerContextRefs,
  TransformerSpecRefs,
  Named,
  ItemRef,
  AnyRef,
} from "../dsl/define.js";
export { definePolicy, violation, expr } from "../dsl/define-policy.js";
export type {
  DeepRef,
  PolicyBuilder,
  PolicyCheckInput,
  PolicyRuleDefinition,
  PolicyDefinitionInput,
  CustomPolicy,
  ViolationTemplate,
} from "../dsl/define-policy.js";
// Types the public signatures above refer to (exported so that users can name them).
export type { Applicable, TraitNotApplicable } from "../dsl/component.js";
export type { CheckedComponents, Excluded, MissingNeeds, TraitExcluded, TraitExcludes, TraitNeeds, TraitNeedsTrait } from "../dsl/module.js";
export type { ErrorCode } from "./core/errors.js";
export type { EvalOptions } from "./engine/engine.js";
export type { BlueprintPart, FqnsOf, PartKind, ResourcePart, TraitPart } from "../dsl/parts.js";
export type { Identity, SpecRefsOf } from "../dsl/define.js";
export type { IsOmittable, NumState, Omittable, SecretField, SecretInput, SecretValue } from "../dsl/config.js";
export type { PolicyOptions, PolicySelector, PolicyUse, Severity } from "../dsl/policy.js";
