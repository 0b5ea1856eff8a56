import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { formatIssue, OpmError, type Issue } from "../core/errors.js";
import type { RenderResult } from "../render/types.js";
import type { K8sObject } from "../render/types.js";
import { catalogCmd } from "./catalog.js";
import { lifecycleCommands } from "./lifecycle.js";
import { historyCommand, rollbackCommand } from "./history.js";
import { parseDuration } from "../core/duration.js";

// The render pipeline, the module loader and the apply layer are imported when a command
// runs, so `opm --help` and `opm --version` load almost nothing.
const renderer = () => import("../render/render.js");
const loader = () => import("./load.js");

export interface IO {
  out(text: string): void;
  err(text: string): void;
  isTTY: boolean;
}

const stdio: IO = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  isTTY: Boolean(process.stdout.isTTY) && !process.env.CI,
};

type Options = NonNullable<ParseArgsConfig["options"]>;

export interface Command {
  summary: string;
  usage: string;
  options: Options;
  help: Record<string, string>;
  /** How many positional arguments the command takes (default 1: the module). */
  maxPositionals?: number;
  run(args: { positionals: string[]; values: Record<string, unknown> }, io: IO): Promise<number>;
}

const releaseOptions: Options = {
  values: { type: "string", short: "f", multiple: true },
  namespace: { type: "string", short: "n" },
  name: { type: "string" },
  policy: { type: "string", multiple: true },
  secret: { type: "string", multiple: true },
  "cluster-domain": { type: "string" },
  "eval-timeout": { type: "string" },
};
const releaseHelp = {
  "-f, --values <file>": "values file (YAML or JSON); repeat to layer, later files win",
  "-n, --namespace <ns>": 'namespace of the release (default: the release\'s own, else "default")',
  "--name <name>": "release name (default: the release's own, else the module name)",
  "--policy <file.ts>": "platform policies to check (a file default-exporting policies); repeatable",
  "--secret <path>=@file|env:VAR": "a secret value from a file or an environment variable (never printed); repeatable",
  "--cluster-domain <domain>": "the cluster's DNS domain in fully qualified Service names (default: cluster.local)",
  "--eval-timeout <duration>": "time limit of the CUE evaluation, e.g. 90s or 2m (default 30s, or OPM_EVAL_TIMEOUT)",
};

/** `opm cue` prints CUE, checks no policy and evaluates nothing: it takes no --policy or --eval-timeout (rather than ignoring them). */
function withoutPolicy<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !k.startsWith("policy") && !k.startsWith("--policy") && !k.includes("eval-timeout"))) as T;
}

/** Renders the command's input with its policies; prints warn violations to stderr. */
export async function renderFromFlags(positionals: string[], values: Record<string, unknown>, io: IO): Promise<RenderResult> {
  const { render, violationIssue } = await renderer();
  const { loadInput, loadPolicies } = await loader();
  const policies = await loadPolicies((values.policy as string[] | undefined) ?? []);
  const result = await render(await loadInput(positionals[0], loadOpts(values)), { policies, ...evalTimeout(values) });
  for (const v of result.violations.filter((x) => x.severity === "warn")) io.err(`warning: ${formatIssue(violationIssue(v))}\n`);
  return result;
}

function loadOpts(values: Record<string, unknown>) {
  return {
    valuesFiles: (values.values as string[] | undefined) ?? [],
    ...(values.name !== undefined ? { name: values.name as string } : {}),
    ...(values.namespace !== undefined ? { namespace: values.namespace as string } : {}),
    ...(values["cluster-domain"] !== undefined ? { clusterDomain: values["cluster-domain"] as string } : {}),
    secrets: (values.secret as string[] | undefined) ?? [],
  };
}

/** `--eval-timeout` as a render option (OPM_EVAL_TIMEOUT applies through the default engine). */
function evalTimeout(values: Record<string, unknown>): { evalTimeoutMs?: number } {
  const v = values["eval-timeout"] as string | undefined;
  if (v === undefined) return {};
  const ms = parseDuration(v);
  if (ms === undefined) throw new OpmError("usage", `--eval-timeout ${JSON.stringify(v)} is not a duration: use e.g. 90s, 2m or a number of seconds`);
  return { evalTimeoutMs: ms };
}

function objectFileName(o: K8sObject, i: number, ext: string): string {
  const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9.-]+/g, "-");
  return `${String(i + 1).padStart(3, "0")}-${slug(o.kind)}-${o.metadata.namespace ? slug(o.metadata.namespace) + "-" : ""}${slug(o.metadata.name)}.${ext}`;
}

const commands: Record<string, Command> = {
  build: {
    summary: "Render a module into Kubernetes manifests",
    usage: "opm build <module.ts|dir> [-f values.yaml]... [-n namespace] [--name release] [-o yaml|json] [--out-dir dir]",
    options: {
      ...releaseOptions,
      output: { type: "string", short: "o", default: "yaml" },
      "out-dir": { type: "string" },
      "show-secrets": { type: "boolean", default: false },
      "exclude-secrets": { type: "boolean", default: false },
    },
    help: {
      ...releaseHelp,
      "-o, --output yaml|json": "output format (default yaml; json is a kubectl-compatible v1 List)",
      "--out-dir <dir>": "write one file per object (.yaml, or .json with -o json) into dir instead of printing",
      "--show-secrets": "print Secret data (redacted by default)",
      "--exclude-secrets": "leave Secrets out of the output (e.g. to pipe the rest to another tool)",
    },
    async run({ positionals, values }, io) {
      const format = values.output as string;
      if (format !== "yaml" && format !== "json") throw new OpmError("usage", `-o must be yaml or json, not ${JSON.stringify(format)}`);
      if (values["show-secrets"] && values["exclude-secrets"])
        throw new OpmError("usage", "--show-secrets and --exclude-secrets contradict each other: give one");
      const result = await renderFromFlags(positionals, values, io);
      const show = { showSecrets: Boolean(values["show-secrets"]), excludeSecrets: Boolean(values["exclude-secrets"]) };
      const outDir = values["out-dir"] as string | undefined;
      if (outDir) {
        const items = (JSON.parse(result.json(show)) as { items: K8sObject[] }).items;
        const { toJson } = await import("../render/serialize.js");
        const docs =
          format === "json"
            ? items.map((o) => toJson(o))
            : result
                .yaml(show)
                .split(/^---\n/m)
                .filter(Boolean);
        mkdirSync(outDir, { recursive: true });
        for (const [i, doc] of docs.entries()) writeFileSync(path.join(outDir, objectFileName(items[i]!, i, format)), doc);
        io.err(`wrote ${docs.length} objects to ${outDir}\n`);
        return 0;
      }
      io.out(format === "json" ? result.json(show) : result.yaml(show));
      return 0;
    },
  },
  vet: {
    summary: "Check a module and its values without printing manifests",
    usage: "opm vet <module.ts|dir> [-f values.yaml]... [-n namespace] [--name release] [--policy file.ts]... [-o text|json]",
    options: { ...releaseOptions, output: { type: "string", short: "o", default: "text" } },
    help: { ...releaseHelp, "-o, --output text|json": "json prints a report: release, object count, digests and every policy violation (audit included)" },
    async run({ positionals, values }, io) {
      if (values.output !== "text" && values.output !== "json") throw new OpmError("usage", `-o must be text or json, not ${JSON.stringify(values.output)}`);
      const result = await renderFromFlags(positionals, values, io);
      if (values.output === "json") {
        const { release, digest, valuesDigest, violations } = result;
        io.out(JSON.stringify({ release, objects: result.objects.length, digest, valuesDigest, violations }, null, 2) + "\n");
        return 0;
      }
      const audit = result.violations.filter((v) => v.severity === "audit").length;
      io.err(
        `ok: release ${result.release.name} of ${result.release.module.fqn} renders ${result.objects.length} objects${audit ? ` (${audit} audit violation${audit === 1 ? "" : "s"} recorded)` : ""}\n`,
      );
      return 0;
    },
  },
  cue: {
    summary: "Print the canonical CUE a TypeScript module compiles to",
    usage: "opm cue <module.ts> [-f values.yaml]... [-n namespace] [--name release] [--out-dir dir]",
    options: { ...withoutPolicy(releaseOptions), "out-dir": { type: "string" }, "show-secrets": { type: "boolean", default: false } },
    help: {
      ...withoutPolicy(releaseHelp),
      "--out-dir <dir>": "write module.cue, components.cue and release.cue into dir",
      "--show-secrets": "write literal secret values (redacted by default)",
    },
    async run({ positionals, values }, io) {
      const [{ loadInput }, { toCueFiles }, { joinFiles, ModuleRelease }] = await Promise.all([loader(), renderer(), import("../../dsl/module.js")]);
      const input = await loadInput(positionals[0], loadOpts(values));
      if (!ModuleRelease.is(input)) throw new OpmError("usage", "opm cue compiles TypeScript modules; a folder of .cue files is already CUE");
      const files = toCueFiles(input, { redactSecrets: !values["show-secrets"] });
      const outDir = values["out-dir"] as string | undefined;
      if (outDir) {
        mkdirSync(outDir, { recursive: true });
        for (const f of files) writeFileSync(path.join(outDir, f.name), f.text);
        io.err(`wrote ${files.map((f) => f.name).join(", ")} to ${outDir}\n`);
        return 0;
      }
      io.out(joinFiles(files));
      return 0;
    },
  },
};

Object.assign(
  commands,
  lifecycleCommands({
    options: releaseOptions,
    help: releaseHelp,
    render: (positionals, values, io) => renderFromFlags(positionals, values, io),
  }),
);

/** Commands contributed by other layers (apply, catalog, ...). */
export function registerCommand(name: string, command: Command): void {
  commands[name] = command;
}

registerCommand("history", historyCommand);
registerCommand("rollback", rollbackCommand);
registerCommand("catalog", catalogCmd);

function printHelp(io: IO, name?: string): void {
  if (name && commands[name]) {
    const c = commands[name]!;
    const width = Math.max(...Object.keys(c.help).map((k) => k.length), 10) + 2;
    io.out(
      `${c.summary}\n\nUsage:\n  ${c.usage}\n\nOptions:\n${Object.entries({ ...c.help, "-h, --help": "show this help" })
        .map(([k, v]) => `  ${k.padEnd(width)}${v}`)
        .join("\n")}\n`,
    );
    return;
  }
  const width = Math.max(...Object.keys(commands).map((k) => k.length)) + 2;
  io.out(
    `opm: the Open Platform Model for TypeScript\n\nUsage:\n  opm <command> [options]\n\nCommands:\n${Object.entries(commands)
      .map(([k, c]) => `  ${k.padEnd(width)}${c.summary}`)
      .join("\n")}\n\nRun "opm <command> --help" for a command's options.\n`,
  );
}

/** Prints an error for a person: the message and every issue, never a stack trace for a user mistake. */
export function reportError(e: unknown, io: IO): number {
  if (OpmError.is(e)) {
    const [summary] = e.message.split("\n");
    for (const w of (e as { warnings?: Issue[] }).warnings ?? []) io.err(`warning: ${formatIssue(w)}\n`);
    io.err(`error: ${summary}\n`);
    for (const i of e.issues) io.err(`  - ${formatIssue(i)}\n`);
    return (e as { exitCode?: number }).exitCode ?? (e.code === "usage" ? 2 : 1);
  }
  const err = e as Error;
  io.err(`internal error: ${err?.message ?? String(e)}\n`);
  if (process.env.OPM_DEBUG) io.err(`${err?.stack ?? ""}\n`);
  else io.err("(set OPM_DEBUG=1 to see where it happened)\n");
  return 3;
}

/** Runs the CLI with arguments (without `node opm`); returns the exit code. */
export async function main(argv: string[], io: IO = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "-h" || name === "--help" || name === "help") {
    printHelp(io, rest[0]);
    return 0;
  }
  if (name === "--version" || name === "version") {
    io.out("opm-ts 0.1.0\n");
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    io.err(`error: unknown command "${name}"\n`);
    printHelp({ ...io, out: io.err });
    return 2;
  }
  try {
    const parsed = parseArgs({ args: rest, options: { ...cmd.options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
    if (parsed.values.help) {
      printHelp(io, name);
      return 0;
    }
    const max = cmd.maxPositionals ?? 1;
    if (parsed.positionals.length > max) {
      const hint = "values" in cmd.options ? " (to layer values files, give -f before each one)" : "";
      throw new OpmError(
        "usage",
        `opm ${name} takes ${max === 1 ? "one argument" : `${max} arguments`}; unexpected ${parsed.positionals
          .slice(max)
          .map((p) => JSON.stringify(p))
          .join(", ")}${hint}`,
      );
    }
    // Load the CUE engine while the module file is loaded and compiled.
    if (name === "build" || name === "vet") import("../engine/engine.js").then((m) => m.defaultEngine().start()).catch(() => undefined);
    return await cmd.run({ positionals: parsed.positionals, values: parsed.values as Record<string, unknown> }, io);
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.err(`error: ${(e as Error).message}\nRun "opm ${name} --help" for usage.\n`);
      return 2;
    }
    return reportError(e, io);
  }
}
