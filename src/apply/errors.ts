/**
 * Errors are data: every error raised by `src/apply/` is an {@link ApplyError} with a stable `code`,
 * a message a user can act on, and structured `details`. Recognise them with `ApplyError.is(e)` or
 * `ApplyError.is(e, "Conflict")` rather than `instanceof` (which breaks across package copies).
 */

export type ApplyErrorCode =
  /** Server-side apply conflicts with fields owned by another field manager. */
  | "Conflict"
  /** The server rejected an object (validation, admission, unknown kind...). */
  | "Invalid"
  /** Another module already owns this release name in this namespace. */
  | "ModuleMismatch"
  /** Another apply of the same release is running (or crashed less than the lock duration ago). */
  | "Locked"
  /** The inventory changed under us (optimistic concurrency on its resourceVersion). */
  | "InventoryConflict"
  /** The inventory Secret exists but cannot be read. */
  | "InventoryCorrupt"
  /** `--wait` or delete did not finish within the timeout. */
  | "Timeout"
  /** The release namespace does not exist (and `createNamespace` was not set). */
  | "NamespaceNotFound"
  /** The release has no inventory (status/delete given only name and namespace). */
  | "ReleaseNotFound"
  /** No usable kubeconfig / context. */
  | "Kubeconfig"
  /** The API server failed, even after retries. */
  | "ApiError"
  /** Several objects failed; see `details.errors`. */
  | "Multiple";

const BRAND = Symbol.for("opm-ts.ApplyError");

export interface ConflictDetail {
  /** Field path, e.g. `.spec.replicas`. */
  field: string;
  /** The field manager that owns it, e.g. `kubectl-edit`. */
  manager: string;
}

export class ApplyError extends Error {
  readonly code: ApplyErrorCode;
  readonly details: Record<string, unknown>;
  readonly [BRAND] = true;

  constructor(code: ApplyErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ApplyError";
    this.code = code;
    this.details = details;
  }

  /** True when `e` is an ApplyError (optionally with the given code). */
  static is(e: unknown, code?: ApplyErrorCode): e is ApplyError {
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
      "Conflict",
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
    return ApplyError.is(e, "Conflict");
  }
}

/** Collect several errors (from objects applied concurrently) into one. */
export function combineErrors(errors: unknown[]): unknown {
  if (errors.length === 1) return errors[0];
  const msgs = errors.map((e) => (e instanceof Error ? e.message : String(e)));
  return new ApplyError("Multiple", `${errors.length} objects failed:\n- ${msgs.join("\n- ")}`, { errors });
}
