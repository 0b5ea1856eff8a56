/**
 * `opm history <release>` and `opm rollback <release> [--to N]`: a release's revisions from its
 * inventory, and applying one of them again. Both work from the release name and namespace alone.
 */
import { readFileSync } from "node:fs";
import { OpmError } from "../core/errors.js";
import type { ReleaseTarget } from "../apply/lifecycle.js";
import type { KubeClient } from "../apply/client.js";
import { applySummary, common, fail, onEvent, parseDuration, Progress, table, type CliFlags, type CliIO } from "./lifecycle-run.js";
import type { Command, IO } from "./main.js";

const lifecycle = () => import("../apply/index.js");

export interface RollbackFlags extends CliFlags {
  to?: number;
  /** `--secret <secret>/<key>=@file|env:VAR`, as given. */
  secret?: string[];
}

/** `opm history`: 0 with the table (or JSON), 1 when the release has no inventory or it cannot be read. */
export async function runHistory(target: ReleaseTarget, flags: CliFlags, io: CliIO): Promise<number> {
  try {
    const report = await (await lifecycle()).history(target, common(flags));
    if (flags.output === "json") {
      io.out(JSON.stringify(report, null, 2));
      return 0;
    }
    io.out(`release ${report.release.name} in ${report.release.namespace} (${report.module.fqn}), current revision ${report.current}`);
    const rows = [["REVISION", "UPDATED", "MODULE VERSION", "VALUES", "OUTCOME", "VIOLATIONS", "DESCRIPTION"]];
    for (const r of report.revisions) {
      const what = r.rollbackOf !== undefined ? `rollback of ${r.rollbackOf}` : "apply";
      rows.push([
        String(r.revision),
        r.time,
        r.moduleVersion,
        r.valuesDigest.slice(0, 12),
        r.outcome,
        String(r.violations),
        r.rollbackable ? what : `${what}; not rollback-able: ${r.reason}`,
      ]);
    }
    for (const l of table(rows)) io.out(l);
    return 0;
  } catch (e) {
    fail(io, e);
    return 1;
  }
}

/** `opm rollback`: 0 when the revision was applied again (and, with --wait, became ready), 1 otherwise. */
export async function runRollback(target: ReleaseTarget, flags: RollbackFlags, io: CliIO): Promise<number> {
  const json = flags.output === "json";
  try {
    const secrets = secretFlags(flags.secret ?? []);
    const progress = new Progress(io);
    const report = await (await lifecycle()).rollback(target, {
      ...common(flags),
      ...(flags.to !== undefined ? { to: flags.to } : {}),
      secrets,
      dryRun: flags.dryRun ? "server" : undefined,
      forceConflicts: flags.forceConflicts,
      wait: flags.wait,
      timeoutMs: parseDuration(flags.timeout),
      lockDurationSeconds: flags.lockDurationSeconds,
      onEvent: json ? undefined : onEvent(progress),
    });
    if (json) io.out(JSON.stringify(report, null, 2));
    else {
      const head = report.dryRun
        ? `release ${report.release.name} in ${report.release.namespace} would roll back from revision ${report.from} to revision ${report.to}`
        : `release ${report.release.name} in ${report.release.namespace} rolled back to revision ${report.to}, recorded as revision ${report.revision}`;
      io.out(applySummary(head, report));
    }
    return 0;
  } catch (e) {
    fail(io, e);
    return 1;
  }
}

/** `--secret <secret>/<key>=@file|env:VAR` into `{ secret: { key: value } }`; never echoes a value. */
function secretFlags(flags: readonly string[]): Record<string, Record<string, Buffer>> {
  const out: Record<string, Record<string, Buffer>> = {};
  for (const flag of flags) {
    const m = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)\/([-._a-zA-Z0-9]+)=(@|env:)(.+)$/.exec(flag);
    if (!m)
      throw Object.assign(
        new OpmError(
          "usage",
          `--secret takes <secret>/<key>=@file or <secret>/<key>=env:VARIABLE (e.g. --secret db/password=@./pw.txt), not "${flag.split("=")[0]}=..."`,
        ),
        { exitCode: 2 },
      );
    const [, name, , key, kind, where] = m;
    let value: Buffer;
    if (kind === "@") {
      try {
        // A trailing newline is dropped, as `opm apply --secret` does when rendering.
        value = readFileSync(where!);
      } catch {
        throw Object.assign(new OpmError("usage", `--secret ${name}/${key}: file ${where} cannot be read`), { exitCode: 2 });
      }
      const text = value.toString("utf8");
      if (text.endsWith("\n")) value = Buffer.from(text.replace(/\r?\n$/, ""), "utf8");
    } else {
      const v = process.env[where!];
      if (v === undefined) throw Object.assign(new OpmError("usage", `--secret ${name}/${key}: environment variable ${where} is not set`), { exitCode: 2 });
      value = Buffer.from(v, "utf8");
    }
    out[name!] = { ...out[name!], [key!]: value };
  }
  return out;
}

const usage = (message: string) => Object.assign(new OpmError("usage", message), { exitCode: 2 });

const connection: Command["options"] = {
  namespace: { type: "string", short: "n" },
  kubeconfig: { type: "string" },
  context: { type: "string" },
};
const connectionHelp: Record<string, string> = {
  "-n, --namespace <ns>": 'namespace of the release (default: the kubeconfig context\'s namespace, else "default")',
  "--kubeconfig <path>": "Path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)",
  "--context <name>": "Kubeconfig context to use (default: the current context)",
};

function lineIO(io: IO): CliIO {
  return { out: (l) => io.out(l + "\n"), err: (l) => io.err(l + "\n"), isTTY: io.isTTY, ...(io.isTTY ? { write: (t: string) => io.out(t) } : {}) };
}

/** The release named by the one positional argument, in `-n` or the kubeconfig context's namespace; and a client for it. */
async function target(command: string, positionals: string[], values: Record<string, unknown>): Promise<{ target: ReleaseTarget; client: KubeClient }> {
  const name = positionals[0];
  if (!name) throw usage(`opm ${command} needs the release name: opm ${command} <release> [-n namespace]`);
  const { KubeClient } = await lifecycle();
  const client = new KubeClient({ kubeconfig: values.kubeconfig as string | undefined, context: values.context as string | undefined });
  return { target: { name, namespace: (values.namespace as string | undefined) ?? client.contextNamespace }, client };
}

export const historyCommand: Command = {
  summary: "List a release's revisions (the last 10 applies and rollbacks) from its inventory",
  usage: "opm history <release> [-n namespace] [-o text|json]",
  options: { ...connection, output: { type: "string", short: "o", default: "text" } },
  help: { ...connectionHelp, "-o, --output text|json": "output format (default text)" },
  async run({ positionals, values }, io) {
    if (values.output !== "text" && values.output !== "json") throw usage(`-o must be text or json, not ${JSON.stringify(values.output)}`);
    const t = await target("history", positionals, values);
    return runHistory(t.target, { client: t.client, output: values.output as string }, lineIO(io));
  },
};

export const rollbackCommand: Command = {
  summary: "Apply again what an earlier revision applied (default: the previous successful one), pruning what it did not have",
  usage: "opm rollback <release> [--to N] [-n namespace] [--wait] [--timeout 5m] [--dry-run] [--secret secret/key=@file|env:VAR]... [-o json]",
  options: {
    ...connection,
    to: { type: "string" },
    wait: { type: "boolean", default: false },
    timeout: { type: "string", default: "5m" },
    "dry-run": { type: "boolean", default: false },
    "force-conflicts": { type: "boolean", default: false },
    secret: { type: "string", multiple: true },
    output: { type: "string", short: "o" },
  },
  help: {
    ...connectionHelp,
    "--to <revision>": "the revision to return to (default: the newest successful revision before the current one; see opm history)",
    "--wait": "Wait until every object is ready",
    "--timeout <duration>": "How long to wait for readiness (e.g. 90s, 5m, 1h) (default 5m)",
    "--dry-run": "A server-side dry run: every object validated by the server, nothing persisted",
    "--force-conflicts": "Take ownership of fields another field manager owns",
    "--secret <secret>/<key>=@file|env:VAR":
      "a Secret value the revision applied that the cluster no longer holds (never printed; checked against the recorded digest); repeatable",
    "-o, --output json": "Output format: json",
  },
  async run({ positionals, values }, io) {
    let to: number | undefined;
    if (values.to !== undefined) {
      to = Number(values.to);
      if (!/^\d+$/.test(String(values.to)) || to < 1)
        throw usage(`--to takes a revision number (1, 2, ...; see opm history), not ${JSON.stringify(values.to)}`);
    }
    if (values.output !== undefined && values.output !== "json") throw usage(`-o must be json, not ${JSON.stringify(values.output)}`);
    if (values.wait && values["dry-run"]) throw usage("--wait cannot be combined with --dry-run: a server dry run persists nothing to wait for");
    try {
      parseDuration(values.timeout as string);
    } catch (e) {
      throw usage(`--timeout: ${(e as Error).message}`);
    }
    const secret = (values.secret as string[] | undefined) ?? [];
    secretFlags(secret); // usage errors before any request
    const t = await target("rollback", positionals, values);
    const flags: RollbackFlags = {
      client: t.client,
      ...(to !== undefined ? { to } : {}),
      secret,
      dryRun: values["dry-run"] ? "server" : undefined,
      forceConflicts: values["force-conflicts"] as boolean,
      wait: values.wait as boolean,
      timeout: values.timeout as string,
      output: values.output as string | undefined,
    };
    return runRollback(t.target, flags, lineIO(io));
  },
};
