/**
 * The test API server's storage: objects by resource, resourceVersions, server-side apply with
 * managed fields per field manager and conflicts, create/replace/delete with their preconditions,
 * dry runs, delayed deletion, CRDs that extend discovery. HTTP and the test controls are in
 * test/support/kube-api-server.ts.
 */
import { randomUUID } from "node:crypto";
import { SEP, clone, deepEqual, deleteAt, fieldsV1, merge, objectLeaves, pretty, stripMeta, valueAt, type FieldSet, type Obj } from "./fields.js";
import { BUILTIN, HttpErr, defaults, matchSelector, now, readyStatus, validate, type ResourceDef } from "./objects.js";

export interface ServerOptions {
  /** Every workload is immediately reported ready (rollout complete, Job complete, PVC bound). */
  autoReady?: boolean;
  /** Deletes set deletionTimestamp and take effect after this many ms (not for Leases and Events); `Infinity`: never. */
  deleteDelayMs?: number;
  /** CRDs become Established after this many ms (default 0: at once); `Infinity`: only by {@link TestKubeApiServer.setStatus}. */
  crdEstablishDelayMs?: number;
}

interface Managed {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time: string;
  fields: FieldSet;
}
interface Stored {
  obj: Obj;
  managed: Managed[];
}

export class ObjectStore {
  private readonly defs: ResourceDef[] = [];
  private readonly objects = new Map<string, Stored>();
  private rv = 1000;
  private storeWaiters: Array<{ kind: string; namespace: string | undefined; name: string; test: (o: Obj) => boolean; resolve: (o: Obj) => void }> = [];

  constructor(private readonly options: ServerOptions) {
    for (const [group, version, kinds] of BUILTIN) for (const [kind, plural, namespaced] of kinds) this.defs.push({ group, version, kind, plural, namespaced });
  }

  /** The resource kinds served in one group version (discovery). */
  resources(group: string, version: string): ResourceDef[] {
    return this.defs.filter((d) => d.group === group && d.version === version);
  }

  defFor(apiVersion: string, kind: string): ResourceDef | undefined {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    return this.defs.find((d) => d.group === group && d.version === version && d.kind === kind);
  }

  private key(def: ResourceDef, ns: string | undefined, name: string): string {
    return `${def.group}/${def.plural}/${def.namespaced ? (ns ?? "") : ""}/${name}`;
  }

  /** Read an object directly (no HTTP). */
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Obj | undefined {
    const def = this.defFor(apiVersion, kind);
    if (!def) return undefined;
    const s = this.objects.get(this.key(def, namespace, name));
    return s ? this.render(s) : undefined;
  }

  /** All objects (optionally of one kind). */
  list(kind?: string): Obj[] {
    return [...this.objects.values()].filter((s) => !kind || s.obj.kind === kind).map((s) => this.render(s));
  }

  /** Store an object as is (no field manager), e.g. to seed state. */
  put(o: Obj): Obj {
    const def = this.defFor(o.apiVersion, o.kind);
    if (!def) throw new Error(`unknown kind ${o.apiVersion} ${o.kind}`);
    const obj = clone(o);
    this.stamp(obj, undefined);
    defaults(obj);
    this.statusFor(obj);
    this.objects.set(this.key(def, obj.metadata.namespace, obj.metadata.name), { obj, managed: [] });
    return obj;
  }

  /** Replace an object's status (bumps resourceVersion). */
  setStatus(apiVersion: string, kind: string, namespace: string | undefined, name: string, status: Obj): void {
    const def = this.defFor(apiVersion, kind);
    const s = def && this.objects.get(this.key(def, namespace, name));
    if (!s) throw new Error(`no ${kind} ${namespace}/${name}`);
    s.obj.status = clone(status);
    s.obj.metadata.resourceVersion = String(++this.rv);
  }

  /** Report a workload as fully rolled out / complete / bound. */
  markReady(kind: string, namespace: string | undefined, name: string): void {
    const s = [...this.objects.values()].find(
      (x) => x.obj.kind === kind && x.obj.metadata.name === name && (x.obj.metadata.namespace ?? undefined) === namespace,
    );
    if (!s) throw new Error(`no ${kind} ${namespace}/${name}`);
    s.obj.status = readyStatus(s.obj);
    s.obj.metadata.resourceVersion = String(++this.rv);
  }

  /** Settles with the object once it is stored (created or updated, not by a dry run) and matches `test`. */
  whenStored(kind: string, namespace: string | undefined, name: string, test: (o: Obj) => boolean = () => true): Promise<Obj> {
    return new Promise((resolve) => this.storeWaiters.push({ kind, namespace, name, test, resolve }));
  }

  groupList(): Obj {
    const groups = new Map<string, Set<string>>();
    for (const d of this.defs) if (d.group) (groups.get(d.group) ?? groups.set(d.group, new Set()).get(d.group)!).add(d.version);
    return {
      kind: "APIGroupList",
      apiVersion: "v1",
      groups: [...groups.entries()].map(([name, vs]) => {
        const versions = [...vs].map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
        return { name, versions, preferredVersion: versions[0] };
      }),
    };
  }

  private render(s: Stored): Obj {
    const o = clone(s.obj);
    if (s.managed.length) {
      o.metadata.managedFields = s.managed.map((m) => ({
        manager: m.manager,
        operation: m.operation,
        apiVersion: m.apiVersion,
        time: m.time,
        fieldsType: "FieldsV1",
        fieldsV1: fieldsV1(m.fields),
      }));
    }
    return o;
  }

  read(def: ResourceDef, ns: string | undefined, name: string): Obj {
    const s = this.objects.get(this.key(def, ns, name));
    if (!s)
      throw new HttpErr(404, "NotFound", `${def.plural}${def.group ? `.${def.group}` : ""} "${name}" not found`, { name, group: def.group, kind: def.plural });
    return this.render(s);
  }

  doList(def: ResourceDef, ns: string | undefined, selector: string): Obj {
    const items = [...this.objects.values()]
      .filter((s) => s.obj.kind === def.kind && s.obj.apiVersion.split("/")[0] === (def.group || s.obj.apiVersion.split("/")[0]))
      .filter((s) => !ns || s.obj.metadata.namespace === ns)
      .filter((s) => matchSelector(s.obj.metadata.labels ?? {}, selector))
      .map((s) => {
        const o = this.render(s);
        delete o.apiVersion;
        delete o.kind;
        return o;
      });
    return {
      kind: `${def.kind}List`,
      apiVersion: def.group ? `${def.group}/${def.version}` : def.version,
      metadata: { resourceVersion: String(this.rv) },
      items,
    };
  }

  private checkTarget(def: ResourceDef, ns: string | undefined, name: string | undefined, body: Obj): void {
    const gv = def.group ? `${def.group}/${def.version}` : def.version;
    if (body.apiVersion !== gv || body.kind !== def.kind) {
      throw new HttpErr(
        400,
        "BadRequest",
        `the API version in the data (${body.apiVersion}) and kind (${body.kind}) do not match the request (${gv} ${def.kind})`,
      );
    }
    body.metadata ??= {};
    if (name !== undefined && body.metadata.name !== undefined && body.metadata.name !== name) {
      throw new HttpErr(400, "BadRequest", `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (name !== undefined) body.metadata.name ??= name;
    if (def.namespaced) {
      if (body.metadata.namespace && ns && body.metadata.namespace !== ns)
        throw new HttpErr(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
      body.metadata.namespace = ns;
      const nsDef = this.defFor("v1", "Namespace")!;
      const nsObj = this.objects.get(this.key(nsDef, undefined, ns!));
      if (!nsObj) throw new HttpErr(404, "NotFound", `namespaces "${ns}" not found`, { name: ns, kind: "namespaces" });
      if (nsObj.obj.metadata.deletionTimestamp)
        throw new HttpErr(403, "Forbidden", `unable to create new content in namespace ${ns} because it is being terminated`);
    } else delete body.metadata.namespace;
  }

  private stamp(o: Obj, prev: Obj | undefined): void {
    o.metadata ??= {};
    o.metadata.uid = prev?.metadata.uid ?? randomUUID();
    o.metadata.creationTimestamp = prev?.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const specChanged = !prev || !deepEqual(prev.spec, o.spec);
    o.metadata.generation = prev ? (prev.metadata.generation ?? 1) + (specChanged ? 1 : 0) : 1;
    o.metadata.resourceVersion = String(++this.rv);
    delete o.metadata.managedFields;
  }

  private statusFor(o: Obj, prev?: Obj): void {
    if (o.kind === "Namespace") o.status = { phase: "Active" };
    else if (o.kind === "CustomResourceDefinition") {
      const delay = this.options.crdEstablishDelayMs ?? 0;
      o.status = prev?.status ?? {
        conditions: [
          { type: "NamesAccepted", status: "True", reason: "NoConflicts" },
          { type: "Established", status: delay ? "False" : "True", reason: delay ? "Installing" : "InitialNamesAccepted" },
        ],
        acceptedNames: o.spec?.names,
      };
      if (delay && delay !== Infinity && !prev) {
        const name = o.metadata.name;
        setTimeout(() => {
          const def = this.defFor("apiextensions.k8s.io/v1", "CustomResourceDefinition")!;
          const s = this.objects.get(this.key(def, undefined, name));
          if (s) s.obj.status.conditions[1] = { type: "Established", status: "True", reason: "InitialNamesAccepted" };
        }, delay).unref();
      }
    } else if (this.options.autoReady) {
      const st = readyStatus(o);
      if (st) o.status = st;
      else delete o.status;
    } else if (prev?.status) o.status = prev.status;
    else if (["Deployment", "StatefulSet", "DaemonSet", "Job", "PersistentVolumeClaim"].includes(o.kind))
      o.status = o.kind === "PersistentVolumeClaim" ? { phase: "Pending" } : {};
  }

  private crdHook(o: Obj, removed = false): void {
    if (o.kind !== "CustomResourceDefinition") return;
    const spec = o.spec ?? {};
    for (const v of spec.versions ?? []) {
      const d: ResourceDef = { group: spec.group, version: v.name, kind: spec.names?.kind, plural: spec.names?.plural, namespaced: spec.scope !== "Cluster" };
      const i = this.defs.findIndex((x) => x.group === d.group && x.version === d.version && x.kind === d.kind);
      if (i >= 0) this.defs.splice(i, 1);
      if (!removed) this.defs.push(d);
    }
  }

  private commit(def: ResourceDef, obj: Obj, managed: Managed[], prev: Stored | undefined, dryRun: boolean): Obj {
    const k = this.key(def, obj.metadata.namespace, obj.metadata.name);
    if (dryRun) {
      const o = clone(obj);
      // A dry run never runs controllers: the status stays what it was.
      if (prev?.obj.status !== undefined) o.status = clone(prev.obj.status);
      else if (prev) delete o.status;
      if (!prev) o.metadata.resourceVersion = "";
      return this.render({ obj: o, managed });
    }
    this.objects.set(k, { obj, managed });
    this.crdHook(obj);
    const out = this.render({ obj, managed });
    for (const w of [...this.storeWaiters]) {
      if (w.kind !== obj.kind || w.name !== obj.metadata.name || w.namespace !== obj.metadata.namespace || !w.test(out)) continue;
      this.storeWaiters = this.storeWaiters.filter((x) => x !== w);
      w.resolve(out);
    }
    return out;
  }

  create(def: ResourceDef, ns: string | undefined, body: Obj, manager: string, dryRun: boolean): Obj {
    this.checkTarget(def, ns, undefined, body);
    validate(body, def);
    const k = this.key(def, body.metadata.namespace, body.metadata.name);
    if (this.objects.has(k))
      throw new HttpErr(409, "AlreadyExists", `${def.plural}${def.group ? `.${def.group}` : ""} "${body.metadata.name}" already exists`, {
        name: body.metadata.name,
        kind: def.plural,
      });
    const obj = clone(body);
    const status = obj.status;
    delete obj.status;
    this.stamp(obj, undefined);
    defaults(obj);
    if (status && (def.kind === "Event" || def.kind === "Lease")) obj.status = status;
    this.statusFor(obj);
    const managed: Managed[] = [{ manager, operation: "Update", apiVersion: body.apiVersion, time: now(), fields: objectLeaves(body) }];
    return this.commit(def, obj, managed, undefined, dryRun);
  }

  replace(def: ResourceDef, ns: string | undefined, name: string, body: Obj, manager: string, dryRun: boolean): Obj {
    this.checkTarget(def, ns, name, body);
    validate(body, def);
    const prev = this.objects.get(this.key(def, body.metadata.namespace, name));
    if (!prev) throw new HttpErr(404, "NotFound", `${def.plural} "${name}" not found`, { name, kind: def.plural });
    const want = body.metadata.resourceVersion;
    if (want && want !== prev.obj.metadata.resourceVersion) {
      throw new HttpErr(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${def.plural}${def.group ? `.${def.group}` : ""} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, kind: def.plural },
      );
    }
    const obj = clone(body);
    delete obj.status;
    obj.status = prev.obj.status;
    this.stamp(obj, prev.obj);
    defaults(obj);
    this.statusFor(obj, prev.obj);
    const fields = objectLeaves(body);
    const changed = new Set([...fields].filter((p) => !deepEqual(valueAt(prev.obj, p), valueAt(body, p))));
    const managed = prev.managed
      .map((m) => (m.manager === manager && m.operation === "Update" ? m : { ...m, fields: new Set([...m.fields].filter((p) => !changed.has(p))) }))
      .filter((m) => m.fields.size > 0);
    const mine = managed.find((m) => m.manager === manager && m.operation === "Update");
    if (mine) mine.fields = new Set([...mine.fields, ...changed]);
    else if (changed.size) managed.push({ manager, operation: "Update", apiVersion: body.apiVersion, time: now(), fields: changed });
    return this.commit(def, obj, managed, prev, dryRun);
  }

  ssa(def: ResourceDef, ns: string | undefined, name: string, body: Obj, manager: string, force: boolean, dryRun: boolean): { code: number; body: Obj } {
    this.checkTarget(def, ns, name, body);
    const prev = this.objects.get(this.key(def, body.metadata.namespace, name));
    const applied = clone(body);
    delete applied.status;
    if (applied.metadata.resourceVersion && prev && applied.metadata.resourceVersion !== prev.obj.metadata.resourceVersion) {
      throw new HttpErr(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${def.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    const fields = objectLeaves(applied);
    const live = prev?.obj;
    let managed = (prev?.managed ?? []).map((m) => ({ ...m, fields: new Set(m.fields) }));

    // Conflicts: fields another manager owns with a different value.
    const conflicts: Array<{ manager: string; path: string }> = [];
    for (const m of managed) {
      if (m.manager === manager && m.operation === "Apply") continue;
      for (const p of m.fields) {
        for (const q of fields) {
          const related = p === q || p.startsWith(q + SEP) || q.startsWith(p + SEP);
          if (!related) continue;
          const shorter = p.length <= q.length ? p : q;
          if (!deepEqual(valueAt(live, shorter), valueAt(applied, shorter))) conflicts.push({ manager: m.manager, path: p });
        }
      }
    }
    const uniq = [...new Map(conflicts.map((c) => [`${c.manager}${SEP}${c.path}`, c])).values()];
    if (uniq.length && !force) {
      const gv = def.group ? `${def.group}/${def.version}` : def.version;
      const lines = uniq.map((c) => `conflict with "${c.manager}" using ${gv}: ${pretty(c.path)}`);
      throw new HttpErr(409, "Conflict", `Apply failed with ${uniq.length} conflict${uniq.length > 1 ? "s" : ""}: ${lines.join("\n")}`, {
        causes: uniq
          .map((c, i) => ({ type: "FieldManagerConflict", message: `conflict with "${c.manager}" using ${gv}`, field: pretty(c.path), _i: i }))
          .map(({ _i, ...c }) => c),
      });
    }
    if (force) {
      for (const c of uniq) {
        const m = managed.find((x) => x.manager === c.manager && x.fields.has(c.path));
        m?.fields.delete(c.path);
      }
    }

    // Merge, then remove fields this manager no longer applies and nobody else owns.
    const obj: Obj = live ? (merge(clone(live), applied) as Obj) : clone(applied);
    const mine = managed.find((m) => m.manager === manager && m.operation === "Apply");
    if (mine && live) {
      for (const p of mine.fields) {
        if (fields.has(p)) continue;
        const ownedElsewhere = managed.some((m) => m !== mine && [...m.fields].some((q) => q === p || q.startsWith(p + SEP)));
        if (!ownedElsewhere) deleteAt(obj, p);
      }
    }
    validate(obj, def);
    defaults(obj);
    if (mine) {
      mine.fields = fields;
      if (live && !deepEqual(stripMeta(live), stripMeta(obj))) mine.time = now();
    } else managed.push({ manager, operation: "Apply", apiVersion: body.apiVersion, time: now(), fields });
    managed = managed.filter((m) => m.fields.size > 0);

    if (live) {
      const sameObj = deepEqual(stripMeta(live), stripMeta(obj));
      const sameManaged = deepEqual(
        prev!.managed.map((m) => [m.manager, m.operation, [...m.fields].sort()]),
        managed.map((m) => [m.manager, m.operation, [...m.fields].sort()]),
      );
      if (sameObj && sameManaged) return { code: 200, body: this.render(prev!) };
      obj.status = live.status;
      this.stamp(obj, live);
      this.statusFor(obj, live);
      return { code: 200, body: this.commit(def, obj, managed, prev, dryRun) };
    }
    this.stamp(obj, undefined);
    this.statusFor(obj);
    return { code: 201, body: this.commit(def, obj, managed, undefined, dryRun) };
  }

  remove(def: ResourceDef, ns: string | undefined, name: string, dryRun: boolean): Obj {
    const k = this.key(def, ns, name);
    const s = this.objects.get(k);
    if (!s) throw new HttpErr(404, "NotFound", `${def.plural}${def.group ? `.${def.group}` : ""} "${name}" not found`, { name, kind: def.plural });
    if (dryRun) return { kind: "Status", apiVersion: "v1", status: "Success", details: { name, kind: def.plural } };
    const finish = () => {
      this.objects.delete(k);
      this.crdHook(s.obj, true);
      if (def.kind === "Namespace") for (const [key, v] of this.objects) if (v.obj.metadata.namespace === name) this.objects.delete(key);
    };
    // Delayed deletion stands in for finalizers; Leases and Events have none.
    const delay = def.kind === "Lease" || def.kind === "Event" ? 0 : (this.options.deleteDelayMs ?? 0);
    if (delay > 0) {
      if (!s.obj.metadata.deletionTimestamp) {
        s.obj.metadata.deletionTimestamp = new Date().toISOString();
        s.obj.metadata.resourceVersion = String(++this.rv);
        if (delay !== Infinity) setTimeout(finish, delay).unref();
      }
    } else finish();
    return { kind: "Status", apiVersion: "v1", status: "Success", details: { name, kind: def.plural } };
  }
}
