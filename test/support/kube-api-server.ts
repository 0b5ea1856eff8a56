/**
 * An in-memory Kubernetes API server for tests: plain HTTP on 127.0.0.1 (random port).
 *
 * It implements what `@kubernetes/client-node` and `kubectl apply --server-side` use: discovery,
 * get, list (label selectors), create, replace (resourceVersion preconditions), delete (optionally
 * delayed), server-side apply with managedFields per field manager, conflicts (409 with the real
 * Status shape) and force, dryRun=All, namespace existence checks, a little defaulting and validation,
 * CRDs that extend discovery. Tests steer it: set status, mark rollouts complete, inject faults
 * (status codes, latency, dropped connections), observe requests.
 *
 * This file is the server (HTTP, routing, discovery, faults and the test controls); the storage
 * and server-side apply are in kube-api/store.ts, managed-field sets in kube-api/fields.ts, and
 * defaulting, validation and ready status in kube-api/objects.ts.
 */
import * as http from "node:http";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { KubeConfig } from "@kubernetes/client-node";
import type { Obj } from "./kube-api/fields.js";
import { HttpErr } from "./kube-api/objects.js";
import { ObjectStore, type ServerOptions } from "./kube-api/store.js";

export type { ServerOptions } from "./kube-api/store.js";

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

export class TestKubeApiServer {
  readonly options: ServerOptions;
  private server!: http.Server;
  private readonly store: ObjectStore;
  private faults: Array<Fault & { used: number }> = [];
  private hooks: Array<(r: RequestInfo, res: http.ServerResponse) => void | Promise<void>> = [];
  private readonly sockets = new Set<import("node:net").Socket>();

  /** Every request received, in order. */
  readonly requests: RequestInfo[] = [];

  url = "";
  kubeconfigPath = "";
  private tmpdir = "";

  private constructor(options: ServerOptions) {
    this.options = options;
    this.store = new ObjectStore(options);
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
    return this.store.whenStored(kind, namespace, name, test);
  }

  /** Called for every request before it is handled (after it is recorded). */
  onRequest(fn: (r: RequestInfo, res: http.ServerResponse) => void | Promise<void>): () => void {
    this.hooks.push(fn);
    return () => {
      this.hooks = this.hooks.filter((h) => h !== fn);
    };
  }

  /** Read an object directly (no HTTP). */
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Obj | undefined {
    return this.store.get(apiVersion, kind, namespace, name);
  }

  /** All objects (optionally of one kind). */
  list(kind?: string): Obj[] {
    return this.store.list(kind);
  }

  /** Store an object as is (no field manager), e.g. to seed state. */
  put(o: Obj): Obj {
    return this.store.put(o);
  }

  /** Replace an object's status (bumps resourceVersion). */
  setStatus(apiVersion: string, kind: string, namespace: string | undefined, name: string, status: Obj): void {
    this.store.setStatus(apiVersion, kind, namespace, name, status);
  }

  /** Report a workload as fully rolled out / complete / bound. */
  markReady(kind: string, namespace: string | undefined, name: string): void {
    this.store.markReady(kind, namespace, name);
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
          throw new HttpErr(
            f.status,
            f.status === 429 ? "TooManyRequests" : f.status === 422 ? "Invalid" : "InternalError",
            f.message ?? `injected fault ${f.status}`,
          );
        }
      }
      const out = this.route(info, bodyText);
      this.send(res, out.code, out.body);
    } catch (e) {
      if (res.destroyed) return;
      if (e instanceof HttpErr) {
        this.send(res, e.code, {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message: e.message,
          reason: e.reason,
          details: e.details,
          code: e.code,
        });
      } else {
        this.send(res, 500, {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message: String((e as Error)?.stack ?? e),
          reason: "InternalError",
          code: 500,
        });
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
    if (segs[0] === "apis" && segs.length === 1) return { code: 200, body: this.store.groupList() };
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
        const g = this.store.groupList().groups.find((x: Obj) => x.name === group);
        if (!g) throw new HttpErr(404, "NotFound", "the server could not find the requested resource");
        return { code: 200, body: { kind: "APIGroup", apiVersion: "v1", ...g } };
      }
      version = segs[2]!;
      rest = segs.slice(3);
    } else throw new HttpErr(404, "NotFound", "the server could not find the requested resource");
    const defs = this.store.resources(group, version);
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
        if (name) return { code: 200, body: this.store.read(def, ns, name) };
        return { code: 200, body: this.store.doList(def, ns, r.query.get("labelSelector") ?? "") };
      case "POST":
        return { code: 201, body: this.store.create(def, ns, this.parse(bodyText), manager ?? "unknown", dryRun) };
      case "PUT":
        return { code: 200, body: this.store.replace(def, ns, name!, this.parse(bodyText), manager ?? "unknown", dryRun) };
      case "PATCH": {
        if (!r.contentType.startsWith("application/apply-patch"))
          throw new HttpErr(415, "UnsupportedMediaType", `the test server only supports server-side apply patches, not ${r.contentType}`);
        if (!manager) throw new HttpErr(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
        return this.store.ssa(def, ns, name!, this.parse(bodyText), manager, r.query.get("force") === "true", dryRun);
      }
      case "DELETE":
        return { code: 200, body: this.store.remove(def, ns, name!, dryRun) };
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
}
