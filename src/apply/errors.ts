/**
 * Errors are data: every error raised by `src/apply/` is an {@link ApplyError}, an `OpmError` with a
 * stable snake_case `code`, a message a user can act on, and structured `details`. Recognise them
 * with `ApplyError.is(e)` or `ApplyError.is(e, "conflict")` rather than `instanceof` (which breaks
 * across package copies).
 */
import { OpmError } from "../core/errors.js";

export type ApplyErrorCode =
  /** Server-side apply conflicts with fields owned by another field manager. */
  | "conflict"
  /** The server rejected an object (validation, admission, unknown kind...). */
  | "invalid"
  /** Another module already owns this release name in this namespace. */
  | "module_mismatch"
  /** Another apply of the same release is running (or crashed less than the lock duration ago). */
  | "locked"
  /** The inventory changed under us (optimistic concurrency on its resourceVersion). */
  | "inventory_conflict"
  /** The inventory Secret exists but cannot be read. */
  | "inventory_corrupt"
  /** `--wait` or delete did not finish within the timeout. */
  | "timeout"
  /** The release namespace does not exist (and `createNamespace` was not set). */
  | "namespace_not_found"
  /** The release has no inventory (status/delete given only name and namespace). */
  | "release_not_found"
  /** Rollback: the release's history has no such revision (or no earlier successful one). */
  | "revision_not_found"
  /** Rollback: the stored objects of the revision are missing or damaged; nothing was changed. */
  | "history_damaged"
  /** Rollback: a Secret value of the revision is neither in the cluster any more nor supplied; nothing was changed. */
  | "secret_value_missing"
  /** No usable kubeconfig / context. */
  | "kubeconfig"
  /** The API server failed, even after retries. */
  | "api_error"
  /** Several objects failed; see `details.errors`. */
  | "multiple";

const BRAND = Symbol.for("opm-ts.ApplyError");

export interface ConflictDetail {
  /** Field path, e.g. `.spec.replicas`. */
  field: string;
  /** The field manager that owns it, e.g. `kubectl-edit`. */
  manager: string;
}

/** A failure of apply, diff, status or delete: an `OpmError` whose code is an {@link ApplyErrorCode}. */
export class ApplyError extends OpmError {
  declare readonly code: ApplyErrorCode;
  readonly details: Record<string, unknown>;
  readonly [BRAND] = true;

  constructor(code: ApplyErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(code, message, [], options);
    this.name = "ApplyError";
    this.details = details;
  }

  /** True when `e` is an ApplyError (optionally with the given code). */
  static override is(e: unknown, code?: ApplyErrorCode): e is ApplyError {
    if (typeof e !== "object" || e === null || (e as Record<symbol, unknown>)[BRAND] !== true) return false;
    return code === undefined || (e as ApplyError).code === code;
  }
}

/** Server-side apply conflict: lists each conflicting field and the manager that owns it. */
export class ConflictError extends ApplyError {
  readonly conflicts: ConflictDetail[];
  readonly object: string;
  constructor(object: string, conflicts: ConflictDetail[], serverMessage?: string) {
    const lines = conflicts.map((c) => `  ${c.field} is owned by "${c.manager}"`);
    super(
      "conflict",
      `${object}: server-side apply conflicts with fields owned by another manager:\n${lines.join("\n")}\n` +
        `Re-run with --force-conflicts (forceConflicts: true) to take ownership, or stop rendering these fields.` +
        (conflicts.length === 0 && serverMessage ? `\n${serverMessage}` : ""),
      { object, conflicts },
    );
    this.name = "ConflictError";
    this.conflicts = conflicts;
    this.object = object;
  }
  static override is(e: unknown): e is ConflictError {
    return ApplyError.is(e, "conflict");
  }
}

/** Collect several errors (from objects applied concurrently) into one. */
export function combineErrors(errors: unknown[]): unknown {
  if (errors.length === 1) return errors[0];
  const msgs = errors.map((e) => (e instanceof Error ? e.message : String(e)));
  return new ApplyError("multiple", `${errors.length} objects failed:\n- ${msgs.join("\n- ")}`, { errors });
}
