/**
 * Managed fields, as the API server keeps them for server-side apply: the set of leaf field paths
 * each field manager owns (segments `f:<key>` / `k:{"<key>":<v>}`), merging an applied object into
 * the live one, and the `fieldsV1` shape clients read. Part of the test API server
 * (test/support/kube-api-server.ts).
 */

export type Obj = Record<string, any>;
export type FieldSet = Set<string>;

/** Separates the segments of a field path. */
export const SEP = "\u0000";
const MERGE_KEYS = ["name", "containerPort", "port", "mountPath", "devicePath", "ip", "topologyKey"];

export const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));
export const deepEqual = (a: unknown, b: unknown) => JSON.stringify(canon(a)) === JSON.stringify(canon(b));
function canon(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canon((v as Obj)[k])]),
    );
  return v;
}
const isObj = (v: unknown): v is Obj => !!v && typeof v === "object" && !Array.isArray(v);

function mergeKey(list: unknown[]): string | undefined {
  if (list.length === 0 || !list.every(isObj)) return undefined;
  return MERGE_KEYS.find((k) => list.every((i) => (i as Obj)[k] !== undefined));
}

/** Leaf field paths of an applied object (segments `f:<key>` / `k:{"<key>":<v>}`). */
function leaves(v: unknown, prefix: string[], out: FieldSet): void {
  if (isObj(v) && Object.keys(v).length) {
    for (const [k, c] of Object.entries(v)) leaves(c, [...prefix, `f:${k}`], out);
    return;
  }
  if (Array.isArray(v)) {
    const key = mergeKey(v);
    if (key) {
      for (const item of v as Obj[]) {
        const seg = `k:${JSON.stringify({ [key]: item[key] })}`;
        out.add([...prefix, seg].join(SEP));
        for (const [k, c] of Object.entries(item)) leaves(c, [...prefix, seg, `f:${k}`], out);
      }
      return;
    }
  }
  out.add(prefix.join(SEP));
}

export function objectLeaves(o: Obj): FieldSet {
  const body = clone(o);
  delete body.apiVersion;
  delete body.kind;
  delete body.status;
  if (body.metadata) {
    for (const k of ["name", "namespace", "resourceVersion", "uid", "generation", "creationTimestamp", "managedFields"]) delete body.metadata[k];
    if (!Object.keys(body.metadata).length) delete body.metadata;
  }
  const out: FieldSet = new Set();
  for (const [k, c] of Object.entries(body)) leaves(c, [`f:${k}`], out);
  return out;
}

function step(v: unknown, seg: string): unknown {
  if (seg.startsWith("f:")) return isObj(v) ? v[seg.slice(2)] : undefined;
  const kv = JSON.parse(seg.slice(2)) as Obj;
  const [k, val] = Object.entries(kv)[0]!;
  return Array.isArray(v) ? v.find((i) => isObj(i) && deepEqual(i[k], val)) : undefined;
}

export function valueAt(o: unknown, p: string): unknown {
  let v = o;
  for (const seg of p.split(SEP)) {
    v = step(v, seg);
    if (v === undefined) return undefined;
  }
  return v;
}

export function pretty(p: string): string {
  return p
    .split(SEP)
    .map((s) =>
      s.startsWith("f:")
        ? `.${s.slice(2)}`
        : `[${Object.entries(JSON.parse(s.slice(2)))
            .map(([k, v]) => `${k}=${typeof v === "string" ? `"${v}"` : v}`)
            .join(",")}]`,
    )
    .join("");
}

export function deleteAt(o: Obj, p: string): void {
  const segs = p.split(SEP);
  const chain: unknown[] = [o];
  for (const s of segs.slice(0, -1)) {
    const n = step(chain[chain.length - 1], s);
    if (n === undefined) return;
    chain.push(n);
  }
  const remove = (parent: unknown, seg: string) => {
    if (seg.startsWith("f:") && isObj(parent)) delete parent[seg.slice(2)];
    else if (Array.isArray(parent)) {
      const item = step(parent, seg);
      const i = parent.indexOf(item);
      if (i >= 0) parent.splice(i, 1);
    }
  };
  remove(chain[chain.length - 1], segs[segs.length - 1]!);
  // Remove containers that became empty because of this removal.
  for (let i = chain.length - 1; i >= 1; i--) {
    const c = chain[i];
    const seg = segs[i - 1]!;
    const empty = isObj(c) ? Object.keys(c).length === 0 || (seg.startsWith("k:") && Object.keys(c).length === 1) : Array.isArray(c) && c.length === 0;
    if (!empty) break;
    remove(chain[i - 1], seg);
  }
}

export function merge(live: unknown, applied: unknown): unknown {
  if (isObj(live) && isObj(applied)) {
    const out: Obj = { ...live };
    for (const [k, v] of Object.entries(applied)) out[k] = merge(live[k], v);
    return out;
  }
  if (Array.isArray(live) && Array.isArray(applied)) {
    const key = mergeKey(applied);
    if (key && mergeKey(live) === key) {
      const out: unknown[] = applied.map((a) =>
        merge(
          (live as Obj[]).find((l) => deepEqual(l[key], (a as Obj)[key])),
          a,
        ),
      );
      for (const l of live as Obj[]) if (!(applied as Obj[]).some((a) => deepEqual(a[key], l[key]))) out.push(l);
      return out;
    }
  }
  return clone(applied);
}

export function fieldsV1(fields: FieldSet): Obj {
  const root: Obj = {};
  for (const p of fields) {
    let n = root;
    for (const seg of p.split(SEP)) n = n[seg] ??= {};
    n["."] = {};
  }
  const strip = (n: Obj): Obj => {
    const keys = Object.keys(n);
    if (keys.length > 1 && n["."]) delete n["."];
    for (const k of Object.keys(n)) if (k !== ".") strip(n[k]);
    return n;
  };
  return strip(root);
}

export function stripMeta(o: Obj): Obj {
  const c = clone(o);
  for (const k of ["resourceVersion", "generation", "managedFields", "creationTimestamp", "uid"]) delete c.metadata?.[k];
  delete c.status;
  return c;
}
