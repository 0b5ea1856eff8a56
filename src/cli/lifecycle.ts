import { OpmError } from "../core/errors.js";
import { APPLY_FLAGS, parseDuration, runApply, runDelete, runDiff, runStatus, type CliFlags, type CliIO } from "./lifecycle-run.js";
import type { RenderResult } from "../render/types.js";
import type { Command, IO } from "./main.js";

type Name = "apply" | "diff" | "status" | "delete";

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function lineIO(io: IO): CliIO {
  return {
    out: (l) => io.out(l + "\n"),
    err: (l) => io.err(l + "\n"),
    isTTY: io.isTTY,
    ...(io.isTTY ? { write: (t: string) => io.out(t) } : {}),
  };
}

/**
 * Builds `opm apply|diff|status|delete`. They take the same module arguments as `opm build`;
 * `status` and `delete` also work from the inventory alone, given `--name` and `-n`.
 */
export function lifecycleCommands(base: {
  options: Command["options"];
  help: Record<string, string>;
  render(positionals: string[], values: Record<string, unknown>, io: IO): Promise<RenderResult>;
}): Record<Name, Command> {
  const make = (
    name: Name,
    summary: string,
    run: (target: RenderResult | { name: string; namespace: string }, flags: CliFlags, io: CliIO) => Promise<number>,
    fromInventory: boolean,
  ): Command => {
    const flags = APPLY_FLAGS.filter((f) => f.commands.includes(name));
    const options: Command["options"] = { ...base.options };
    const help: Record<string, string> = { ...base.help };
    for (const f of flags) {
      options[f.name] = { type: f.type, ...(f.short ? { short: f.short } : {}) };
      const label = `${f.short ? `-${f.short}, ` : ""}--${f.name}${f.type === "string" ? ` <${f.values ? f.values.join("|") : "value"}>` : ""}`;
      help[label] = f.help + (f.default !== undefined && f.default !== false ? ` (default ${String(f.default)})` : "");
    }
    const errorCode = name === "diff" || name === "status" ? 2 : 1;
    return {
      summary,
      usage: `opm ${name} <module.ts|dir>${fromInventory ? " | --name release -n namespace" : ""} [-f values.yaml]... [-n namespace] [--name release] [options]`,
      options,
      help,
      async run({ positionals, values }, io) {
        const parsed: CliFlags = {};
        for (const f of flags) {
          const v = values[f.name] ?? f.default;
          if (v === undefined) continue;
          if (f.values && typeof v === "string" && !f.values.includes(v)) {
            throw Object.assign(new OpmError("usage", `--${f.name} must be ${f.values.join(" or ")}, not ${JSON.stringify(v)}`), { exitCode: 2 });
          }
          (parsed as Record<string, unknown>)[camel(f.name)] = v;
        }
        if (typeof parsed.timeout === "string") {
          try {
            parseDuration(parsed.timeout);
          } catch (e) {
            throw Object.assign(new OpmError("usage", `--timeout: ${(e as Error).message}`), { exitCode: 2 });
          }
        }
        if (parsed.wait && parsed.dryRun)
          throw Object.assign(new OpmError("usage", "--wait cannot be combined with --dry-run=server: a server dry run persists nothing to wait for"), {
            exitCode: 2,
          });
        let target: RenderResult | { name: string; namespace: string };
        if (positionals[0] === undefined && fromInventory) {
          if (!values.name || !values.namespace)
            throw Object.assign(new OpmError("usage", `opm ${name} needs a module, or --name and -n to find the release's inventory`), { exitCode: 2 });
          // Without a module nothing is rendered: refuse the flags that only feed a render.
          const unused = [values.values && "-f", values.secret && "--secret", values.policy && "--policy"].filter(Boolean);
          if (unused.length)
            throw Object.assign(
              new OpmError(
                "usage",
                `opm ${name} --name ${String(values.name)} -n ${String(values.namespace)} reads the release's inventory and renders nothing: ${unused.join(", ")} would be ignored; give the module too, or drop ${unused.length === 1 ? "it" : "them"}`,
              ),
              { exitCode: 2 },
            );
          target = { name: values.name as string, namespace: values.namespace as string };
        } else {
          try {
            target = await base.render(positionals, values, io);
          } catch (e) {
            // A render failure is an error of this command (exit 2 for diff/status, as kubectl).
            if (OpmError.is(e) && errorCode === 2 && !(e as { exitCode?: number }).exitCode) Object.assign(e, { exitCode: 2 });
            throw e;
          }
        }
        return run(target, parsed, lineIO(io));
      },
    };
  };
  return {
    apply: make("apply", "Apply a module to a cluster (server-side apply, inventory, prune, wait)", (t, f, io) => runApply(t as RenderResult, f, io), false),
    diff: make("diff", "Show what apply would change (exit 0: nothing, 1: changes, 2: error)", (t, f, io) => runDiff(t as RenderResult, f, io), false),
    status: make("status", "Show the health of a release's objects (exit 0: healthy, 1: not, 2: error)", runStatus, true),
    delete: make("delete", "Delete a release's objects and its inventory", runDelete, true),
  };
}
