/**
 * opm-ts/apply: take a rendered release to a Kubernetes cluster and manage its lifecycle:
 * server-side apply with a release inventory, prune, wait, diff, status and delete.
 *
 * This is the only part of opm-ts that talks to Kubernetes (through `@kubernetes/client-node`);
 * importing `opm-ts` alone never loads it.
 *
 * @packageDocumentation
 */
export { apply } from "./apply.js";
export type { ApplyOptions, ApplyReport } from "./apply.js";
export { diff } from "./diff.js";
export type { DiffAction, DiffOptions, DiffReport, ObjectDiff } from "./diff.js";
export { status } from "./status.js";
export type { ObjectStatus, StatusReport } from "./status.js";
export { deleteRelease } from "./delete.js";
export type { DeleteOptions, DeleteReport } from "./delete.js";
export { waitReady } from "./wait.js";
export type { CommonOptions, LifecycleEvent, ObjectAction, ObjectResult, ReleaseTarget } from "./lifecycle.js";
export { KubeClient } from "./client.js";
export type { ConnectionOptions, KObject, ObjectRef } from "./client.js";
export { loadKubeConfig } from "./kubeconfig.js";
export type { LoadedKubeConfig } from "./kubeconfig.js";
export { ApplyError, ConflictError } from "./errors.js";
export type { ApplyErrorCode, ConflictDetail } from "./errors.js";
export { health } from "./health.js";
export type { Health, HealthStatus } from "./health.js";
export { inventoryName, readInventory } from "./inventory.js";
export type { Inventory, InventoryEntry, HistoryRecord, Outcome, StoredInventory } from "./inventory.js";
