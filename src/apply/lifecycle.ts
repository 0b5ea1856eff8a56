/**
 * What every lifecycle operation (apply, diff, status, delete) shares: the common options, the
 * progress events, the result of one object, how a release is named, and the rule that a release
 * belongs to one module.
 */
import type { ReleaseInfo, RenderResult } from "../render/types.js";
import { ApplyError } from "./errors.js";
import type { ConnectionOptions, KubeClient, ObjectRef } from "./client.js";
import type { Health } from "./health.js";
import type { StoredInventory } from "./inventory.js";

export interface CommonOptions extends ConnectionOptions {
  /** Reuse a client (tests, several commands in a row). */
  client?: KubeClient;
  /** Progress callback. */
  onEvent?: (e: LifecycleEvent) => void;
  /** Poll interval for waits in milliseconds (default 1000). */
  pollIntervalMs?: number;
}

export type ObjectAction = "created" | "configured" | "unchanged" | "pruned" | "deleted";

export type LifecycleEvent =
  | { type: "applied"; id: string; action: "created" | "configured" | "unchanged"; dryRun: boolean }
  | { type: "pruned"; id: string; dryRun: boolean }
  | { type: "skipped"; id: string; reason: string }
  | { type: "deleted"; id: string }
  | { type: "waiting"; id: string; health: Health }
  | { type: "ready"; id: string; health: Health }
  | { type: "gone"; id: string }
  | { type: "info"; message: string };

export interface ObjectResult {
  id: string;
  ref: ObjectRef;
  action: ObjectAction;
}

export interface ReleaseTarget {
  name: string;
  namespace: string;
}

export function isRender(t: ReleaseTarget | RenderResult): t is RenderResult {
  return typeof (t as RenderResult).release === "object" && Array.isArray((t as RenderResult).objects);
}

export function checkModule(prev: StoredInventory | undefined, release: ReleaseInfo): void {
  if (prev && prev.inventory.module.fqn !== release.module.fqn) {
    throw new ApplyError(
      "module_mismatch",
      `release "${release.name}" in namespace "${release.namespace}" belongs to module ${prev.inventory.module.fqn} ` +
        `(version ${prev.inventory.module.version}), not ${release.module.fqn}; choose another release name (--name) or delete the release first`,
      { existing: prev.inventory.module.fqn, requested: release.module.fqn },
    );
  }
}
