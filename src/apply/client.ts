/**
 * The one place that talks HTTP to Kubernetes. Built on `@kubernetes/client-node`'s
 * `KubernetesObjectApi` (auth, TLS, discovery, URL building, request pipeline), with two changes:
 *
 * - bodies are sent and received as raw JSON. The stock `patch()` runs objects through the typed
 *   model serializer, which silently drops fields it does not know (that would make server-side
 *   apply lose data) and turns timestamps into `Date`s;
 * - every request has a timeout and is retried with exponential backoff on 429, 5xx, timeouts and
 *   dropped connections.
 */
import * as http from "node:http";
import * as https from "node:https";
import { type KubeConfig, KubernetesObjectApi, Observable, PatchStrategy } from "@kubernetes/client-node";
import type { RequestContext, ResponseContext } from "@kubernetes/client-node";
import { ApplyError } from "./errors.js";
import { loadKubeConfig, type LoadedKubeConfig } from "./kubeconfig.js";

/** Any Kubernetes object as plain JSON. */
export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    generation?: number;
    uid?: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface ConnectionOptions {
  /** Path to a kubeconfig file (like `kubectl --kubeconfig`). */
  kubeconfig?: string;
  /** Context to use instead of the kubeconfig's current context. */
  context?: string;
  /**
   * A ready kubeconfig (takes precedence over `kubeconfig`): one {@link loadKubeConfig} returned, or a
   * `KubeConfig` of `@kubernetes/client-node` you built yourself.
   */
  kubeConfig?: LoadedKubeConfig;
  /** Per-request timeout in milliseconds (default 30 000). */
  requestTimeoutMs?: number;
  /** Retries for transient failures (default 5). */
  retries?: number;
  /** First backoff delay in milliseconds (default 200, doubled each retry, capped at 5 s). */
  retryBaseMs?: number;
}

/** An HTTP error answer from the API server, with the parsed `Status` body. */
export class KubeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: KStatus | undefined,
    readonly headers: Record<string, string>,
  ) {
    super(body?.message ? `${status} ${body.reason ?? ""}: ${body.message}` : `HTTP ${status}`);
    this.name = "KubeHttpError";
  }
}

/** The `Status` object the API server returns on errors. */
export interface KStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; causes?: Array<{ type?: string; message?: string; field?: string }> };
}

interface RawResponse {
  status: number;
  body: unknown;
}

/** KubernetesObjectApi that keeps bodies as raw JSON both ways. */
class RawObjectApi extends KubernetesObjectApi {
  override async processResponse<T>(response: ResponseContext, type?: string): Promise<T> {
    const text = await response.body.text();
    let body: unknown;
    try {
      body = text.length ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) {
      // Discovery (`resource()`) asks for a typed answer; plain JSON has the same shape.
      if (type !== undefined) return body as T;
      return { status: response.httpStatusCode, body } as unknown as T;
    }
    throw new KubeHttpError(response.httpStatusCode, body as KStatus | undefined, response.headers);
  }

  async send(
    spec: { apiVersion: string; kind: string; metadata: { name?: string; namespace?: string } },
    action: "create" | "delete" | "patch" | "read" | "list" | "replace",
    method: string,
    query: Record<string, string | undefined>,
    body: unknown,
    contentType: string | undefined,
    signal: AbortSignal,
  ): Promise<RawResponse> {
    const p = await this.specUriPath({ apiVersion: spec.apiVersion, kind: spec.kind, metadata: { ...spec.metadata } }, action);
    const ctx: RequestContext = this.configuration.baseServer.makeRequestContext(p, method as never);
    ctx.setHeaderParam("Accept", "application/json");
    for (const [k, v] of Object.entries(query)) if (v !== undefined) ctx.setQueryParam(k, v);
    if (body !== undefined) {
      ctx.setHeaderParam("Content-Type", contentType ?? "application/json");
      ctx.setBody(JSON.stringify(body));
    }
    ctx.setSignal(signal);
    return this.requestPromise(ctx) as unknown as Promise<RawResponse>;
  }

  forget(apiVersion: string): void {
    delete this.apiVersionResourceCache[apiVersion];
  }

  async lookup(apiVersion: string, kind: string) {
    return this.resource(apiVersion, kind);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isTransient(e: unknown): boolean {
  if (e instanceof KubeHttpError) return e.status === 429 || (e.status >= 500 && e.status !== 501);
  const err = e as { name?: string; code?: string; type?: string; message?: string };
  if (err?.name === "AbortError" || err?.name === "TimeoutError") return true;
  if (err?.name === "FetchError" || err?.type === "system") return true;
  const code = err?.code ?? "";
  return ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "UND_ERR_SOCKET"].includes(code) || /socket hang up|ECONNRESET/i.test(err?.message ?? "");
}

/** Object reference used for reads and deletes. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export function describe(o: ObjectRef | KObject): string {
  const ref = "metadata" in o ? { kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace } : o;
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}

/** Thin, retrying client. One instance per command. */
export class KubeClient {
  private readonly kc: KubeConfig;
  private readonly api: RawObjectApi;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly baseMs: number;
  private readonly agents: Map<string, http.Agent>;
  /** Number of HTTP requests sent (including retries); handy for tests and benchmarks. */
  requests = 0;

  constructor(opts: ConnectionOptions = {}) {
    this.kc = (opts.kubeConfig ?? loadKubeConfig(opts)) as KubeConfig;
    this.api = this.kc.makeApiClient(RawObjectApi);
    // Namespaced objects without a namespace go to the context's namespace, like kubectl.
    (this.api as unknown as { setDefaultNamespace(kc: KubeConfig): void }).setDefaultNamespace(this.kc);
    // client-node builds a fresh Agent for every request (no connection reuse). Swap in one
    // keep-alive Agent with the same TLS options: several times faster for a hundred objects.
    const agents = new Map<string, http.Agent>();
    const conf = (this.api as unknown as { configuration: { middleware: unknown[] } }).configuration;
    conf.middleware.push({
      pre: (ctx: RequestContext) => {
        const a = ctx.getAgent() as (http.Agent & { options?: Record<string, unknown> }) | undefined;
        if (a) {
          const isHttps = a instanceof https.Agent;
          const key = isHttps ? "https" : "http";
          let shared = agents.get(key);
          if (!shared) {
            const o = { ...(a.options ?? {}), keepAlive: true, maxSockets: 32 };
            shared = isHttps ? new https.Agent(o) : new http.Agent(o);
            agents.set(key, shared);
          }
          ctx.setAgent(shared);
        }
        return new Observable(Promise.resolve(ctx));
      },
      post: (rsp: ResponseContext) => new Observable(Promise.resolve(rsp)),
    });
    this.agents = agents;
    this.timeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.retries = opts.retries ?? 5;
    this.baseMs = opts.retryBaseMs ?? 200;
  }

  /** Close pooled keep-alive connections (the process exits without it too: sockets are unref'd). */
  close(): void {
    for (const a of this.agents.values()) a.destroy();
  }

  /** The namespace of the kubeconfig's current context (`default` when it names none), like kubectl. */
  get contextNamespace(): string {
    return this.kc.getContextObject(this.kc.getCurrentContext())?.namespace || "default";
  }

  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? "";
  }

  private async withRetry<T>(what: string, fn: (signal: AbortSignal) => Promise<T>, retryable = true): Promise<T> {
    let attempt = 0;
    for (;;) {
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), this.timeoutMs);
      try {
        this.requests++;
        return await fn(ac.signal);
      } catch (e) {
        if (!retryable || !isTransient(e) || attempt >= this.retries) {
          if (e instanceof KubeHttpError) throw e;
          if (ApplyError.is(e)) throw e;
          const msg = ac.signal.aborted ? `timed out after ${this.timeoutMs} ms` : ((e as Error)?.message ?? String(e));
          if (/Unrecognized API version and kind|Failed to fetch resource metadata/.test(msg) && !isTransient(e)) {
            throw new ApplyError("invalid", `${what}: ${msg}`, {}, { cause: e });
          }
          const down = /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH/.test(msg) ? `cannot reach the API server ${this.server}: ` : "";
          throw new ApplyError(
            "api_error",
            `${what}: ${down}${msg}${attempt ? ` (after ${attempt + 1} attempts)` : ""}`,
            { attempts: attempt + 1 },
            { cause: e },
          );
        }
        let delay = Math.min(this.baseMs * 2 ** attempt, 5000) * (0.75 + Math.random() * 0.5);
        if (e instanceof KubeHttpError && e.headers["retry-after"]) {
          const s = Number(e.headers["retry-after"]);
          if (Number.isFinite(s)) delay = Math.min(Math.max(delay, s * 1000), 10_000);
        }
        attempt++;
        await sleep(delay);
      } finally {
        clearTimeout(timer);
      }
    }
  }

  /** Whether the server knows this apiVersion/kind (discovery). Forgets negative answers. */
  async knows(apiVersion: string, kind: string): Promise<boolean> {
    try {
      const r = await this.withRetry(`discover ${apiVersion} ${kind}`, () => this.api.lookup(apiVersion, kind));
      if (!r) this.api.forget(apiVersion);
      return !!r;
    } catch (e) {
      this.api.forget(apiVersion);
      if (e instanceof KubeHttpError && e.status === 404) return false;
      if (ApplyError.is(e) && /404/.test(e.message)) return false;
      throw e;
    }
  }

  /** Discovery info for a kind, or undefined when the server does not serve it. */
  async resourceInfo(apiVersion: string, kind: string): Promise<{ name: string; namespaced: boolean } | undefined> {
    try {
      const r = await this.withRetry(`discover ${apiVersion} ${kind}`, () => this.api.lookup(apiVersion, kind));
      if (!r) {
        this.api.forget(apiVersion);
        return undefined;
      }
      return { name: r.name, namespaced: r.namespaced };
    } catch (e) {
      this.api.forget(apiVersion);
      if (e instanceof KubeHttpError && e.status === 404) return undefined;
      if (ApplyError.is(e) && /\b404\b/.test(e.message)) return undefined;
      throw e;
    }
  }

  /** Drop the discovery cache for an apiVersion (after a CRD is established). */
  forgetDiscovery(apiVersion: string): void {
    this.api.forget(apiVersion);
  }

  /** GET one object; `undefined` when it does not exist. */
  async get(ref: ObjectRef): Promise<KObject | undefined> {
    try {
      const r = await this.withRetry(`get ${describe(ref)}`, (signal) =>
        this.api.send(
          { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } },
          "read",
          "GET",
          {},
          undefined,
          undefined,
          signal,
        ),
      );
      return r.body as KObject;
    } catch (e) {
      if (e instanceof KubeHttpError && e.status === 404) return undefined;
      throw e;
    }
  }

  /** LIST objects of a kind, optionally in a namespace and filtered by a label selector. */
  async list(apiVersion: string, kind: string, namespace: string | undefined, labelSelector?: string): Promise<KObject[]> {
    const r = await this.withRetry(`list ${kind}`, (signal) =>
      this.api.send({ apiVersion, kind, metadata: { namespace } }, "list", "GET", { labelSelector }, undefined, undefined, signal),
    );
    const items = ((r.body as { items?: KObject[] })?.items ?? []).map((i) => ({ ...i, apiVersion, kind }));
    return items;
  }

  /** Server-side apply. Returns the object the server stored (or would store, on dry-run) and the HTTP status. */
  async apply(obj: KObject, opts: { fieldManager: string; force?: boolean; dryRun?: boolean }): Promise<{ status: number; object: KObject }> {
    const r = await this.withRetry(`apply ${describe(obj)}`, (signal) =>
      this.api.send(
        obj,
        "patch",
        "PATCH",
        { fieldManager: opts.fieldManager, force: opts.force ? "true" : undefined, dryRun: opts.dryRun ? "All" : undefined },
        obj,
        PatchStrategy.ServerSideApply,
        signal,
      ),
    );
    return { status: r.status, object: r.body as KObject };
  }

  /** POST (create). Not retried on dropped connections (not idempotent); 409 surfaces as KubeHttpError. */
  async create(obj: KObject, opts: { fieldManager: string; dryRun?: boolean }): Promise<KObject> {
    const r = await this.withRetry(
      `create ${describe(obj)}`,
      (signal) => this.api.send(obj, "create", "POST", { fieldManager: opts.fieldManager, dryRun: opts.dryRun ? "All" : undefined }, obj, undefined, signal),
      true,
    );
    return r.body as KObject;
  }

  /** PUT (replace) with the object's `metadata.resourceVersion` as precondition (409 on mismatch). */
  async replace(obj: KObject, opts: { fieldManager: string }): Promise<KObject> {
    const r = await this.withRetry(`replace ${describe(obj)}`, (signal) =>
      this.api.send(obj, "replace", "PUT", { fieldManager: opts.fieldManager }, obj, undefined, signal),
    );
    return r.body as KObject;
  }

  /** DELETE; returns false when the object was already gone. */
  async delete(ref: ObjectRef, opts: { dryRun?: boolean; propagationPolicy?: string } = {}): Promise<boolean> {
    try {
      await this.withRetry(`delete ${describe(ref)}`, (signal) =>
        this.api.send(
          { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } },
          "delete",
          "DELETE",
          { dryRun: opts.dryRun ? "All" : undefined },
          { apiVersion: "v1", kind: "DeleteOptions", propagationPolicy: opts.propagationPolicy ?? "Background" },
          undefined,
          signal,
        ),
      );
      return true;
    } catch (e) {
      if (e instanceof KubeHttpError && e.status === 404) return false;
      throw e;
    }
  }
}
