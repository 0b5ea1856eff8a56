/**
 * opm-ts/apply: take a rendered release to a Kubernetes cluster and manage its lifecycle:
 * server-side apply with a release inventory, prune, wait, diff, status and delete.
 *
 * This is the only part of opm-ts that talks to Kubernetes (through `@kubernetes/client-node`);
 * importing `opm-ts` alone never loads it.
 *
 * @packageDocumentation
 */
export { apply, diff, status, deleteRelease, waitReady } from "./apply.js";
export type {
  ApplyOptions,
  ApplyReport,
  CommonOptions,
  DeleteOptions,
  DeleteReport,
  DiffAction,
  DiffOptions,
  DiffReport,
  LifecycleEvent,
  ObjectAction,
  ObjectDiff,
  ObjectResult,
  ObjectStatus,
  ReleaseTarget,
  StatusReport,
} from "./apply.js";
export { KubeClient, loadKubeConfig } from "./client.js";
export type { ConnectionOptions, KObject, ObjectRef } from "./client.js";
export { ApplyError, ConflictError } from "./errors.js";
export type { ApplyErrorCode, ConflictDetail } from "./errors.js";
export { health } from "./health.js";
export type { Health, HealthStatus } from "./health.js";
export { inventoryName, readInventory } from "./inventory.js";
export type { Inventory, InventoryEntry, HistoryRecord, Outcome, StoredInventory } from "./inventory.js";
