/**
 * CLI adapters for `opm apply|diff|status|delete`. The main CLI parses arguments (see {@link APPLY_FLAGS}),
 * renders the module when one is given, and calls one function per command. Each returns the exit code
 * and prints only through `io`.
 */
import type { RenderResult } from "../render/types.js";
import type { LifecycleEvent, ReleaseTarget } from "../apply/lifecycle.js";
import type { KubeClient } from "../apply/client.js";
import { ApplyError } from "../apply/errors.js";

/** The apply layer (and @kubernetes/client-node), loaded when a command runs. */
const lifecycle = () => import("../apply/index.js");

export interface CliIO {
  /** Print one line to stdout. */
  out(line: string): void;
  /** Print one line to stderr. */
  err(line: string): void;
  /** Whether stdout is a terminal (progress redraws in place, diff is coloured). */
  isTTY: boolean;
  /** Raw write to stdout, used for in-place progress on a terminal; plain lines are used without it. */
  write?(text: string): void;
  /** Environment (for `CI`, `NO_COLOR`); defaults to process.env. */
  env?: Record<string, string | undefined>;
}

export interface FlagSpec {
  name: string;
  short?: string;
  type: "string" | "boolean";
  /** Allowed values for string flags. */
  values?: readonly string[];
  default?: string | boolean;
  help: string;
  /** Commands that accept the flag. */
  commands: ReadonlyArray<"apply" | "diff" | "status" | "delete">;
}

const ALL = ["apply", "diff", "status", "delete"] as const;

/** Flags of `opm apply|diff|status|delete` (module, `-f`, `-n`, `--name` are parsed by the main CLI). */
export const APPLY_FLAGS: readonly FlagSpec[] = [
  { name: "kubeconfig", type: "string", help: "Path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)", commands: ALL },
  { name: "context", type: "string", help: "Kubeconfig context to use (default: the current context)", commands: ALL },
  { name: "create-namespace", type: "boolean", default: false, help: "Create the release namespace if it does not exist", commands: ["apply"] },
  {
    name: "dry-run",
    type: "string",
    values: ["server"],
    help: "Send every object with dryRun=All: validated by the server, nothing persisted",
    commands: ["apply"],
  },
  { name: "force-conflicts", type: "boolean", default: false, help: "Take ownership of fields another field manager owns", commands: ["apply", "diff"] },
  {
    name: "no-prune",
    type: "boolean",
    default: false,
    help: "Keep objects the release no longer renders (they are left in place and forgotten)",
    commands: ["apply", "diff"],
  },
  { name: "wait", type: "boolean", default: false, help: "Wait until every object is ready", commands: ["apply"] },
  {
    name: "timeout",
    type: "string",
    default: "5m",
    help: "How long to wait for readiness (apply --wait, and CRDs to be established) or deletion (e.g. 90s, 5m, 1h)",
    commands: ["apply", "delete"],
  },
  { name: "output", short: "o", type: "string", values: ["json"], help: "Output format: json", commands: ALL },
];

export interface CliFlags {
  kubeconfig?: string;
  context?: string;
  createNamespace?: boolean;
  dryRun?: string;
  forceConflicts?: boolean;
  noPrune?: boolean;
  wait?: boolean;
  timeout?: string | number;
  output?: string;
  /** Not a flag: a client to use (tests). */
  client?: KubeClient;
  /** Not a flag: poll interval for waits (tests). */
  pollIntervalMs?: number;
  /** Not a flag: lock expiry (tests). */
  lockDurationSeconds?: number;
}

/** Parse `90s`, `5m`, `1h30m`, `500ms` or a number of seconds into milliseconds. */
export function parseDuration(v: string | number | undefined, fallbackMs = 5 * 60_000): number {
  if (v === undefined || v === "") return fallbackMs;
  if (typeof v === "number") return v * 1000;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of v.matchAll(re)) {
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
    consumed += m[0].length;
  }
  if (consumed !== v.length || consumed === 0) throw new ApplyError("invalid", `invalid duration "${v}": use a number with a unit, e.g. 90s, 5m, 1h`);
  return total;
}

function plain(io: CliIO): boolean {
  const env = io.env ?? process.env;
  return !io.isTTY || !!env.CI || !io.write;
}

function colors(io: CliIO): boolean {
  const env = io.env ?? process.env;
  return io.isTTY && !env.NO_COLOR && !env.CI;
}

/** One line per object; on a terminal the lines are redrawn in place as objects progress. */
export class Progress {
  private readonly lines = new Map<string, string>();
  private drawn = 0;
  constructor(private readonly io: CliIO) {}

  set(id: string, text: string): void {
    const line = `${id} ${text}`;
    if (plain(this.io)) {
      this.io.out(line);
      return;
    }
    this.lines.set(id, line);
    this.redraw();
  }

  private redraw(): void {
    const w = this.io.write!;
    let s = this.drawn ? `\x1b[${this.drawn}A` : "";
    for (const l of this.lines.values()) s += `\x1b[2K\r${l}\n`;
    this.drawn = this.lines.size;
    w(s);
  }
}

export function onEvent(p: Progress): (e: LifecycleEvent) => void {
  return (e) => {
    switch (e.type) {
      case "applied":
        p.set(e.id, e.dryRun ? `${e.action} (server dry run)` : e.action);
        break;
      case "pruned":
        p.set(e.id, e.dryRun ? "pruned (server dry run)" : "pruned");
        break;
      case "skipped":
        p.set(e.id, `skipped: ${e.reason}`);
        break;
      case "deleted":
        p.set(e.id, "deleted");
        break;
      case "waiting":
        p.set(e.id, `waiting: ${e.health.message}`);
        break;
      case "ready":
        p.set(e.id, `ready: ${e.health.message}`);
        break;
      case "gone":
        p.set(e.id, "gone");
        break;
      case "info":
        break;
    }
  };
}

export function fail(io: CliIO, e: unknown): void {
  const msg = ApplyError.is(e) ? e.message : e instanceof Error ? e.message : String(e);
  for (const line of `error: ${msg}`.split("\n")) io.err(line);
}

export function common(flags: CliFlags) {
  return {
    kubeconfig: flags.kubeconfig,
    context: flags.context,
    client: flags.client,
    pollIntervalMs: flags.pollIntervalMs,
  };
}

/** `opm apply`: 0 when everything applied (and, with --wait, became ready), 1 otherwise. */
export async function runApply(result: RenderResult, flags: CliFlags, io: CliIO): Promise<number> {
  const json = flags.output === "json";
  try {
    if (flags.dryRun !== undefined && flags.dryRun !== "server")
      throw new ApplyError("invalid", `--dry-run must be "server" (client-side dry run is \`opm build\`)`);
    const progress = new Progress(io);
    const report = await (await lifecycle()).apply(result, {
      ...common(flags),
      createNamespace: flags.createNamespace,
      dryRun: flags.dryRun === "server" ? "server" : undefined,
      forceConflicts: flags.forceConflicts,
      noPrune: flags.noPrune,
      wait: flags.wait,
      timeoutMs: parseDuration(flags.timeout),
      lockDurationSeconds: flags.lockDurationSeconds,
      onEvent: json ? undefined : onEvent(progress),
    });
    if (json) io.out(JSON.stringify(report, null, 2));
    else {
      io.out(applySummary(`release ${report.release.name} in ${report.release.namespace}`, report));
    }
    return 0;
  } catch (e) {
    fail(io, e);
    return 1;
  }
}

/** `<head>: N created, N configured, N unchanged, N pruned` (and the dry-run remark), for apply and rollback. */
export function applySummary(head: string, report: { objects: readonly { action: string }[]; pruned: readonly unknown[]; dryRun?: unknown }): string {
  const counts: Record<string, number> = { created: 0, configured: 0, unchanged: 0 };
  for (const o of report.objects) counts[o.action] = (counts[o.action] ?? 0) + 1;
  return (
    `${head}: ${counts.created} created, ${counts.configured} configured, ${counts.unchanged} unchanged, ${report.pruned.length} pruned` +
    (report.dryRun ? " (server dry run, nothing persisted)" : "")
  );
}

function colourDiff(text: string, on: boolean): string[] {
  const lines = text.replace(/\n$/, "").split("\n");
  if (!on) return lines;
  return lines.map((l) =>
    l.startsWith("+++") || l.startsWith("---")
      ? `\x1b[1m${l}\x1b[0m`
      : l.startsWith("+")
        ? `\x1b[32m${l}\x1b[0m`
        : l.startsWith("-")
          ? `\x1b[31m${l}\x1b[0m`
          : l.startsWith("@@")
            ? `\x1b[36m${l}\x1b[0m`
            : l,
  );
}

/** `opm diff`: 0 when nothing would change, 1 when something would, 2 on error. */
export async function runDiff(result: RenderResult, flags: CliFlags, io: CliIO): Promise<number> {
  try {
    const report = await (await lifecycle()).diff(result, { ...common(flags), forceConflicts: flags.forceConflicts, noPrune: flags.noPrune });
    if (flags.output === "json") io.out(JSON.stringify(report, null, 2));
    else if (report.text) for (const l of colourDiff(report.text, colors(io))) io.out(l);
    return report.changed ? 1 : 0;
  } catch (e) {
    fail(io, e);
    return 2;
  }
}

export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd(),
  );
}

/** `opm status`: 0 when every object is healthy, 1 when not, 2 on error. Works from name + namespace alone. */
export async function runStatus(target: RenderResult | ReleaseTarget, flags: CliFlags, io: CliIO): Promise<number> {
  try {
    const report = await (await lifecycle()).status(target, common(flags));
    if (flags.output === "json") io.out(JSON.stringify(report, null, 2));
    else {
      const rows = [["KIND", "NAMESPACE", "NAME", "COMPONENT", "HEALTH", "MESSAGE"]];
      for (const o of report.objects) rows.push([o.kind, o.namespace ?? "", o.name, o.component ?? "", o.health, o.message]);
      const last = report.history.at(-1);
      io.out(
        `release ${report.release.name} in ${report.release.namespace}` +
          (report.module ? ` (${report.module.fqn} ${report.module.version})` : "") +
          (last ? `, last applied ${last.time}: ${last.outcome}` : ""),
      );
      for (const l of table(rows)) io.out(l);
    }
    return report.healthy ? 0 : 1;
  } catch (e) {
    fail(io, e);
    return 2;
  }
}

/** `opm delete`: 0 when the release is gone (or was not there), 1 otherwise. Works from name + namespace alone. */
export async function runDelete(target: RenderResult | ReleaseTarget, flags: CliFlags, io: CliIO): Promise<number> {
  try {
    const progress = new Progress(io);
    const report = await (await lifecycle()).deleteRelease(target, {
      ...common(flags),
      timeoutMs: parseDuration(flags.timeout),
      lockDurationSeconds: flags.lockDurationSeconds,
      onEvent: flags.output === "json" ? undefined : onEvent(progress),
    });
    if (flags.output === "json") io.out(JSON.stringify(report, null, 2));
    else if (!report.found) io.out(`release ${report.release.name} not found in ${report.release.namespace}; nothing to delete`);
    else {
      for (const k of report.kept) io.out(`${k.id} kept: ${k.reason}`);
      io.out(`release ${report.release.name} deleted from ${report.release.namespace}: ${report.deleted.length} objects`);
    }
    return 0;
  } catch (e) {
    fail(io, e);
    return 1;
  }
}
