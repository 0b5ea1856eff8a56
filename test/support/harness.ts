import { KubeClient } from "../../src/apply/client.js";
import type { CliIO } from "../../src/cli/lifecycle-run.js";
import { TestKubeApiServer, type ServerOptions } from "./kube-api-server.js";

export interface Harness {
  server: TestKubeApiServer;
  client: KubeClient;
  /** Fast options for tests. */
  opts: { client: KubeClient; pollIntervalMs: number; lockDurationSeconds: number };
  stop(): Promise<void>;
}

export async function startHarness(options: ServerOptions = {}, clientOpts: { retries?: number; requestTimeoutMs?: number } = {}): Promise<Harness> {
  const server = await TestKubeApiServer.start(options);
  const client = new KubeClient({
    kubeConfig: server.kubeConfig(),
    retryBaseMs: 5,
    retries: clientOpts.retries ?? 4,
    requestTimeoutMs: clientOpts.requestTimeoutMs ?? 5000,
  });
  return { server, client, opts: { client, pollIntervalMs: 20, lockDurationSeconds: 30 }, stop: () => server.stop() };
}

/** An in-memory CliIO capturing everything printed. */
export function captureIO(opts: { isTTY?: boolean; env?: Record<string, string | undefined>; raw?: boolean } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const raw: string[] = [];
  const io: CliIO = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    isTTY: opts.isTTY ?? false,
    env: opts.env ?? {},
    ...(opts.raw ? { write: (t: string) => raw.push(t) } : {}),
  };
  return { io, out, err, raw, all: () => [...out, ...err, ...raw].join("\n") };
}
