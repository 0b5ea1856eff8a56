/**
 * A per-release lock: a coordination.k8s.io/v1 Lease `opm-lock-<release>` in the release namespace.
 * Acquired by create (409 when held), renewed while the apply runs, deleted at the end. A lock whose
 * holder stopped renewing (process killed) expires after `durationSeconds` and is taken over.
 */
import * as os from "node:os";
import { randomUUID } from "node:crypto";
import { MANAGER } from "../render/types.js";
import { ApplyError } from "./errors.js";
import { KubeHttpError, type KObject, type KubeClient } from "./client.js";

export interface LockOptions {
  /** Seconds after which an unrenewed lock is considered abandoned (default 30). */
  durationSeconds?: number;
}

export interface Lock {
  readonly holder: string;
  release(): Promise<void>;
}

const microTime = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");

export function lockName(release: string): string {
  return `opm-lock-${release}`.slice(0, 253);
}

export async function acquireLock(client: KubeClient, name: string, namespace: string, opts: LockOptions = {}): Promise<Lock> {
  const duration = Math.max(1, Math.round(opts.durationSeconds ?? 30));
  const holder = `${os.hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  const leaseName = lockName(name);
  const lease = (rv?: string): KObject => ({
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: leaseName, namespace, labels: { "app.kubernetes.io/managed-by": MANAGER }, ...(rv ? { resourceVersion: rv } : {}) },
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: duration,
      acquireTime: microTime(new Date()),
      renewTime: microTime(new Date()),
    },
  });
  let current: KObject;
  try {
    current = await client.create(lease(), { fieldManager: MANAGER });
  } catch (e) {
    if (!(e instanceof KubeHttpError && e.status === 409)) throw e;
    const existing = await client.get({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", name: leaseName, namespace });
    const spec = (existing?.spec ?? {}) as { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number };
    const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
    const expires = renewed + (spec.leaseDurationSeconds ?? duration) * 1000;
    const deleting = !!(existing?.metadata as { deletionTimestamp?: string } | undefined)?.deletionTimestamp;
    if (existing && !deleting && Date.now() < expires) {
      throw new ApplyError(
        "locked",
        `release "${name}" in namespace "${namespace}" is being applied by ${spec.holderIdentity ?? "another process"} ` +
          `(lock Lease ${namespace}/${leaseName}, renewed ${spec.renewTime}); wait for it to finish, or if it crashed, ` +
          `retry after ${new Date(expires).toISOString()}`,
        { holder: spec.holderIdentity, lease: leaseName },
      );
    }
    try {
      current = existing
        ? await client.replace(lease(existing.metadata.resourceVersion), { fieldManager: MANAGER })
        : await client.create(lease(), { fieldManager: MANAGER });
    } catch (e2) {
      if (e2 instanceof KubeHttpError && e2.status === 409) {
        throw new ApplyError("locked", `release "${name}" in namespace "${namespace}" was locked by another apply just now`, { lease: leaseName });
      }
      throw e2;
    }
  }
  let stopped = false;
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(
    () => {
      renewing = (async () => {
        if (stopped) return;
        const next = lease(current.metadata.resourceVersion);
        (next.spec as Record<string, unknown>).acquireTime = (current.spec as Record<string, unknown>).acquireTime;
        try {
          current = await client.replace(next, { fieldManager: MANAGER });
        } catch {
          /* a failed renewal is retried on the next tick; the release path tolerates a lost lease */
        }
      })();
    },
    Math.max(200, (duration * 1000) / 3),
  );
  timer.unref();
  return {
    holder,
    async release() {
      stopped = true;
      clearInterval(timer);
      await renewing;
      try {
        await client.delete({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", name: leaseName, namespace });
      } catch {
        /* it expires on its own */
      }
    },
  };
}
