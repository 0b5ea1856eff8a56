/** Apply, diff, status and delete of rendered releases, with an inventory. The only code that talks to Kubernetes. */
export { apply, diff, status, deleteRelease, waitReady, normalize, objectId } from "./apply.js";
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
export { KubeClient, KubeHttpError, loadKubeConfig } from "./client.js";
export type { ConnectionOptions, KObject, ObjectRef } from "./client.js";
export { ApplyError, ConflictError } from "./errors.js";
export type { ApplyErrorCode, ConflictDetail } from "./errors.js";
export { health } from "./health.js";
export type { Health, HealthStatus } from "./health.js";
export { INVENTORY_LABEL, INVENTORY_TYPE, HISTORY_LIMIT, inventoryName, readInventory } from "./inventory.js";
export type { Inventory, InventoryEntry, HistoryRecord, Outcome } from "./inventory.js";
export { lockName } from "./lock.js";
export { unifiedDiff } from "./textdiff.js";
export { APPLY_FLAGS, parseDuration, runApply, runDelete, runDiff, runStatus } from "./cli.js";
export type { CliFlags, CliIO, FlagSpec } from "./cli.js";
