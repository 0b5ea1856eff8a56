/**
 * An in-memory Kubernetes API server for tests: plain HTTP on 127.0.0.1 (random port).
 *
 * Size: over 400 lines because it models one API server (routing, storage, server-side apply
 * with managed fields, validation, faults) whose parts share its state; splitting it by
 * concern is pending.
 *
 * It implements what `@kubernetes/client-node` and `kubectl apply --server-side` use: discovery,
 * get, list (label selectors), create, replace (resourceVersion preconditions), delete (optionally
 * delayed), server-side apply with managedFields per field manager, conflicts (409 with the real
 * Status shape) and force, dryRun=All, namespace existence checks, a little defaulting and validation,
 * CRDs that extend discovery. Tests steer it: set status, mark rollouts complete, inject faults
 * (status codes, latency, dropped connections), observe requests.
 */
import * as http from "node:http";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { KubeConfig } from "@kubernetes/client-node";

type Obj = Record<string, any>;

export interface ResourceDef {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

const BUILTIN: Array<[string, string, Array<[string, string, boolean]>]> = [
  ["", "v1", [
    ["Namespace", "namespaces", false], ["ConfigMap", "configmaps", true], ["Secret", "secrets", true],
    ["Service", "services", true], ["ServiceAccount", "serviceaccounts", true],
    ["PersistentVolumeClaim", "persistentvolumeclaims", true], ["PersistentVolume", "persistentvolumes", false],
    ["Pod", "pods", true], ["Event", "events", true], ["ResourceQuota", "resourcequotas", true], ["LimitRange", "limitranges", true],
  ]],
  ["apps", "v1", [["Deployment", "deployments", true], ["StatefulSet", "statefulsets", true], ["DaemonSet", "daemonsets", true], ["ReplicaSet", "replicasets", true]]],
  ["batch", "v1", [["Job", "jobs", true], ["CronJob", "cronjobs", true]]],
  ["networking.k8s.io", "v1", [["Ingress", "ingresses", true], ["NetworkPolicy", "networkpolicies", true], ["IngressClass", "ingressclasses", false]]],
  ["autoscaling", "v2", [["HorizontalPodAutoscaler", "horizontalpodautoscalers", true]]],
  ["policy", "v1", [["PodDisruptionBudget", "poddisruptionbudgets", true]]],
  ["rbac.authorization.k8s.io", "v1", [["Role", "roles", true], ["RoleBinding", "rolebindings", true], ["ClusterRole", "clusterroles", false], ["ClusterRoleBinding", "clusterrolebindings", false]]],
  ["coordination.k8s.io", "v1", [["Lease", "leases", true]]],
  ["storage.k8s.io", "v1", [["StorageClass", "storageclasses", false]]],
  ["admissionregistration.k8s.io", "v1", [["MutatingWebhookConfiguration", "mutatingwebhookconfigurations", false], ["ValidatingWebhookConfiguration", "validatingwebhookconfigurations", false]]],
  ["apiextensions.k8s.io", "v1", [["CustomResourceDefinition", "customresourcedefinitions", false]]],
  ["gateway.networking.k8s.io", "v1", [["Gateway", "gateways", true], ["HTTPRoute", "httproutes", true], ["GRPCRoute", "grpcroutes", true], ["GatewayClass", "gatewayclasses", false]]],
  ["external-secrets.io", "v1beta1", [["ExternalSecret", "externalsecrets", true], ["SecretStore", "secretstores", true], ["ClusterSecretStore", "clustersecretstores", false]]],
];

export interface Fault {
  method?: string;
  /** Substring of the request path. */
  path?: string | RegExp;
  /** Answer with this status (and a Status body) instead of handling the request. */
  status?: number;
  /** Delay before handling (or before the fault answer). */
  latencyMs?: number;
  /** Destroy the connection without answering. */
  drop?: boolean;
  /** How many matching requests are affected (default: all). */
  times?: number;
  /** Retry-After header on fault answers. */
  retryAfter?: number;
  /** Message of the Status body on fault answers. */
  message?: string;
  /** Hold the request until this promise settles (see {@link TestKubeApiServer.gate}). */
  until?: Promise<unknown>;
  /** Called when a request matches, before it is held or answered. */
  onMatch?: (r: RequestInfo) => void;
}

/** A request held by the server until the test releases it. */
export interface Gate {
  /** Settles when the first matching request has arrived (and is being held). */
  reached: Promise<RequestInfo>;
  /** Lets every held (and later) matching request through. */
  release(): void;
}

export interface RequestInfo {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string;
}

export interface ServerOptions {
  /** Every workload is immediately reported ready (rollout complete, Job complete, PVC bound). */
  autoReady?: boolean;
  /** Deletes set deletionTimestamp and take effect after this many ms (not for Leases and Events); `Infinity`: never. */
  deleteDelayMs?: number;
  /** CRDs become Established after this many ms (default 0: at once); `Infinity`: only by {@link TestKubeApiServer.setStatus}. */
  crdEstablishDelayMs?: number;
}

type FieldSet = Set<string>;
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

const SEP = "\u0000";
const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MERGE_KEYS = ["name", "containerPort", "port", "mountPath", "devicePath", "ip", "topologyKey"];

class HttpErr extends Error {
  constructor(readonly code: number, readonly reason: string, message: string, readonly details?: Obj) {
    super(message);
  }
}

const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));
const deepEqual = (a: unknown, b: unknown) => JSON.stringify(canon(a)) === JSON.stringify(canon(b));
function canon(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Obj)[k])]));
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

function objectLeaves(o: Obj): FieldSet {
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

function valueAt(o: unknown, p: string): unknown {
  let v = o;
  for (const seg of p.split(SEP)) {
    v = step(v, seg);
    if (v === undefined) return undefined;
  }
  return v;
}

function pretty(p: string): string {
  return p
    .split(SEP)
    .map((s) => (s.startsWith("f:") ? `.${s.slice(2)}` : `[${Object.entries(JSON.parse(s.slice(2)))
      .map(([k, v]) => `${k}=${typeof v === "string" ? `"${v}"` : v}`)
      .join(",")}]`))
    .join("");
}

function deleteAt(o: Obj, p: string): void {
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

function merge(live: unknown, applied: unknown): unknown {
  if (isObj(live) && isObj(applied)) {
    const out: Obj = { ...live };
    for (const [k, v] of Object.entries(applied)) out[k] = merge(live[k], v);
    return out;
  }
  if (Array.isArray(live) && Array.isArray(applied)) {
    const key = mergeKey(applied);
    if (key && mergeKey(live) === key) {
      const out: unknown[] = applied.map((a) => merge((live as Obj[]).find((l) => deepEqual(l[key], (a as Obj)[key])), a));
      for (const l of live as Obj[]) if (!(applied as Obj[]).some((a) => deepEqual(a[key], l[key]))) out.push(l);
      return out;
    }
  }
  return clone(applied);
}

function fieldsV1(fields: FieldSet): Obj {
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

function matchSelector(labels: Record<string, string>, selector: string): boolean {
  if (!selector.trim()) return true;
  const parts = selector.match(/([^,(]+(\([^)]*\))?)/g) ?? [];
  return parts.every((raw) => {
    const s = raw.trim();
    const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(s);
    if (set) {
      const vals = set[3]!.split(",").map((x) => x.trim());
      return set[2] === "in" ? vals.includes(labels[set[1]!] ?? "\u0001") : !vals.includes(labels[set[1]!] ?? "\u0001");
    }
    const ne = /^([^!=]+)!=(.*)$/.exec(s);
    if (ne) return labels[ne[1]!.trim()] !== ne[2]!.trim();
    const eq = /^([^=]+)==?(.*)$/.exec(s);
    if (eq) return labels[eq[1]!.trim()] === eq[2]!.trim();
    if (s.startsWith("!")) return !(s.slice(1) in labels);
    return s in labels;
  });
}

function defaults(o: Obj): void {
  const kind = o.kind;
  const podSpec = (ps: Obj | undefined) => {
    if (!ps) return;
    ps.restartPolicy ??= "Always";
    ps.dnsPolicy ??= "ClusterFirst";
    ps.terminationGracePeriodSeconds ??= 30;
    ps.schedulerName ??= "default-scheduler";
    ps.securityContext ??= {};
    for (const c of [...(ps.containers ?? []), ...(ps.initContainers ?? [])]) {
      c.imagePullPolicy ??= String(c.image ?? "").endsWith(":latest") ? "Always" : "IfNotPresent";
      c.terminationMessagePath ??= "/dev/termination-log";
      c.terminationMessagePolicy ??= "File";
      c.resources ??= {};
      for (const p of c.ports ?? []) p.protocol ??= "TCP";
    }
  };
  if (kind === "Deployment") {
    o.spec ??= {};
    const s = o.spec;
    s.replicas ??= 1;
    s.revisionHistoryLimit ??= 10;
    s.progressDeadlineSeconds ??= 600;
    s.strategy ??= { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } };
    podSpec(s.template?.spec);
  } else if (kind === "StatefulSet" || kind === "DaemonSet" || kind === "ReplicaSet") {
    o.spec ??= {};
    const s = o.spec;
    if (kind !== "DaemonSet") s.replicas ??= 1;
    s.revisionHistoryLimit ??= 10;
    podSpec(s.template?.spec);
  } else if (kind === "Job") {
    o.spec ??= {};
    const s = o.spec;
    s.backoffLimit ??= 6;
    s.completions ??= 1;
    s.parallelism ??= 1;
    podSpec(s.template?.spec);
  } else if (kind === "Service") {
    o.spec ??= {};
    const s = o.spec;
    s.type ??= "ClusterIP";
    s.sessionAffinity ??= "None";
    s.clusterIP ??= `10.96.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    s.clusterIPs ??= [s.clusterIP];
    for (const p of s.ports ?? []) {
      p.protocol ??= "TCP";
      p.targetPort ??= p.port;
    }
  } else if (kind === "Secret") {
    o.type ??= "Opaque";
  } else if (kind === "Pod") {
    podSpec(o.spec);
  }
}

function validate(o: Obj, def: ResourceDef): void {
  const causes: Obj[] = [];
  const name = o.metadata?.name;
  if (!name) causes.push({ type: "FieldValueRequired", field: "metadata.name", message: "Required value: name or generateName is required" });
  else if (name.length > 253 || !DNS1123.test(name))
    causes.push({ type: "FieldValueInvalid", field: "metadata.name", message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'` });
  for (const [k, v] of Object.entries(o.metadata?.labels ?? {})) {
    if (typeof v !== "string" || v.length > 63) causes.push({ type: "FieldValueInvalid", field: `metadata.labels.${k}`, message: "Invalid value: must be a string of at most 63 characters" });
  }
  if (def.kind === "Deployment" || def.kind === "StatefulSet" || def.kind === "DaemonSet") {
    if (!o.spec?.selector) causes.push({ type: "FieldValueRequired", field: "spec.selector", message: "Required value" });
    const cs = o.spec?.template?.spec?.containers;
    if (!Array.isArray(cs) || cs.length === 0) causes.push({ type: "FieldValueRequired", field: "spec.template.spec.containers", message: "Required value" });
    for (const [i, c] of (Array.isArray(cs) ? cs : []).entries()) {
      if (!c.image) causes.push({ type: "FieldValueRequired", field: `spec.template.spec.containers[${i}].image`, message: "Required value" });
    }
    if (o.spec?.replicas !== undefined && (typeof o.spec.replicas !== "number" || o.spec.replicas < 0))
      causes.push({ type: "FieldValueInvalid", field: "spec.replicas", message: `Invalid value: ${JSON.stringify(o.spec.replicas)}: must be greater than or equal to 0` });
  }
  if (def.kind === "Service") {
    for (const [i, p] of (o.spec?.ports ?? []).entries()) {
      if (typeof p.port !== "number" || p.port < 1 || p.port > 65535) causes.push({ type: "FieldValueInvalid", field: `spec.ports[${i}].port`, message: "Invalid value: must be between 1 and 65535, inclusive" });
    }
  }
  if (causes.length) {
    const group = def.group ? `${def.kind}.${def.group}` : def.kind;
    throw new HttpErr(422, "Invalid", `${group} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(", ")}`, {
      name,
      group: def.group,
      kind: def.kind,
      causes,
    });
  }
}

export class TestKubeApiServer {
  readonly options: ServerOptions;
  private server!: http.Server;
  private readonly defs: ResourceDef[] = [];
  private readonly store = new Map<string, Stored>();
  private rv = 1000;
  private faults: Array<Fault & { used: number }> = [];
  private hooks: Array<(r: RequestInfo, res: http.ServerResponse) => void | Promise<void>> = [];
  private readonly sockets = new Set<import("node:net").Socket>();
  private storeWaiters: Array<{ kind: string; namespace: string | undefined; name: string; test: (o: Obj) => boolean; resolve: (o: Obj) => void }> = [];
  /** Every request received, in order. */
  readonly requests: RequestInfo[] = [];
  url = "";
  kubeconfigPath = "";
  private tmpdir = "";

  private constructor(options: ServerOptions) {
    this.options = options;
    for (const [group, version, kinds] of BUILTIN) for (const [kind, plural, namespaced] of kinds) this.defs.push({ group, version, kind, plural, namespaced });
  }

  static async start(options: ServerOptions = {}): Promise<TestKubeApiServer> {
    const s = new TestKubeApiServer(options);
    s.server = http.createServer((req, res) => void s.handle(req, res));
    s.server.keepAliveTimeout = 5000;
    s.server.on("connection", (sock) => {
      s.sockets.add(sock);
      sock.on("close", () => s.sockets.delete(sock));
    });
    await new Promise<void>((r) => s.server.listen(0, "127.0.0.1", r));
    const port = (s.server.address() as AddressInfo).port;
    s.url = `http://127.0.0.1:${port}`;
    s.tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), "opm-kube-"));
    s.kubeconfigPath = path.join(s.tmpdir, "kubeconfig");
    fs.writeFileSync(s.kubeconfigPath, s.kubeconfigYaml());
    for (const ns of ["default", "kube-system"]) s.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    return s;
  }

  async stop(): Promise<void> {
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
    fs.rmSync(this.tmpdir, { recursive: true, force: true });
  }

  /** A kubeconfig (YAML) whose current context `test` points at this server. */
  kubeconfigYaml(context = "test", namespace = "default"): string {
    return [
      "apiVersion: v1",
      "kind: Config",
      `current-context: ${context}`,
      "clusters:",
      `- name: ${context}`,
      "  cluster:",
      `    server: ${this.url}`,
      "    insecure-skip-tls-verify: true",
      "contexts:",
      `- name: ${context}`,
      "  context:",
      `    cluster: ${context}`,
      `    user: ${context}`,
      `    namespace: ${namespace}`,
      "users:",
      `- name: ${context}`,
      "  user:",
      "    token: test-token",
      "",
    ].join("\n");
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromString(this.kubeconfigYaml());
    return kc;
  }

  // ─────────────── test controls ───────────────

  /** Inject a fault; returns a function removing it. */
  fault(f: Fault): () => void {
    const entry = { ...f, used: 0 };
    this.faults.push(entry);
    return () => {
      this.faults = this.faults.filter((x) => x !== entry);
    };
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Hold matching requests until `release()` is called: tests order events without timers. */
  gate(f: Omit<Fault, "until" | "onMatch">): Gate {
    let release!: () => void;
    const until = new Promise<void>((r) => (release = r));
    let arrived!: (r: RequestInfo) => void;
    const reached = new Promise<RequestInfo>((r) => (arrived = r));
    this.fault({ ...f, until, onMatch: arrived });
    return { reached, release };
  }

  /** Settles with the object once it is stored (created or updated, not by a dry run) and matches `test`. */
  whenStored(kind: string, namespace: string | undefined, name: string, test: (o: Obj) => boolean = () => true): Promise<Obj> {
    return new Promise((resolve) => this.storeWaiters.push({ kind, namespace, name, test, resolve }));
  }

  /** Called for every request before it is handled (after it is recorded). */
  onRequest(fn: (r: RequestInfo, res: http.ServerResponse) => void | Promise<void>): () => void {
    this.hooks.push(fn);
    return () => {
      this.hooks = this.hooks.filter((h) => h !== fn);
    };
  }

  private defFor(apiVersion: string, kind: string): ResourceDef | undefined {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    return this.defs.find((d) => d.group === group && d.version === version && d.kind === kind);
  }

  private key(def: ResourceDef, ns: string | undefined, name: string): string {
    return `${def.group}/${def.plural}/${def.namespaced ? ns ?? "" : ""}/${name}`;
  }

  /** Read an object directly (no HTTP). */
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Obj | undefined {
    const def = this.defFor(apiVersion, kind);
    if (!def) return undefined;
    const s = this.store.get(this.key(def, namespace, name));
    return s ? this.render(s) : undefined;
  }

  /** All objects (optionally of one kind). */
  list(kind?: string): Obj[] {
    return [...this.store.values()].filter((s) => !kind || s.obj.kind === kind).map((s) => this.render(s));
  }

  /** Store an object as is (no field manager), e.g. to seed state. */
  put(o: Obj): Obj {
    const def = this.defFor(o.apiVersion, o.kind);
    if (!def) throw new Error(`unknown kind ${o.apiVersion} ${o.kind}`);
    const obj = clone(o);
    this.stamp(obj, undefined);
    defaults(obj);
    this.statusFor(obj);
    this.store.set(this.key(def, obj.metadata.namespace, obj.metadata.name), { obj, managed: [] });
    return obj;
  }

  /** Replace an object's status (bumps resourceVersion). */
  setStatus(apiVersion: string, kind: string, namespace: string | undefined, name: string, status: Obj): void {
    const def = this.defFor(apiVersion, kind);
    const s = def && this.store.get(this.key(def, namespace, name));
    if (!s) throw new Error(`no ${kind} ${namespace}/${name}`);
    s.obj.status = clone(status);
    s.obj.metadata.resourceVersion = String(++this.rv);
  }

  /** Report a workload as fully rolled out / complete / bound. */
  markReady(kind: string, namespace: string | undefined, name: string): void {
    const s = [...this.store.values()].find((x) => x.obj.kind === kind && x.obj.metadata.name === name && (x.obj.metadata.namespace ?? undefined) === namespace);
    if (!s) throw new Error(`no ${kind} ${namespace}/${name}`);
    s.obj.status = readyStatus(s.obj);
    s.obj.metadata.resourceVersion = String(++this.rv);
  }

  /** Record an Event about an object. */
  addEvent(namespace: string, involved: { kind: string; name: string }, type: string, reason: string, message: string): void {
    this.put({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `${involved.name}.${randomUUID().slice(0, 8)}`, namespace },
      involvedObject: { ...involved, namespace },
      type,
      reason,
      message,
    });
  }

  /** Destroy all open connections (a server "crash" from the client's point of view). */
  dropConnections(): void {
    for (const sock of this.sockets) sock.destroy();
  }

  // ─────────────── HTTP ───────────────

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const u = new URL(req.url ?? "/", "http://x");
    const info: RequestInfo = { method: req.method ?? "GET", path: u.pathname, query: u.searchParams, contentType: String(req.headers["content-type"] ?? "") };
    this.requests.push(info);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const bodyText = Buffer.concat(chunks).toString("utf8");
    try {
      for (const h of this.hooks) await h(info, res);
      if (res.destroyed || res.writableEnded) return;
      for (const f of this.faults) {
        if (f.method && f.method !== info.method) continue;
        if (f.path && !(typeof f.path === "string" ? info.path.includes(f.path) : f.path.test(info.path))) continue;
        if (f.times !== undefined && f.used >= f.times) continue;
        f.used++;
        f.onMatch?.(info);
        if (f.until) await f.until;
        if (f.latencyMs) await new Promise((r) => setTimeout(r, f.latencyMs));
        if (f.drop) {
          req.socket.destroy();
          return;
        }
        if (f.status) {
          if (f.retryAfter !== undefined) res.setHeader("Retry-After", String(f.retryAfter));
          throw new HttpErr(f.status, f.status === 429 ? "TooManyRequests" : f.status === 422 ? "Invalid" : "InternalError", f.message ?? `injected fault ${f.status}`);
        }
      }
      const out = this.route(info, bodyText);
      this.send(res, out.code, out.body);
    } catch (e) {
      if (res.destroyed) return;
      if (e instanceof HttpErr) {
        this.send(res, e.code, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: e.message, reason: e.reason, details: e.details, code: e.code });
      } else {
        this.send(res, 500, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: String((e as Error)?.stack ?? e), reason: "InternalError", code: 500 });
      }
    }
  }

  private send(res: http.ServerResponse, code: number, body: unknown): void {
    if (res.destroyed || res.writableEnded) return;
    const text = JSON.stringify(body);
    res.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
    res.end(text);
  }

  private route(r: RequestInfo, bodyText: string): { code: number; body: unknown } {
    const segs = r.path.split("/").filter(Boolean);
    if (r.path === "/version") return { code: 200, body: { major: "1", minor: "31", gitVersion: "v1.31.0-opm-test" } };
    if (segs[0] === "api" && segs.length === 1) return { code: 200, body: { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] } };
    if (segs[0] === "apis" && segs.length === 1) return { code: 200, body: this.groupList() };
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === "api") {
      group = "";
      version = segs[1]!;
      rest = segs.slice(2);
    } else if (segs[0] === "apis") {
      group = segs[1]!;
      if (segs.length === 2) {
        const g = this.groupList().groups.find((x: Obj) => x.name === group);
        if (!g) throw new HttpErr(404, "NotFound", "the server could not find the requested resource");
        return { code: 200, body: { kind: "APIGroup", apiVersion: "v1", ...g } };
      }
      version = segs[2]!;
      rest = segs.slice(3);
    } else throw new HttpErr(404, "NotFound", "the server could not find the requested resource");
    const defs = this.defs.filter((d) => d.group === group && d.version === version);
    if (!defs.length) throw new HttpErr(404, "NotFound", "the server could not find the requested resource");
    if (rest.length === 0) {
      return {
        code: 200,
        body: {
          kind: "APIResourceList",
          apiVersion: "v1",
          groupVersion: group ? `${group}/${version}` : version,
          resources: defs.map((d) => ({
            name: d.plural,
            singularName: d.kind.toLowerCase(),
            namespaced: d.namespaced,
            kind: d.kind,
            verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
          })),
        },
      };
    }
    let ns: string | undefined;
    if (rest[0] === "namespaces" && rest.length >= 3) {
      ns = rest[1];
      rest = rest.slice(2);
    }
    const def = defs.find((d) => d.plural === rest[0]);
    if (!def) throw new HttpErr(404, "NotFound", "the server could not find the requested resource");
    const name = rest[1] ? decodeURIComponent(rest[1]) : undefined;
    if (rest.length > 2) throw new HttpErr(404, "NotFound", "subresources are not supported by the test server");
    const dryRun = r.query.get("dryRun") === "All";
    const manager = r.query.get("fieldManager") ?? undefined;
    switch (r.method) {
      case "GET":
        if (name) return { code: 200, body: this.read(def, ns, name) };
        return { code: 200, body: this.doList(def, ns, r.query.get("labelSelector") ?? "") };
      case "POST":
        return { code: 201, body: this.create(def, ns, this.parse(bodyText), manager ?? "unknown", dryRun) };
      case "PUT":
        return { code: 200, body: this.replace(def, ns, name!, this.parse(bodyText), manager ?? "unknown", dryRun) };
      case "PATCH": {
        if (!r.contentType.startsWith("application/apply-patch")) throw new HttpErr(415, "UnsupportedMediaType", `the test server only supports server-side apply patches, not ${r.contentType}`);
        if (!manager) throw new HttpErr(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch");
        return this.ssa(def, ns, name!, this.parse(bodyText), manager, r.query.get("force") === "true", dryRun);
      }
      case "DELETE":
        return { code: 200, body: this.remove(def, ns, name!, dryRun) };
      default:
        throw new HttpErr(405, "MethodNotAllowed", `method ${r.method} not allowed`);
    }
  }

  private parse(text: string): Obj {
    try {
      return JSON.parse(text);
    } catch {
      try {
        return parseYaml(text) as Obj;
      } catch (e) {
        throw new HttpErr(400, "BadRequest", `cannot parse body: ${(e as Error).message}`);
      }
    }
  }

  private groupList(): Obj {
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

  private read(def: ResourceDef, ns: string | undefined, name: string): Obj {
    const s = this.store.get(this.key(def, ns, name));
    if (!s) throw new HttpErr(404, "NotFound", `${def.plural}${def.group ? `.${def.group}` : ""} "${name}" not found`, { name, group: def.group, kind: def.plural });
    return this.render(s);
  }

  private doList(def: ResourceDef, ns: string | undefined, selector: string): Obj {
    const items = [...this.store.values()]
      .filter((s) => s.obj.kind === def.kind && (s.obj.apiVersion.split("/")[0] === (def.group || s.obj.apiVersion.split("/")[0])))
      .filter((s) => !ns || s.obj.metadata.namespace === ns)
      .filter((s) => matchSelector(s.obj.metadata.labels ?? {}, selector))
      .map((s) => {
        const o = this.render(s);
        delete o.apiVersion;
        delete o.kind;
        return o;
      });
    return { kind: `${def.kind}List`, apiVersion: def.group ? `${def.group}/${def.version}` : def.version, metadata: { resourceVersion: String(this.rv) }, items };
  }

  private checkTarget(def: ResourceDef, ns: string | undefined, name: string | undefined, body: Obj): void {
    const gv = def.group ? `${def.group}/${def.version}` : def.version;
    if (body.apiVersion !== gv || body.kind !== def.kind) {
      throw new HttpErr(400, "BadRequest", `the API version in the data (${body.apiVersion}) and kind (${body.kind}) do not match the request (${gv} ${def.kind})`);
    }
    body.metadata ??= {};
    if (name !== undefined && body.metadata.name !== undefined && body.metadata.name !== name) {
      throw new HttpErr(400, "BadRequest", `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (name !== undefined) body.metadata.name ??= name;
    if (def.namespaced) {
      if (body.metadata.namespace && ns && body.metadata.namespace !== ns) throw new HttpErr(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
      body.metadata.namespace = ns;
      const nsDef = this.defFor("v1", "Namespace")!;
      const nsObj = this.store.get(this.key(nsDef, undefined, ns!));
      if (!nsObj) throw new HttpErr(404, "NotFound", `namespaces "${ns}" not found`, { name: ns, kind: "namespaces" });
      if (nsObj.obj.metadata.deletionTimestamp) throw new HttpErr(403, "Forbidden", `unable to create new content in namespace ${ns} because it is being terminated`);
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
      o.status = prev?.status ?? { conditions: [{ type: "NamesAccepted", status: "True", reason: "NoConflicts" }, { type: "Established", status: delay ? "False" : "True", reason: delay ? "Installing" : "InitialNamesAccepted" }], acceptedNames: o.spec?.names };
      if (delay && delay !== Infinity && !prev) {
        const name = o.metadata.name;
        setTimeout(() => {
          const def = this.defFor("apiextensions.k8s.io/v1", "CustomResourceDefinition")!;
          const s = this.store.get(this.key(def, undefined, name));
          if (s) s.obj.status.conditions[1] = { type: "Established", status: "True", reason: "InitialNamesAccepted" };
        }, delay).unref();
      }
    } else if (this.options.autoReady) {
      const st = readyStatus(o);
      if (st) o.status = st;
      else delete o.status;
    }
    else if (prev?.status) o.status = prev.status;
    else if (["Deployment", "StatefulSet", "DaemonSet", "Job", "PersistentVolumeClaim"].includes(o.kind)) o.status = o.kind === "PersistentVolumeClaim" ? { phase: "Pending" } : {};
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
    this.store.set(k, { obj, managed });
    this.crdHook(obj);
    const out = this.render({ obj, managed });
    for (const w of [...this.storeWaiters]) {
      if (w.kind !== obj.kind || w.name !== obj.metadata.name || w.namespace !== obj.metadata.namespace || !w.test(out)) continue;
      this.storeWaiters = this.storeWaiters.filter((x) => x !== w);
      w.resolve(out);
    }
    return out;
  }

  private create(def: ResourceDef, ns: string | undefined, body: Obj, manager: string, dryRun: boolean): Obj {
    this.checkTarget(def, ns, undefined, body);
    validate(body, def);
    const k = this.key(def, body.metadata.namespace, body.metadata.name);
    if (this.store.has(k)) throw new HttpErr(409, "AlreadyExists", `${def.plural}${def.group ? `.${def.group}` : ""} "${body.metadata.name}" already exists`, { name: body.metadata.name, kind: def.plural });
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

  private replace(def: ResourceDef, ns: string | undefined, name: string, body: Obj, manager: string, dryRun: boolean): Obj {
    this.checkTarget(def, ns, name, body);
    validate(body, def);
    const prev = this.store.get(this.key(def, body.metadata.namespace, name));
    if (!prev) throw new HttpErr(404, "NotFound", `${def.plural} "${name}" not found`, { name, kind: def.plural });
    const want = body.metadata.resourceVersion;
    if (want && want !== prev.obj.metadata.resourceVersion) {
      throw new HttpErr(409, "Conflict", `Operation cannot be fulfilled on ${def.plural}${def.group ? `.${def.group}` : ""} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, kind: def.plural });
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

  private ssa(def: ResourceDef, ns: string | undefined, name: string, body: Obj, manager: string, force: boolean, dryRun: boolean): { code: number; body: Obj } {
    this.checkTarget(def, ns, name, body);
    const prev = this.store.get(this.key(def, body.metadata.namespace, name));
    const applied = clone(body);
    delete applied.status;
    if (applied.metadata.resourceVersion && prev && applied.metadata.resourceVersion !== prev.obj.metadata.resourceVersion) {
      throw new HttpErr(409, "Conflict", `Operation cannot be fulfilled on ${def.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
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
        causes: uniq.map((c, i) => ({ type: "FieldManagerConflict", message: `conflict with "${c.manager}" using ${gv}`, field: pretty(c.path), _i: i })).map(({ _i, ...c }) => c),
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

  private remove(def: ResourceDef, ns: string | undefined, name: string, dryRun: boolean): Obj {
    const k = this.key(def, ns, name);
    const s = this.store.get(k);
    if (!s) throw new HttpErr(404, "NotFound", `${def.plural}${def.group ? `.${def.group}` : ""} "${name}" not found`, { name, kind: def.plural });
    if (dryRun) return { kind: "Status", apiVersion: "v1", status: "Success", details: { name, kind: def.plural } };
    const finish = () => {
      this.store.delete(k);
      this.crdHook(s.obj, true);
      if (def.kind === "Namespace") for (const [key, v] of this.store) if (v.obj.metadata.namespace === name) this.store.delete(key);
    };
    // Delayed deletion stands in for finalizers; Leases and Events have none.
    const delay = def.kind === "Lease" || def.kind === "Event" ? 0 : this.options.deleteDelayMs ?? 0;
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

function stripMeta(o: Obj): Obj {
  const c = clone(o);
  for (const k of ["resourceVersion", "generation", "managedFields", "creationTimestamp", "uid"]) delete c.metadata?.[k];
  delete c.status;
  return c;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

/** The status a controller reports once a workload is fully rolled out. */
export function readyStatus(o: Obj): Obj | undefined {
  const gen = o.metadata?.generation ?? 1;
  const replicas = o.spec?.replicas ?? 1;
  switch (o.kind) {
    case "Deployment":
      return {
        observedGeneration: gen,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        conditions: [
          { type: "Available", status: "True", reason: "MinimumReplicasAvailable" },
          { type: "Progressing", status: "True", reason: "NewReplicaSetAvailable" },
        ],
      };
    case "StatefulSet":
      return { observedGeneration: gen, replicas, readyReplicas: replicas, currentReplicas: replicas, updatedReplicas: replicas, currentRevision: "r1", updateRevision: "r1", availableReplicas: replicas };
    case "DaemonSet":
      return { observedGeneration: gen, desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, updatedNumberScheduled: 2, numberAvailable: 2, numberMisscheduled: 0 };
    case "Job":
      return { succeeded: 1, conditions: [{ type: "Complete", status: "True" }] };
    case "PersistentVolumeClaim":
      return { phase: "Bound" };
    default:
      return o.status;
  }
}
