import type { SourceLocation } from "../src/core/errors.js";

/** Which catalog package a part's CUE mixin lives in. */
export interface CueRef {
  /** Import path, e.g. `opm.dev/catalog/traits@v1`. */
  importPath: string;
  /** Import alias used in emitted CUE, e.g. `traits`. */
  alias: string;
  /** Definition name, e.g. `#Scaling`. */
  def: string;
}

/**
 * One Resource, Trait or Blueprint as added to a component: its identity, the CUE mixin
 * that declares it, and the spec fields the author set.
 */
export interface Part<K extends PartKind = PartKind, F extends string = string> {
  readonly kind: K;
  /** Fully qualified name, e.g. `opm.dev/catalog/traits/scaling@v1`. */
  readonly fqn: F;
  readonly cue: CueRef;
  /** Spec fields this part sets, keyed by spec key (e.g. `{ scaling: { count: 3 } }`). */
  readonly spec: Readonly<Record<string, unknown>>;
  /** Traits: resources (FQNs) the trait applies to. */
  readonly appliesTo?: readonly string[];
  /** Blueprints: resource and trait FQNs the blueprint composes. */
  readonly composes?: readonly string[];
  /** Blueprints: labels the blueprint puts on the component (its CUE mixin sets the same). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Problems found when the part was built (collected, reported at render time). */
  readonly issues?: readonly import("../src/core/errors.js").Issue[];
  /** Where the author created the part. */
  readonly site?: SourceLocation;
  /** Definitions written in TypeScript (defineTrait etc.) carry their own CUE package text. */
  readonly definition?: unknown;
}

export type PartKind = "resource" | "trait" | "blueprint";

/** A resource part whose FQN is known to the type system. */
export type ResourcePart<F extends string = string> = Part<"resource", F>;

/**
 * A trait part. `A` is the union of resource FQNs it applies to (in its type, so that
 * `Component.with()` can reject it for a component that has none of them).
 */
export interface TraitPart<F extends string = string, A extends string = string> extends Part<"trait", F> {
  /** Phantom: the resources the trait applies to. */
  readonly __appliesTo?: A;
}

/** A blueprint part; `C` is the union of FQNs it composes. */
export interface BlueprintPart<F extends string = string, C extends string = string> extends Part<"blueprint", F> {
  readonly __composes?: C;
}

/** Every FQN a part brings to a component (itself and what it composes). */
export type FqnsOf<P> = P extends BlueprintPart<infer F, infer C> ? F | C : P extends Part<PartKind, infer F> ? F : never;

const PART = Symbol.for("opm-ts.part");

export function makePart<P extends Part>(p: P): P {
  return Object.freeze({ ...p, [PART]: true });
}

export function isPart(v: unknown): v is Part {
  return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[PART] === true;
}
