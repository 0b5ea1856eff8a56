/**
 * The release inventory: one Secret per release in the release namespace, recording what the release
 * owns, the render digest, the module and the last 10 history records.
 */
import type { Violation } from "../render/types.js";
import { LABELS, MANAGER, kindWeight, type ReleaseInfo } from "../render/types.js";
import { ApplyError } from "./errors.js";
import { KubeHttpError, type KObject, type KubeClient, type ObjectRef } from "./client.js";
import { REVISIONS_KEY } from "./revisions.js";

/** Label marking a Secret as an OPM release inventory. */
export const INVENTORY_LABEL = "opmodel.dev/inventory";
/** Secret type of inventories. */
const INVENTORY_TYPE = "opmodel.dev/release-inventory.v1";
const HISTORY_LIMIT = 10;

export interface InventoryEntry {
  group: string;
  version: string;
  kind: string;
  namespace?: string;
  name: string;
  component?: string;
}

/** `failed`: the apply stopped part-way (an object was rejected); nothing was pruned. */
export type Outcome = "applied" | "ready" | "not-ready" | "failed";

export interface HistoryRecord {
  /** Monotonic revision number (1 for the first apply), kept across the 10-record window. */
  revision: number;
  time: string;
  moduleVersion: string;
  valuesDigest: string;
  digest: string;
  outcome: Outcome;
  /** Policy violations (warn and audit) recorded with this apply. */
  violations?: Violation[];
  /** Set when this record is a rollback: the revision whose objects it applied again. */
  rollbackOf?: number;
  /**
   * The objects this revision applied are stored in the inventory (key `revisions`): how many,
   * and a digest of their list. Absent: the revision cannot be rolled back to.
   */
  stored?: { objects: number; digest: string };
  /** Why the objects of this revision are not stored (e.g. dropped to stay under the Secret size limit). */
  notStored?: string;
}

export interface Inventory {
  release: { name: string; namespace: string; uuid: string };
  module: { fqn: string; name: string; version: string; uuid: string };
  digest: string;
  valuesDigest: string;
  entries: InventoryEntry[];
  /** Objects dropped from the render that are not yet pruned (kept so a failed prune is retried). */
  pendingPrune: InventoryEntry[];
  history: HistoryRecord[];
  /**
   * Per object (keyed by group, kind, namespace and name): a digest of the configuration opm last applied and of the fields
   * opm owned right after (`managedFields`). An object whose render and owned fields are both
   * unchanged is not sent again; a change by anyone else to a field opm owns changes the latter.
   */
  applied?: Record<string, string>;
}

export interface StoredInventory {
  inventory: Inventory;
  secret: KObject;
}

/** `opm.<release>.<first 8 hex of the release uuid>`: a valid Secret name. */
export function inventoryName(release: { name: string; uuid: string }): string {
  const id = release.uuid.replace(/-/g, "").slice(0, 8);
  return `opm.${release.name}.${id}`;
}

export function entryOf(o: {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}): InventoryEntry {
  const [g, v] = o.apiVersion.includes("/") ? o.apiVersion.split("/", 2) : ["", o.apiVersion];
  const e: InventoryEntry = { group: g!, version: v!, kind: o.kind, name: o.metadata.name };
  if (o.metadata.namespace) e.namespace = o.metadata.namespace;
  const c = o.metadata.labels?.[LABELS.component];
  if (c) e.component = c;
  return e;
}

export function refOf(e: InventoryEntry): ObjectRef {
  return { apiVersion: e.group ? `${e.group}/${e.version}` : e.version, kind: e.kind, name: e.name, namespace: e.namespace };
}

/** Identity ignoring version: the same object served under another version is the same object. */
export function entryKey(e: InventoryEntry): string {
  return `${e.group}|${e.kind}|${e.namespace ?? ""}|${e.name}`;
}

export function sortEntries(entries: InventoryEntry[]): InventoryEntry[] {
  return [...entries].sort(
    (a, b) =>
      kindWeight(a.kind) - kindWeight(b.kind) ||
      (a.namespace ?? "").localeCompare(b.namespace ?? "") ||
      a.name.localeCompare(b.name) ||
      a.kind.localeCompare(b.kind),
  );
}

const SECRET_REF = { apiVersion: "v1", kind: "Secret" };

function selector(name: string): string {
  return `${INVENTORY_LABEL}=true,${LABELS.releaseName}=${name}`;
}

/** Find a release's inventory by release name in a namespace (by labels, so the uuid need not be known). */
export async function readInventory(client: KubeClient, name: string, namespace: string): Promise<StoredInventory | undefined> {
  let items: KObject[];
  try {
    items = await client.list("v1", "Secret", namespace, selector(name));
  } catch (e) {
    if (e instanceof KubeHttpError && e.status === 404) return undefined;
    throw e;
  }
  if (items.length === 0) return undefined;
  if (items.length > 1) {
    throw new ApplyError(
      "inventory_corrupt",
      `release "${name}" in namespace "${namespace}" has ${items.length} inventories (${items.map((i) => i.metadata.name).join(", ")}); delete the stale one`,
    );
  }
  const secret = items[0]!;
  return { secret, inventory: decode(secret) };
}

function decode(secret: KObject): Inventory {
  const raw = (secret.data as Record<string, string> | undefined)?.inventory;
  try {
    const inv = JSON.parse(Buffer.from(raw ?? "", "base64").toString("utf8")) as Inventory;
    inv.pendingPrune ??= [];
    inv.history ??= [];
    // Records written before revisions were numbered count from 1.
    inv.history.forEach((r, i) => {
      r.revision ??= i + 1;
    });
    return inv;
  } catch (e) {
    throw new ApplyError(
      "inventory_corrupt",
      `inventory Secret ${secret.metadata.namespace}/${secret.metadata.name} is not readable: ${(e as Error).message}`,
      {},
      { cause: e },
    );
  }
}

function secretFor(release: ReleaseInfo, inv: Inventory, resourceVersion?: string, revisions?: string): KObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: INVENTORY_TYPE,
    metadata: {
      name: inventoryName(release),
      namespace: release.namespace,
      ...(resourceVersion ? { resourceVersion } : {}),
      labels: {
        [INVENTORY_LABEL]: "true",
        [LABELS.managedBy]: MANAGER,
        [LABELS.releaseName]: release.name,
        [LABELS.releaseNamespace]: release.namespace,
        [LABELS.releaseUuid]: release.uuid,
        [LABELS.moduleName]: release.module.name,
        [LABELS.moduleUuid]: release.module.uuid,
      },
      annotations: {
        "opmodel.dev/module-fqn": release.module.fqn,
        "opmodel.dev/module-version": release.module.version,
        "opmodel.dev/digest": inv.digest,
      },
    },
    data: { inventory: Buffer.from(JSON.stringify(inv)).toString("base64"), ...(revisions ? { [REVISIONS_KEY]: revisions } : {}) },
  };
}

/** The stored objects of the history's revisions (base64 of gzip; see revisions.ts), as held by an inventory Secret. */
export function storedRevisions(secret: KObject | undefined): string | undefined {
  return (secret?.data as Record<string, string> | undefined)?.[REVISIONS_KEY];
}

/**
 * Write the inventory: create when `previous` is undefined (409 if someone else created it meanwhile),
 * otherwise replace with `previous`'s resourceVersion as precondition. `revisions` (the stored
 * objects) defaults to what `previous` holds.
 */
export async function writeInventory(
  client: KubeClient,
  release: ReleaseInfo,
  inv: Inventory,
  previous?: KObject,
  revisions = storedRevisions(previous),
): Promise<KObject> {
  try {
    if (!previous) return await client.create(secretFor(release, inv, undefined, revisions), { fieldManager: MANAGER });
    if (previous.metadata.name !== inventoryName(release)) {
      // Same module and release name, but a different uuid (should not happen): replace the old Secret.
      const created = await client.create(secretFor(release, inv, undefined, revisions), { fieldManager: MANAGER });
      await client.delete({ ...SECRET_REF, name: previous.metadata.name, namespace: previous.metadata.namespace });
      return created;
    }
    return await client.replace(secretFor(release, inv, previous.metadata.resourceVersion, revisions), { fieldManager: MANAGER });
  } catch (e) {
    if (e instanceof KubeHttpError && e.status === 409) {
      throw new ApplyError(
        "inventory_conflict",
        `the inventory of release "${release.name}" changed while applying (another apply ran at the same time); re-run to converge`,
        {},
        { cause: e },
      );
    }
    throw e;
  }
}

export async function deleteInventory(client: KubeClient, secret: KObject): Promise<void> {
  await client.delete({ ...SECRET_REF, name: secret.metadata.name, namespace: secret.metadata.namespace });
}

/** The revision number of the next record: one more than the last one's. */
export function nextRevision(history: HistoryRecord[]): number {
  return (history.at(-1)?.revision ?? 0) + 1;
}

export function pushHistory(history: HistoryRecord[], rec: HistoryRecord): HistoryRecord[] {
  return [...history, rec].slice(-HISTORY_LIMIT);
}
