// --cluster-domain and --eval-timeout on the command line.
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { main, type IO } from "../../src/cli/main.js";

async function run(...argv: string[]) {
  const io = {
    stdout: "",
    stderr: "",
    isTTY: false,
    out: (t: string) => {
      io.stdout += t;
    },
    err: (t: string) => {
      io.stderr += t;
    },
  };
  const code = await main(argv, io as IO);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe("release flags for references", () => {
  it("--name, -n and --cluster-domain reach every reference", async () => {
    const r = await run("build", "examples/three-tier/module.ts", "--name", "store", "-n", "prod", "--cluster-domain", "corp.example");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const api = parseAllDocuments(r.stdout)
      .map((d) => d.toJS())
      .find((o) => o.kind === "Deployment" && o.metadata.name === "store-api");
    expect(api.spec.template.spec.containers[0].env[0]).toEqual({ name: "DATABASE_HOST", value: "store-db.prod.svc.corp.example" });
    const cue = await run("cue", "examples/three-tier/module.ts", "--cluster-domain", "corp.example");
    expect(cue.stdout).toContain('clusterDomain: "corp.example"');
    const bad = await run("vet", "examples/three-tier/module.ts", "--cluster-domain", "Not A Domain");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('release.clusterDomain: "Not A Domain" is not a DNS domain such as cluster.local');
    expect(bad.stderr).toContain("command line (--cluster-domain)");
  }, 120_000);

  it("--eval-timeout takes a duration and is documented in --help", async () => {
    const bad = await run("build", "examples/hello/module.ts", "--eval-timeout", "soon");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--eval-timeout "soon" is not a duration: use e.g. 90s, 2m or a number of seconds');
    const help = await run("build", "--help");
    expect(help.stdout).toContain("--eval-timeout <duration>");
    expect(help.stdout).toContain("--cluster-domain <domain>");
    // A limit no evaluation of a module can meet (with the result cache off, so it is evaluated):
    // the error gives the limit and the elapsed time.
    const before = process.env.OPM_RENDER_CACHE;
    process.env.OPM_RENDER_CACHE = "off";
    const slow = await run("build", "examples/hello/module.ts", "--eval-timeout", "1ms").finally(() => {
      if (before === undefined) delete process.env.OPM_RENDER_CACHE;
      else process.env.OPM_RENDER_CACHE = before;
    });
    expect(slow.code).toBe(1);
    expect(slow.stderr).toMatch(/did not finish within the 1 ms limit and was stopped \(\d+ ms after it was asked for\); raise the limit with --eval-timeout/);
  }, 120_000);
});
