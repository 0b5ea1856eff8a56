/**
 * Readiness per kind, in the spirit of kstatus: `Current` (ready), `InProgress`, `Failed`, `NotFound`.
 */
import type { KObject } from "./client.js";

export type HealthStatus = "Current" | "InProgress" | "Failed" | "NotFound";

export interface Health {
  status: HealthStatus;
  /** Human-readable reason, from the object's own status/conditions where possible. */
  message: string;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

const num = (v: unknown): number => (typeof v === "number" ? v : 0);

function conditions(o: KObject): Condition[] {
  const s = o.status as { conditions?: Condition[] } | undefined;
  return Array.isArray(s?.conditions) ? s!.conditions : [];
}

function cond(o: KObject, type: string): Condition | undefined {
  return conditions(o).find((c) => c.type === type);
}

function condText(c: Condition | undefined): string {
  if (!c) return "";
  return [c.reason, c.message].filter(Boolean).join(": ");
}

const ready = (message = "ready"): Health => ({ status: "Current", message });
const progress = (message: string): Health => ({ status: "InProgress", message });
const failed = (message: string): Health => ({ status: "Failed", message });

/** Health of a live object (or `NotFound` when it is missing). */
export function health(o: KObject | undefined): Health {
  if (!o) return { status: "NotFound", message: "object not found" };
  const s = (o.status ?? {}) as Record<string, unknown>;
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  const gen = o.metadata.generation;
  const observed = s.observedGeneration as number | undefined;
  const stale = gen !== undefined && observed !== undefined && observed < gen;
  if ((o.metadata as { deletionTimestamp?: string }).deletionTimestamp) return progress("being deleted");

  switch (o.kind) {
    case "Deployment": {
      const want = spec.replicas === undefined ? 1 : num(spec.replicas);
      const p = cond(o, "Progressing");
      if (p?.reason === "ProgressDeadlineExceeded") return failed(`rollout failed: ${condText(p)}`);
      if (observed === undefined || stale) return progress("waiting for the controller to observe the new generation");
      const upd = num(s.updatedReplicas);
      const avail = num(s.availableReplicas);
      const total = num(s.replicas);
      if (upd < want) return progress(`${upd} of ${want} replicas updated`);
      if (total > upd) return progress(`${total - upd} old replicas pending termination`);
      if (avail < want)
        return progress(`${avail} of ${want} updated replicas available${condText(cond(o, "Available")) ? ` (${condText(cond(o, "Available"))})` : ""}`);
      return ready(`${avail}/${want} replicas available`);
    }
    case "StatefulSet": {
      const want = spec.replicas === undefined ? 1 : num(spec.replicas);
      if (observed === undefined || stale) return progress("waiting for the controller to observe the new generation");
      const rdy = num(s.readyReplicas);
      const upd = num(s.updatedReplicas);
      if (rdy < want) return progress(`${rdy} of ${want} replicas ready`);
      const strategy = (spec.updateStrategy as { type?: string } | undefined)?.type ?? "RollingUpdate";
      if (strategy === "RollingUpdate") {
        if (upd < want) return progress(`${upd} of ${want} replicas updated`);
        if (s.updateRevision && s.currentRevision !== s.updateRevision) return progress(`rolling out revision ${String(s.updateRevision)}`);
      }
      return ready(`${rdy}/${want} replicas ready`);
    }
    case "DaemonSet": {
      if (observed === undefined || stale) return progress("waiting for the controller to observe the new generation");
      const desired = num(s.desiredNumberScheduled);
      const scheduled = num(s.currentNumberScheduled);
      const rdy = num(s.numberReady);
      const upd = num(s.updatedNumberScheduled);
      const avail = num(s.numberAvailable);
      if (scheduled < desired) return progress(`${scheduled} of ${desired} pods scheduled`);
      if (upd < desired) return progress(`${upd} of ${desired} pods updated`);
      if (rdy < desired || avail < desired) return progress(`${Math.min(rdy, avail)} of ${desired} pods ready`);
      return ready(`${rdy}/${desired} pods ready`);
    }
    case "Job": {
      const f = cond(o, "Failed");
      if (f?.status === "True") return failed(`job failed: ${condText(f)}`);
      const c = cond(o, "Complete");
      if (c?.status === "True") return ready("job complete");
      return progress(`job running: ${num(s.active)} active, ${num(s.succeeded)} succeeded, ${num(s.failed)} failed`);
    }
    case "PersistentVolumeClaim": {
      const phase = s.phase as string | undefined;
      if (phase === "Bound") return ready("bound");
      if (phase === "Lost") return failed("claim lost its volume");
      return progress(`claim is ${phase ?? "Pending"}`);
    }
    case "Pod": {
      const phase = s.phase as string | undefined;
      if (phase === "Succeeded") return ready("pod succeeded");
      if (phase === "Failed") return failed(`pod failed${s.message ? `: ${String(s.message)}` : ""}`);
      const r = cond(o, "Ready");
      return r?.status === "True" ? ready("pod ready") : progress(`pod ${phase ?? "Pending"}${condText(r) ? `: ${condText(r)}` : ""}`);
    }
    case "Service": {
      if (spec.type === "LoadBalancer") {
        const ing = (s.loadBalancer as { ingress?: unknown[] } | undefined)?.ingress;
        return ing?.length ? ready("load balancer provisioned") : progress("waiting for a load balancer address");
      }
      return ready("service");
    }
    case "CustomResourceDefinition": {
      const e = cond(o, "Established");
      if (e?.status === "True") return ready("established");
      const n = cond(o, "NamesAccepted");
      if (n?.status === "False") return failed(`names not accepted: ${condText(n)}`);
      return progress("waiting for the CRD to be established");
    }
    case "Namespace": {
      const phase = s.phase as string | undefined;
      return phase === "Terminating" ? progress("namespace terminating") : ready("namespace active");
    }
    default: {
      if (stale) return progress("waiting for the controller to observe the new generation");
      const r = cond(o, "Ready");
      if (r) {
        if (r.status === "True") return ready(condText(r) || "ready");
        if (r.status === "False" && /Fail|Error/i.test(r.reason ?? "")) return failed(condText(r) || "not ready");
        return progress(condText(r) || "not ready");
      }
      const st = cond(o, "Stalled");
      if (st?.status === "True") return failed(condText(st) || "stalled");
      const rec = cond(o, "Reconciling");
      if (rec?.status === "True") return progress(condText(rec) || "reconciling");
      return ready("exists");
    }
  }
}
