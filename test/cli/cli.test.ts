import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { main, type IO } from "../../src/cli/main.js";

function capture(): IO & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    isTTY: false,
    out(t: string) {
      io.stdout += t;
    },
    err(t: string) {
      io.stderr += t;
    },
  };
  return io;
}

async function run(...argv: string[]) {
  const io = capture();
  const code = await main(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe("opm CLI (in process)", () => {
  it("prints help for the tool and for each command", async () => {
    const top = await run("--help");
    expect(top.code).toBe(0);
    for (const c of ["build", "vet", "cue"]) expect(top.stdout).toContain(c);
    for (const c of ["build", "vet", "cue"]) {
      const h = await run(c, "--help");
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/Usage:\n {2}opm /);
      expect(h.stdout).toContain("--namespace");
    }
  });

  it("builds YAML and JSON with namespace and release name", async () => {
    const y = await run("build", "examples/hello/module.ts", "-n", "demo", "--name", "hi");
    expect(y.code).toBe(0);
    const docs = parseAllDocuments(y.stdout).map((d) => d.toJS());
    expect(docs.map((d) => `${d.kind}/${d.metadata.namespace}/${d.metadata.name}`)).toEqual(["Service/demo/hi-web", "Deployment/demo/hi-web"]);
    const j = await run("build", "examples/hello/module.ts", "-n", "demo", "--name", "hi", "-o", "json");
    expect(JSON.parse(j.stdout)).toEqual({ apiVersion: "v1", kind: "List", items: docs });
  });

  it("layers values files, later files winning", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "opm-cli-"));
    writeFileSync(path.join(dir, "a.yaml"), "replicas: 3\nimage: busybox:1\n");
    writeFileSync(path.join(dir, "b.yaml"), "replicas: 4\n");
    const r = await run("build", "examples/hello/module.ts", "-f", path.join(dir, "a.yaml"), "-f", path.join(dir, "b.yaml"), "-o", "json");
    const dep = JSON.parse(r.stdout).items.find((o: { kind: string }) => o.kind === "Deployment");
    expect(dep.spec.replicas).toBe(4);
    expect(dep.spec.template.spec.containers[0].image).toBe("busybox:1");
  });

  it("reports every bad value with file:line, no stack trace, exit 1", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "opm-cli-"));
    const f = path.join(dir, "bad.yaml");
    writeFileSync(f, "replicas: 0\nimage: [1]\n");
    const r = await run("build", "examples/hello/module.ts", "-f", f);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("values.replicas: 0 is less than the minimum 1 [constraint: >=1]");
    expect(r.stderr).toMatch(/bad\.yaml:1:1/);
    expect(r.stderr).toMatch(/values\.image: expected string, got a list .*bad\.yaml:2:1/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("vet says ok or fails like build", async () => {
    const ok = await run("vet", "examples/hello/module.ts");
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/^ok: release hello of example\.com\/modules\/hello@v0 renders 2 objects/);
    const bad = await run("vet", "examples/hello/module.ts", "--name", "NO");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("release.name");
  });

  it("cue prints canonical CUE and --out-dir round-trips through build", async () => {
    const c = await run("cue", "examples/hello/module.ts", "-n", "demo");
    expect(c.code).toBe(0);
    expect(c.stdout).toContain("// --- module.cue\n");
    expect(c.stdout).toContain("#config: {");
    expect(c.stdout).toContain("replicas: int & >=1 & <=20 | *2");
    const dir = mkdtempSync(path.join(tmpdir(), "opm-cue-"));
    const w = await run("cue", "examples/hello/module.ts", "-n", "demo", "--out-dir", dir);
    expect(w.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(["components.cue", "module.cue", "release.cue"]);
    const fromDir = await run("build", dir);
    const fromTs = await run("build", "examples/hello/module.ts", "-n", "demo");
    expect(fromDir.stdout).toBe(fromTs.stdout);
  });

  it("build --out-dir writes one file per object", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "opm-out-"));
    const r = await run("build", "examples/hello/module.ts", "--out-dir", dir);
    expect(r.code).toBe(0);
    const files = readdirSync(dir).sort();
    expect(files).toEqual(["001-service-default-hello-web.yaml", "002-deployment-default-hello-web.yaml"]);
    expect(parseAllDocuments(readFileSync(path.join(dir, files[1]!), "utf8"))[0]!.toJS().kind).toBe("Deployment");
  });

  it("usage mistakes exit 2 with a hint", async () => {
    expect((await run("nope")).code).toBe(2);
    const r = await run("build", "--bogus");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown option '--bogus'/);
    const missing = await run("build", "does/not/exist.ts");
    expect(missing.stderr).toContain("does/not/exist.ts does not exist");
    expect((await run("build", "examples/hello/module.ts", "-o", "xml")).code).toBe(2);
  });

  it("the policy example: warns alone, exits 2 under the platform policies, audits in vet -o json", async () => {
    const alone = await run("build", "examples/policies/module.ts");
    expect(alone.code).toBe(0);
    expect(alone.stderr).toMatch(/^warning: Deployment\/governed-web\.spec\.template\.spec\.containers\[0\]\.image: image "nginx:latest" is not pinned/m);
    const blocked = await run("build", "examples/policies/module.ts", "--policy", "examples/policies/platform.ts");
    expect(blocked.code).toBe(2);
    expect(blocked.stdout).toBe("");
    expect(blocked.stderr).toMatch(
      /error: release governed is blocked by 1 policy violation\n {2}- Deployment\/governed-web\.spec\.replicas: Deployment runs 1 replicas; at least 2 are required/,
    );
    expect(blocked.stderr).toMatch(/warning: .*not from an allowed registry/);
    const report = await run("vet", "examples/policies/module.ts", "-o", "json");
    const json = JSON.parse(report.stdout);
    expect(json.violations.filter((v: { severity: string }) => v.severity === "audit")).toHaveLength(4);
    expect(json.violations.filter((v: { severity: string }) => v.severity === "warn")).toHaveLength(1);
    const badFile = await run("build", "examples/policies/module.ts", "--policy", "examples/hello/module.ts");
    expect(badFile.code).toBe(1);
    expect(badFile.stderr).toContain("must default-export a policy");
  });

  it("a module file that exports something else is explained", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "opm-mod-"));
    const f = path.join(dir, "m.ts");
    writeFileSync(f, "export default { hello: 1 };\n");
    const r = await run("build", f);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("must default-export a Module");
  });
});

describe("opm binary", () => {
  it("runs from bin/opm.js after the build, deterministically", () => {
    const a = execFileSync(process.execPath, ["bin/opm.js", "build", "examples/hello/module.ts"], { encoding: "utf8" });
    const b = execFileSync(process.execPath, ["bin/opm.js", "build", "examples/hello/module.ts"], { encoding: "utf8" });
    expect(a).toBe(b);
    expect(a).toMatch(/^---\napiVersion: v1\nkind: Service\n/);
  });

  it("exits 1 with no stack trace on a user error", () => {
    const r = spawnSync(process.execPath, ["bin/opm.js", "build", "examples/hello/module.ts", "--name", "BAD"], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: 1 validation error\n {2}- release\.name: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
