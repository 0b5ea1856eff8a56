import type { SourceLocation } from "./errors.js";

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
export interface Part {
  readonly kind: "resource" | "trait" | "blueprint";
  /** Fully qualified name, e.g. `opm.dev/catalog/traits/scaling@v1`. */
  readonly fqn: string;
  readonly cue: CueRef;
  /** Spec fields this part sets, keyed by spec key (e.g. `{ scaling: { count: 3 } }`). */
  readonly spec: Readonly<Record<string, unknown>>;
  /** Traits: resources (FQNs) the trait applies to. */
  readonly appliesTo?: readonly string[];
  /** Blueprints: resource and trait FQNs the blueprint composes. */
  readonly composes?: readonly string[];
  /** Problems found when the part was built (collected, reported at render time). */
  readonly issues?: readonly import("./errors.js").Issue[];
  /** Where the author created the part. */
  readonly site?: SourceLocation;
  /** Definitions written in TypeScript (defineTrait etc.) carry their own CUE package text. */
  readonly definition?: unknown;
}

const PART = Symbol.for("opm-ts.part");

export function makePart(p: Part): Part {
  return Object.freeze({ ...p, [PART]: true });
}

export function isPart(v: unknown): v is Part {
  return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[PART] === true;
}
