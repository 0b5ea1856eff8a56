/**
 * `diff`: what `apply` would change, object by object, as unified diffs (Secret values redacted).
 */
import { LABELS, MANAGER, type ReleaseInfo, type RenderResult } from "../render/types.js";
import { combineErrors } from "./errors.js";
import { KubeClient, type ObjectRef } from "./client.js";
import { entryKey, entryOf, readInventory, refOf, sortEntries } from "./inventory.js";
import { checkModule, type CommonOptions } from "./lifecycle.js";
import { explain, mapLimit, normalize, objectId, refFromObject, toYaml, withNamespaces, withoutStatus } from "./objects.js";
import { redactPair } from "./redact.js";
import { unifiedDiff } from "./textdiff.js";

export type DiffAction = "create" | "update" | "unchanged" | "prune";

export interface ObjectDiff {
  id: string;
  ref: ObjectRef;
  action: DiffAction;
  /** Unified diff (Secret values redacted); empty when unchanged. */
  diff: string;
}

export interface DiffReport {
  release: ReleaseInfo;
  changed: boolean;
  objects: ObjectDiff[];
  /** All diffs concatenated. */
  text: string;
}

export interface DiffOptions extends CommonOptions {
  forceConflicts?: boolean;
  noPrune?: boolean;
}

/**
 * What `apply` would change, computed with a server-side dry-run apply so defaults and other
 * managers' fields do not show up as changes. Secret values are redacted.
 */
export async function diff(result: RenderResult, options: DiffOptions = {}): Promise<DiffReport> {
  const client = options.client ?? new KubeClient(options);
  const release = result.release;
  const objects = await withNamespaces(client, result.objects, release);
  const nsExists = !!(await client.get({ apiVersion: "v1", kind: "Namespace", name: release.namespace }));
  const prev = nsExists ? await readInventory(client, release.name, release.namespace) : undefined;
  checkModule(prev, release);
  const crdKinds = new Set(
    objects
      .filter((o) => o.kind === "CustomResourceDefinition")
      .map((o) => `${(o.spec as { group?: string }).group}|${(o.spec as { names?: { kind?: string } }).names?.kind}`),
  );
  const out: ObjectDiff[] = [];
  const settled = await mapLimit(objects, 8, async (obj): Promise<ObjectDiff> => {
    const ref = refFromObject(obj);
    const id = objectId(obj);
    const group = obj.apiVersion.includes("/") ? obj.apiVersion.split("/")[0] : "";
    const nsMissing = !nsExists && obj.metadata.namespace === release.namespace;
    const crdPending = crdKinds.has(`${group}|${obj.kind}`) && !(await client.resourceInfo(obj.apiVersion, obj.kind));
    try {
      if (nsMissing || crdPending) {
        const [, d] = redactPair(undefined, obj);
        return { id, ref, action: "create", diff: unifiedDiff("", toYaml(d), { fromFile: `live/${id}`, toFile: `desired/${id}` }) };
      }
      const live = await client.get(ref);
      const { object: dry } = await client.apply(obj, { fieldManager: MANAGER, force: options.forceConflicts, dryRun: true });
      // Status is the controllers' business, not the render's: leave it out of the diff.
      const [a, b] = redactPair(withoutStatus(normalize(live)), withoutStatus(normalize(dry)));
      const text = unifiedDiff(toYaml(a), toYaml(b), { fromFile: `live/${id}`, toFile: `desired/${id}` });
      return { id, ref, action: !live ? "create" : text ? "update" : "unchanged", diff: text };
    } catch (e) {
      throw explain(e, obj, objects);
    }
  });
  const errors = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected").map((s) => s.reason);
  if (errors.length) throw combineErrors(errors);
  for (const s of settled) out.push((s as PromiseFulfilledResult<ObjectDiff>).value);

  if (prev && !options.noPrune) {
    const keys = new Set(objects.map((o) => entryKey(entryOf(o))));
    for (const e of sortEntries([...prev.inventory.entries, ...prev.inventory.pendingPrune]).reverse()) {
      if (keys.has(entryKey(e)) || e.kind === "Namespace") continue;
      keys.add(entryKey(e));
      const ref = refOf(e);
      const live = await client.get(ref);
      if (!live || live.metadata.labels?.[LABELS.releaseUuid] !== release.uuid) continue;
      const id = objectId(ref);
      const [a] = redactPair(withoutStatus(normalize(live)), undefined);
      out.push({ id, ref, action: "prune", diff: unifiedDiff(toYaml(a), "", { fromFile: `live/${id}`, toFile: `desired/${id} (pruned)` }) });
    }
  }
  const changed = out.some((d) => d.action !== "unchanged");
  return {
    release,
    changed,
    objects: out,
    text: out
      .map((d) => d.diff)
      .filter(Boolean)
      .join(""),
  };
}
