/**
 * Waiting on the cluster: until CRDs are established, until objects are ready (naming what is not
 * and why: its conditions, its pods' container states, its last events), until deleted objects
 * are gone.
 */
import { ApplyError } from "./errors.js";
import type { KObject, KubeClient, ObjectRef } from "./client.js";
import { health, type Health } from "./health.js";
import type { LifecycleEvent } from "./lifecycle.js";
import { objectId, refFromObject, sleep } from "./objects.js";

export async function waitEstablished(client: KubeClient, crds: KObject[], timeoutMs: number, pollMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    for (;;) {
      const live = await client.get({ apiVersion: crd.apiVersion, kind: crd.kind, name: crd.metadata.name });
      const h = health(live);
      if (h.status === "Current") break;
      if (h.status === "Failed") throw new ApplyError("invalid", `${objectId(crd)}: ${h.message}`);
      if (Date.now() > deadline) throw new ApplyError("timeout", `${objectId(crd)} was not established in time: ${h.message}`, { object: objectId(crd) });
      await sleep(Math.min(pollMs, 250));
    }
    const spec = crd.spec as { group?: string; versions?: Array<{ name: string }> } | undefined;
    for (const v of spec?.versions ?? []) client.forgetDiscovery(`${spec?.group}/${v.name}`);
  }
}

async function eventsFor(client: KubeClient, ref: ObjectRef): Promise<string[]> {
  if (!ref.namespace) return [];
  try {
    const evs = await client.list("v1", "Event", ref.namespace);
    return evs
      .filter((e) => {
        const io = e.involvedObject as { kind?: string; name?: string } | undefined;
        return io?.kind === ref.kind && io?.name === ref.name;
      })
      .slice(-3)
      .map((e) => `${String(e.type ?? "")} ${String(e.reason ?? "")}: ${String(e.message ?? "")}`.trim());
  } catch {
    return [];
  }
}

const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"]);

/** Why a workload's pods are not ready (waiting/terminated container reasons), e.g. `pod web-1: container main CrashLoopBackOff: back-off 40s`. */
export async function podProblems(client: KubeClient, ref: ObjectRef, live?: KObject): Promise<string[]> {
  if (!WORKLOADS.has(ref.kind) || !ref.namespace) return [];
  try {
    live ??= await client.get(ref);
    const match = (live?.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector?.matchLabels ?? {};
    const sel = Object.entries(match)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    if (!sel) return [];
    const out: string[] = [];
    for (const pod of await client.list("v1", "Pod", ref.namespace, sel)) {
      const st = (pod.status ?? {}) as {
        phase?: string;
        conditions?: Array<{ type: string; status: string; reason?: string }>;
        containerStatuses?: Array<Record<string, any>>;
      };
      const why: string[] = [];
      for (const c of st.containerStatuses ?? []) {
        const w = c.state?.waiting;
        const t = c.state?.terminated;
        if (w?.reason) why.push(`container ${c.name} ${w.reason}${w.message ? `: ${w.message}` : ""}`);
        else if (t && t.exitCode !== 0) why.push(`container ${c.name} terminated: ${t.reason ?? "Error"} (exit code ${t.exitCode})`);
        else if (c.ready === false && st.phase === "Running") why.push(`container ${c.name} not ready`);
      }
      if (!why.length && st.phase === "Pending")
        why.push(st.conditions?.find((c) => c.type === "PodScheduled")?.status === "True" ? "Pending" : "Pending: not scheduled");
      if (why.length) out.push(`pod ${pod.metadata.name}: ${why.join("; ")}`);
      if (out.length >= 3) break;
    }
    return out;
  } catch {
    return [];
  }
}

/** Wait until every object is Current; throws a Timeout (or Failed) ApplyError naming what is not ready and why. */
export async function waitReady(
  client: KubeClient,
  objects: Array<KObject | ObjectRef>,
  opts: { timeoutMs: number; pollMs: number; emit?: (e: LifecycleEvent) => void },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  const refs = objects.map((o) => ("metadata" in o ? refFromObject(o) : o));
  const pending = new Map(refs.map((r) => [objectId(r), r]));
  const last = new Map<string, Health>();
  for (;;) {
    await Promise.all(
      [...pending.entries()].map(async ([id, ref]) => {
        const h = health(await client.get(ref));
        const prevH = last.get(id);
        last.set(id, h);
        if (h.status === "Current") {
          pending.delete(id);
          opts.emit?.({ type: "ready", id, health: h });
        } else if (!prevH || prevH.message !== h.message) opts.emit?.({ type: "waiting", id, health: h });
      }),
    );
    const failedIds = [...pending.keys()].filter((id) => last.get(id)?.status === "Failed");
    if (pending.size === 0) return;
    if (failedIds.length || Date.now() >= deadline) {
      const lines: string[] = [];
      for (const [id, ref] of pending) {
        const h = last.get(id)!;
        const evs = await eventsFor(client, ref);
        const pods = await podProblems(client, ref);
        lines.push(
          `${id}: ${h.status}: ${h.message}${pods.length ? `\n    ${pods.join("\n    ")}` : ""}${evs.length ? `\n    events: ${evs.join("; ")}` : ""}`,
        );
      }
      const what = failedIds.length ? "failed" : `not ready after ${Math.round(opts.timeoutMs / 1000)}s`;
      throw new ApplyError("timeout", `${pending.size} object(s) ${what}:\n  ${lines.join("\n  ")}`, {
        notReady: [...pending.keys()].map((id) => ({ id, ...last.get(id)! })),
      });
    }
    await sleep(Math.min(opts.pollMs, Math.max(10, deadline - Date.now())));
  }
}

export async function waitGone(client: KubeClient, refs: ObjectRef[], timeoutMs: number, pollMs: number, emit: (e: LifecycleEvent) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = refs;
  for (;;) {
    const still: ObjectRef[] = [];
    for (const r of pending) {
      if (await client.get(r)) still.push(r);
      else emit({ type: "gone", id: objectId(r) });
    }
    pending = still;
    if (!pending.length) return;
    if (Date.now() >= deadline) {
      throw new ApplyError(
        "timeout",
        `${pending.length} object(s) still present after ${Math.round(timeoutMs / 1000)}s: ${pending.map(objectId).join(", ")} (finalizers may be blocking deletion)`,
        {
          remaining: pending.map(objectId),
        },
      );
    }
    await sleep(Math.min(pollMs, Math.max(10, deadline - Date.now())));
  }
}
