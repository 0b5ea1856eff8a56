import * as ast from "../src/core/cue/ast.js";
import { OpmError, type Issue, type SourceLocation } from "../src/core/errors.js";
import { isPart, type CueRef, type FqnsOf, type Part, type TraitPart } from "./parts.js";
import { toExpr } from "./refs.js";
import { callSite } from "./source.js";
import { checkComponent, type SpecEntry } from "./checks.js";

export type PartOf<K extends Part["kind"]> = Part & { kind: K };

/** The immutable state of a {@link Component}. */
export interface ComponentState {
  readonly parts: readonly Part[];
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly site?: SourceLocation;
}

const COMPONENT = Symbol.for("opm-ts.component");

/** The type a trait takes in `.with()` when it cannot apply to the component. */
export interface TraitNotApplicable<A extends string> {
  readonly "trait applies only to components with one of": A;
}

/**
 * Checks, at the type level, that every trait in `P` applies to a component whose FQNs
 * are `F` (when `F` is known, i.e. not `string`). A trait that cannot apply is mapped to
 * `TraitNotApplicable<...>`, so passing it fails to compile.
 */
export type Applicable<P extends readonly Part[], F extends string> = {
  [I in keyof P]: P[I] extends TraitPart<string, infer A>
    ? string extends F
      ? P[I]
      : [A] extends [never]
        ? P[I]
        : string extends A
          ? P[I]
          : [Extract<A, F>] extends [never]
            ? TraitNotApplicable<A>
            : P[I]
    : P[I];
};

/**
 * One part of an application: resources, traits and blueprints with labels. Immutable:
 * every method returns a new component. `F` is the union of FQNs the component is known
 * to have (`string` when unknown), so `.with()` can reject a trait that cannot apply.
 */
export class Component<F extends string = string> {
  /** Phantom: the FQNs this component has. */
  declare readonly __fqns?: F;
  readonly [COMPONENT] = true;
  readonly #s: ComponentState;
  constructor(state: ComponentState) {
    this.#s = Object.freeze({ ...state, parts: Object.freeze([...state.parts]) });
    Object.freeze(this);
  }
  /** Adds resources, traits or blueprints. A later part replaces an earlier one with the same FQN. */
  with<const P extends readonly Part[]>(...parts: P & Applicable<P, F | FqnsOf<P[number]>>): Component<F | FqnsOf<P[number]>> {
    for (const p of parts) {
      if (!isPart(p)) throw new TypeError("Component.with() takes resources, traits and blueprints made by opm-ts builders");
    }
    const fqns = new Set<string>(parts.map((p: Part) => p.fqn));
    return new Component<F | FqnsOf<P[number]>>({ ...this.#s, parts: [...this.#s.parts.filter((p) => !fqns.has(p.fqn)), ...parts] });
  }
  /** Adds labels to the component (transformers may match on them). */
  labels(labels: Record<string, string>): Component<F> {
    return new Component<F>({ ...this.#s, labels: { ...this.#s.labels, ...labels } });
  }
  /** Adds annotations to the component. */
  annotations(annotations: Record<string, string>): Component<F> {
    return new Component<F>({ ...this.#s, annotations: { ...this.#s.annotations, ...annotations } });
  }
  get parts(): readonly Part[] {
    return this.#s.parts;
  }
  /** The annotations added with `.annotations()` (values may hold references). */
  get ownAnnotations(): Readonly<Record<string, string>> {
    return this.#s.annotations;
  }
  get site(): SourceLocation | undefined {
    return this.#s.site;
  }
  /** FQNs of every resource, trait and blueprint, including what blueprints compose. */
  /** The labels (blueprint labels, then the component's own) and every FQN, as transformers match them. */
  summary(): { labels: Record<string, string>; fqns: Set<string> } {
    const labels: Record<string, string> = {};
    for (const p of this.#s.parts) Object.assign(labels, p.labels ?? {});
    return { labels: { ...labels, ...this.#s.labels }, fqns: this.fqns() };
  }
  fqns(): Set<string> {
    return new Set(this.#s.parts.flatMap((p) => [p.fqn, ...(p.composes ?? [])]));
  }
  static is(v: unknown): v is Component {
    return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[COMPONENT] === true;
  }

  /**
   * Compiles to the CUE struct of `#components.<name>`, collecting the imports it needs,
   * a source location per spec path, and every problem found in its parts.
   */
  compile(name: string): { expr: ast.Struct; imports: CueRef[]; sources: [string, SourceLocation][]; issues: Issue[] } {
    const imports: CueRef[] = [];
    const sources: [string, SourceLocation][] = [];
    const issues: Issue[] = [];
    const base = `components.${name}`;
    if (this.#s.site) sources.push([base, this.#s.site]);
    const composed = new Set(this.#s.parts.flatMap((p) => p.composes ?? []));
    const fqns = this.fqns();
    const embeds: ast.Decl[] = [];
    const spec = new Map<string, SpecEntry>();
    for (const p of this.#s.parts) {
      for (const i of p.issues ?? []) {
        issues.push({ ...i, path: `${base}.spec.${i.path}`, ...(p.site && !i.source ? { source: p.site } : {}) });
      }
      if (p.kind === "trait" && p.appliesTo?.length && !p.appliesTo.some((r) => fqns.has(r))) {
        issues.push({
          code: "not_applicable",
          path: base,
          message: `trait ${p.fqn} applies to components with ${p.appliesTo.join(" or ")}, and component "${name}" has none of them`,
          constraint: `appliesTo: [${p.appliesTo.join(", ")}]`,
          ...(p.site ? { source: p.site } : {}),
        });
      }
      if (!composed.has(p.fqn)) {
        imports.push(p.cue);
        embeds.push(ast.embed(ast.sel(ast.ident(p.cue.alias), p.cue.def)));
      }
      for (const [key, value] of Object.entries(p.spec)) {
        if (value === undefined) continue;
        spec.set(key, { value, fqn: p.fqn, ...(p.site ? { site: p.site } : {}) });
      }
    }
    issues.push(...checkComponent(name, spec, fqns, this.summary().labels, this.#s.site));
    const decls: ast.Decl[] = [...embeds];
    const meta: ast.Decl[] = [];
    if (Object.keys(this.#s.labels).length) meta.push(ast.field("labels", ast.fromJSON(this.#s.labels)));
    if (Object.keys(this.#s.annotations).length) meta.push(ast.field("annotations", toExpr(this.#s.annotations)));
    if (meta.length) decls.push(ast.field("metadata", ast.struct(meta)));
    if (spec.size) {
      decls.push(
        ast.field(
          "spec",
          ast.struct(
            [...spec].map(([key, { value, site }]) => {
              if (site) sources.push([`${base}.spec.${key}`, site]);
              return ast.field(key, toExpr(value));
            }),
          ),
        ),
      );
    }
    return { expr: ast.struct(decls), imports, sources, issues };
  }
}

/** Starts a component from parts: `component(Container({...}), Scaling({...}))`. */
export function component<const P extends readonly Part[]>(...parts: P): Component<FqnsOf<P[number]>> {
  return new Component<never>({ parts: [], labels: {}, annotations: {}, site: callSite() }).with(...(parts as readonly Part[])) as Component<FqnsOf<P[number]>>;
}

/** Thrown when something is used in the wrong place while building a module. */
export function misuse(message: string, site?: SourceLocation): never {
  throw new OpmError("E_USAGE", message + (site ? ` (${site.file}:${site.line})` : ""));
}
