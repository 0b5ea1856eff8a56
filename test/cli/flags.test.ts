/**
 * No silently ignored flags: --name / -n win over a CUE folder's own release.cue on every
 * command that takes a module, each flag is blamed only for its own value, and flags a command
 * would not use are refused (exit 2) rather than ignored. Runs the built CLI as a user would.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { TestKubeApiServer } from "../support/kube-api-server.js";
import { opm, scratchProject } from "../support/opm-cli.js";

const ids = (yaml: string) =>
  parseAllDocuments(yaml)
    .map((d) => d.toJS())
    .map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}/${o.metadata.labels["module-release.opmodel.dev/name"]}`);

describe("--name and -n win over a folder's release.cue", () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "opm-rel-"));
    const r = await opm(["cue", "examples/hello/module.ts", "--out-dir", dir]);
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(dir, "release.cue"), "utf8")).toContain('namespace: "default"');
  });

  it("build and vet use the flags, not the file", async () => {
    const b = await opm(["build", dir, "-n", "demo", "--name", "foo"]);
    expect(b.stderr).toBe("");
    expect(b.code).toBe(0);
    expect(ids(b.stdout)).toEqual(["Service/demo/foo-web/foo", "Deployment/demo/foo-web/foo"]);
    const only = await opm(["build", dir, "-n", "demo"]);
    expect(ids(only.stdout)).toEqual(["Service/demo/hello-web/hello", "Deployment/demo/hello-web/hello"]);
    const v = await opm(["vet", dir, "--name", "foo", "-n", "demo", "-o", "json"]);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout).release).toMatchObject({ name: "foo", namespace: "demo" });
  }, 180_000);

  it("apply, status and delete use the flags too", async () => {
    const server = await TestKubeApiServer.start();
    try {
      const k = ["--kubeconfig", server.kubeconfigPath];
      const a = await opm(["apply", dir, "-n", "demo", "--name", "foo", "--create-namespace", ...k]);
      expect(a.stderr).toBe("");
      expect(a.code).toBe(0);
      expect(a.stdout).toContain("release foo in demo: 2 created");
      expect(server.get("apps/v1", "Deployment", "demo", "foo-web")).toBeDefined();
      expect(server.get("apps/v1", "Deployment", "default", "hello-web")).toBeUndefined();
      const s = await opm(["status", dir, "-n", "demo", "--name", "foo", "-o", "json", ...k]);
      expect(JSON.parse(s.stdout).release).toMatchObject({ name: "foo", namespace: "demo" });
      const d = await opm(["delete", dir, "-n", "demo", "--name", "foo", ...k]);
      expect(d.code).toBe(0);
      expect(d.stdout).toContain("release foo deleted from demo: 2 objects");
    } finally {
      await server.stop();
    }
  }, 240_000);

  it("a release.cue without a namespace gets the flag's; a computed name is refused, not ignored", async () => {
    const noNs = mkdtempSync(path.join(tmpdir(), "opm-rel-"));
    for (const f of ["module.cue", "components.cue"]) writeFileSync(path.join(noNs, f), readFileSync(path.join(dir, f)));
    const rel = readFileSync(path.join(dir, "release.cue"), "utf8");
    writeFileSync(path.join(noNs, "release.cue"), rel.replace(/\n\s*namespace: "default"/, ""));
    const b = await opm(["build", noNs, "-n", "demo"]);
    expect(b.code).toBe(0);
    expect(ids(b.stdout)).toEqual(["Service/demo/hello-web/hello", "Deployment/demo/hello-web/hello"]);

    writeFileSync(path.join(noNs, "release.cue"), rel.replace('name:      "hello"', 'name:      "hel" + "lo"'));
    const c = await opm(["build", noNs, "--name", "foo"]);
    expect(c.code).toBe(2);
    expect(c.stdout).toBe("");
    expect(c.stderr).toMatch(/^error: --name cannot replace metadata\.name in .*release\.cue:12: the file sets it to an expression/);
  }, 180_000);
});

describe("each flag is blamed for its own value only", () => {
  const badModule = `import { config, defineModule } from "opm-ts";
import { StatelessWorkload } from "opm-ts/catalog";

export default defineModule({
  metadata: { modulePath: "example.com/modules", name: "Hello_World", version: "0.1.0" },
  config: { image: config.string().default("nginx:1.27") },
  components: (cfg) => ({ web: StatelessWorkload({ container: { image: cfg.image }, scaling: { count: 1 } }) }),
});
`;

  it("a bad module name is reported on the module, not on -n", async () => {
    const proj = scratchProject({ "module.ts": badModule });
    const r = await opm(["build", "module.ts", "-n", "demo"], { cwd: proj });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: 1 validation error\n {2}- metadata\.name: "Hello_World" is not a valid name.* \(module\.ts:4:\d+\)\n$/);
    expect(r.stderr).not.toContain("command line");
  });

  it("--name and -n are each blamed for their own bad value; an empty one is not ignored", async () => {
    const r = await opm(["build", "examples/hello/module.ts", "-n", "Demo", "--name", "ok"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/release\.namespace: "Demo" is not a valid name.*\(command line \(-n\)\)/);
    expect(r.stderr).not.toMatch(/release\.name:/);
    const e = await opm(["build", "examples/hello/module.ts", "--name", ""]);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/release\.name: "" is not a valid name.*\(command line \(--name\)\)/);
  }, 180_000);
});

describe("flags a command would not use are refused with exit 2", () => {
  const cases: [string, string[], RegExp][] = [
    [
      "a second module or values file without -f",
      ["build", "examples/hello/module.ts", "prod.yaml"],
      /opm build takes one argument; unexpected "prod\.yaml" \(to layer values files, give -f before each one\)/,
    ],
    ["--policy on cue (cue checks no policy)", ["cue", "examples/hello/module.ts", "--policy", "examples/policies/platform.ts"], /Unknown option '--policy'/],
    ["an unknown vet output", ["vet", "examples/hello/module.ts", "-o", "yaml"], /-o must be text or json, not "yaml"/],
    [
      "values for a status read from the inventory",
      ["status", "--name", "a", "-n", "b", "-f", "x.yaml"],
      /reads the release's inventory and renders nothing: -f would be ignored/,
    ],
    [
      "secrets and policies for a delete from the inventory",
      ["delete", "--name", "a", "-n", "b", "--secret", "x=env:X", "--policy", "p.ts"],
      /--secret, --policy would be ignored/,
    ],
    ["--wait on a server dry run", ["apply", "examples/hello/module.ts", "--dry-run", "server", "--wait"], /--wait cannot be combined with --dry-run=server/],
    ["--wait on delete (delete always waits, up to --timeout)", ["delete", "--name", "a", "-n", "b", "--wait"], /Unknown option '--wait'/],
    [
      "--show-secrets with --exclude-secrets",
      ["build", "examples/hello/module.ts", "--show-secrets", "--exclude-secrets"],
      /--show-secrets and --exclude-secrets contradict each other/,
    ],
    ["a bad --timeout, before anything is rendered", ["apply", "examples/hello/module.ts", "--timeout", "xx"], /--timeout: invalid duration "xx"/],
    ["a catalog query with two entries", ["catalog", "expose", "scaling"], /opm catalog takes one argument; unexpected "scaling"/],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const r = await opm(args);
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    });
  }
});
