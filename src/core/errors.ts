/**
 * Errors are data: every problem is an `Issue` with a code, a path, a message and,
 * where known, a source location. Every error opm-ts throws for a user's mistake or a
 * cluster's refusal is an {@link OpmError} (whose `code` says which kind of failure it is);
 * error classes are recognised with a static `is()` rather than `instanceof`.
 *
 * One code scheme everywhere: codes are snake_case words (`invalid_type`, `usage`,
 * `namespace_not_found`), for issues and errors alike.
 */

/** Where a value came from: a TypeScript call site, a values file line, or a CUE file. */
export interface SourceLocation {
  /** A file path relative to the current directory, or a description such as "command line". */
  file: string;
  /** 1-based line; 0 when the location is not a file line (for example a command-line flag). */
  line: number;
  column?: number;
}

export type IssueCode =
  | "invalid_type"
  | "out_of_range"
  | "pattern"
  | "enum"
  | "unknown_field"
  | "required"
  | "invalid_name"
  | "conflict"
  | "unmatched_component"
  | "unhandled_trait"
  | "not_applicable"
  | "engine"
  | "policy"
  | "secret"
  | "missing_key"
  | "invalid_definition"
  | "unknown_reference"
  | "cycle"
  | "io";

export interface Issue {
  code: IssueCode;
  /** Dotted field path, e.g. `values.replicas` or `components.web.spec.scaling.count`. */
  path: string;
  message: string;
  /** The constraint that was violated, in CUE syntax where possible (e.g. `>=1`). */
  constraint?: string;
  source?: SourceLocation;
}

/**
 * The code of an {@link OpmError}: which kind of failure it is. The codes of the apply layer
 * (`conflict`, `locked`, ...) are listed with `ApplyError` in `opm-ts/apply`.
 */
export type ErrorCode = "validation" | "render" | "engine" | "engine_timeout" | "policy" | "usage" | "io" | "load" | "values" | "link";

const BRAND = Symbol.for("opm-ts.error");

export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return "";
  if (!loc.line) return loc.file;
  return `${loc.file}:${loc.line}${loc.column ? ":" + loc.column : ""}`;
}

export function formatIssue(i: Issue): string {
  const where = i.source ? ` (${formatLocation(i.source)})` : "";
  const constraint = i.constraint ? ` [constraint: ${i.constraint}]` : "";
  return `${i.path ? i.path + ": " : ""}${i.message}${constraint}${where}`;
}

/**
 * Base class of every error opm-ts throws for a user's mistake (or a cluster's refusal): a
 * snake_case `code`, a summary, and every {@link Issue} found. `usage` errors exit the CLI with 2.
 */
export class OpmError extends Error {
  readonly [BRAND] = true;
  readonly code: string;
  readonly issues: readonly Issue[];
  constructor(code: ErrorCode | (string & {}), summary: string, issues: readonly Issue[] = [], options?: { cause?: unknown }) {
    super(issues.length ? `${summary}\n${issues.map((i) => "  - " + formatIssue(i)).join("\n")}` : summary, options);
    this.name = "OpmError";
    this.code = code;
    this.issues = Object.freeze([...issues]);
  }
  /** True for any opm-ts error, whichever copy of the library created it. */
  static is(e: unknown): e is OpmError {
    return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** Values or definitions that do not satisfy their schema. Holds every problem found. */
export class ValidationError extends OpmError {
  constructor(issues: readonly Issue[], summary = `${issues.length} validation error${issues.length === 1 ? "" : "s"}`) {
    super("validation", summary, issues);
    this.name = "ValidationError";
  }
  static override is(e: unknown): e is ValidationError {
    return OpmError.is(e) && e.code === "validation";
  }
}

/** A module could not be rendered (nothing matched a component, a trait was not handled, ...). */
export class RenderError extends OpmError {
  constructor(issues: readonly Issue[], summary = "render failed") {
    super("render", summary, issues);
    this.name = "RenderError";
  }
  static override is(e: unknown): e is RenderError {
    return OpmError.is(e) && e.code === "render";
  }
}

/** The CUE engine rejected a program. */
export class EngineError extends OpmError {
  constructor(issues: readonly Issue[], summary = "CUE evaluation failed") {
    super("engine", summary, issues);
    this.name = "EngineError";
  }
  static override is(e: unknown): e is EngineError {
    return OpmError.is(e) && (e.code === "engine" || e.code === "engine_timeout");
  }
}

/** An evaluation ran longer than the engine's timeout. */
export class EngineTimeoutError extends OpmError {
  constructor(
    readonly timeoutMs: number,
    /** What was being evaluated (e.g. a component and transformer), when the caller said. */
    readonly label?: string,
    /** From when the evaluation was asked for (time queued behind others included) to when it was stopped. */
    readonly elapsedMs?: number,
  ) {
    super(
      "engine_timeout",
      `CUE evaluation${label ? ` of ${label}` : ""} did not finish within the ${timeoutMs} ms limit and was stopped` +
        (elapsedMs !== undefined ? ` (${elapsedMs} ms after it was asked for)` : "") +
        "; raise the limit with --eval-timeout (e.g. --eval-timeout 2m), OPM_EVAL_TIMEOUT or the render option evalTimeoutMs",
    );
    this.name = "EngineTimeoutError";
  }
  static override is(e: unknown): e is EngineTimeoutError {
    return OpmError.is(e) && e.code === "engine_timeout";
  }
}

/** Policies with `onViolation: block` found violations; the render is refused. Exit code 2 on the CLI. */
export class PolicyError extends OpmError {
  readonly exitCode = 2;
  /** Non-blocking (warn) violations found in the same render. */
  readonly warnings: readonly Issue[];
  constructor(
    issues: readonly Issue[],
    summary = `${issues.length} blocking policy violation${issues.length === 1 ? "" : "s"}`,
    warnings: readonly Issue[] = [],
  ) {
    super("policy", summary, issues);
    this.warnings = Object.freeze([...warnings]);
    this.name = "PolicyError";
  }
  static override is(e: unknown): e is PolicyError {
    return OpmError.is(e) && e.code === "policy";
  }
}
