/**
 * Shared set-up of the end-to-end suite.
 *
 * - `OPM_E2E_KUBECONFIG=path` (and optionally `OPM_E2E_CONTEXT`): run against that cluster.
 * - `OPM_E2E_FAKE=1`: run the parts that make sense without controllers against the in-repo test
 *   API server instead (it checks the wiring only).
 * - `OPM_E2E_KUBE_DIR=dir`: the folder holding the control plane's `up` and `down` scripts; the
 *   test that stops the API server mid-apply needs it.
 *
 * Everything a test creates lives in namespaces (and cluster objects) named `opm-e2e-*`.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { KubeClient, type KObject } from "../../src/apply/index.js";
import { TestKubeApiServer } from "../support/kube-api-server.js";

export const fake = process.env.OPM_E2E_FAKE === "1";
export const kubeconfigEnv = process.env.OPM_E2E_KUBECONFIG;
export const context = process.env.OPM_E2E_CONTEXT;
/** A real cluster (not the in-repo test server). */
export const real = !!kubeconfigEnv && !fake;
export const enabled = real || fake;
export const kubeDir = process.env.OPM_E2E_KUBE_DIR;
export const run = randomBytes(3).toString("hex");
export const root = path.resolve(import.meta.dirname, "../..");
const OPM = path.join(root, "bin/opm.js");

export interface Env {
  client: KubeClient;
  kubeconfig: string;
  server?: TestKubeApiServer;
  stop(): Promise<void>;
}

export async function connect(): Promise<Env> {
  if (fake) {
    const server = await TestKubeApiServer.start({ autoReady: true });
    const client = new KubeClient({ kubeConfig: server.kubeConfig() });
    return { client, server, kubeconfig: server.kubeconfigPath, stop: () => server.stop() };
  }
  const client = new KubeClient({ kubeconfig: kubeconfigEnv, context });
  return { client, kubeconfig: kubeconfigEnv!, stop: async () => client.close() };
}

/** A namespace name for this run: `opm-e2e-<what>-<run>`. */
export const nsName = (what: string) => `opm-e2e-${what}-${run}`.slice(0, 63).replace(/-+$/, "");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Sees one line of a child's output; returning "kill" SIGKILLs the child there and then. */
// biome-ignore lint/suspicious/noConfusingVoidType: a watcher usually returns nothing; `undefined` would make every block-bodied callback write `return undefined`.
export type OnLine = (line: string, p: { pid: number }) => void | "kill";

/**
 * Run the `opm` CLI (bin/opm.js, the built package) as a user would. `onLine` sees every stdout and
 * stderr line as it arrives and may return "kill" to SIGKILL the process there and then.
 */
export function opm(args: string[], opts: { kubeconfig?: string; onLine?: OnLine; env?: NodeJS.ProcessEnv } = {}): Promise<Run & { killed: boolean }> {
  const full = [OPM, ...args, ...(opts.kubeconfig ? ["--kubeconfig", opts.kubeconfig] : []), ...(context && opts.kubeconfig ? ["--context", context] : [])];
  return spawnLines(process.execPath, full, opts);
}

export function spawnLines(cmd: string, args: string[], opts: { onLine?: OnLine; env?: NodeJS.ProcessEnv } = {}): Promise<Run & { killed: boolean }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "1", ...opts.env } });
    let stdout = "";
    let stderr = "";
    let killed = false;
    const feed = (which: "out" | "err") => {
      let buf = "";
      return (d: Buffer) => {
        const s = d.toString("utf8");
        if (which === "out") stdout += s;
        else stderr += s;
        buf += s;
        for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (!killed && opts.onLine?.(line, { pid: p.pid! }) === "kill") {
            killed = true;
            p.kill("SIGKILL");
          }
        }
      };
    };
    p.stdout.on("data", feed("out"));
    p.stderr.on("data", feed("err"));
    p.on("error", reject);
    p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr, killed }));
  });
}

export function kubectl(kubeconfig: string, args: string[]): Run {
  const r = spawnSync("kubectl", ["--kubeconfig", kubeconfig, ...(context ? ["--context", context] : []), ...args], { encoding: "utf8" });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The CRDs of the kinds the examples render that a bare cluster does not serve (test/fixtures/crds). */
export function fixtureCrds(): KObject[] {
  const dir = path.join(root, "test/fixtures/crds");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => parse(readFileSync(path.join(dir, f), "utf8")) as KObject);
}

/** Install the fixture CRDs (idempotent) and wait until the server serves their kinds. */
export async function installCrds(client: KubeClient): Promise<void> {
  for (const crd of fixtureCrds()) await client.apply(crd, { fieldManager: "opm-e2e", force: true });
  for (const crd of fixtureCrds()) {
    const spec = crd.spec as { group: string; names: { kind: string }; versions: Array<{ name: string }> };
    await until(`CRD ${crd.metadata.name} served`, async () => {
      const live = await client.get({ apiVersion: crd.apiVersion, kind: crd.kind, name: crd.metadata.name });
      const established = ((live?.status as { conditions?: Array<{ type: string; status: string }> })?.conditions ?? []).some(
        (c) => c.type === "Established" && c.status === "True",
      );
      client.forgetDiscovery(`${spec.group}/${spec.versions[0]!.name}`);
      return established && (await client.knows(`${spec.group}/${spec.versions[0]!.name}`, spec.names.kind));
    });
  }
}

/** Poll `check` (an observation of the server, not a timer race) until it holds; fails after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000, everyMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Every object in `namespace` carrying the release's uuid label, over the given kinds. */
export async function releaseObjects(client: KubeClient, namespace: string, uuid: string, kinds: Array<[string, string]>): Promise<string[]> {
  const out: string[] = [];
  for (const [apiVersion, kind] of kinds) {
    if (!(await client.knows(apiVersion, kind))) continue;
    const items = await client.list(apiVersion, kind, namespace, `module-release.opmodel.dev/uuid=${uuid}`);
    for (const o of items) if (!(o.metadata as { deletionTimestamp?: string }).deletionTimestamp) out.push(`${kind}/${o.metadata.name}`);
  }
  return out;
}

/** Delete namespaces (and wait for nothing). */
export async function cleanup(client: KubeClient | undefined, namespaces: string[]): Promise<void> {
  for (const ns of namespaces) await client?.delete({ apiVersion: "v1", kind: "Namespace", name: ns }).catch(() => {});
}
