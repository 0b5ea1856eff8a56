import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, type IO } from "../../src/cli/main.js";
import { TestKubeApiServer } from "../support/kube-api-server.js";

function capture(): IO & { stdout: string; stderr: string } {
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
  return io;
}

async function run(...argv: string[]) {
  const io = capture();
  const code = await main(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe("opm apply | diff | status | delete through the CLI (test API server)", () => {
  let server: TestKubeApiServer;
  let kubeconfig: string;
  let dir: string;
  beforeAll(async () => {
    server = await TestKubeApiServer.start({ autoReady: true });
    dir = mkdtempSync(path.join(tmpdir(), "opm-lc-"));
    kubeconfig = path.join(dir, "kubeconfig");
    writeFileSync(kubeconfig, server.kubeConfig().exportConfig());
  });
  afterAll(async () => server?.stop());

  it("applies with --create-namespace, diffs clean, reports healthy, changes, prunes, deletes", async () => {
    const k = ["--kubeconfig", kubeconfig];
    const first = await run("apply", "examples/hello/module.ts", "-n", "demo", "--create-namespace", "--wait", ...k);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/release hello in demo: 2 created, 0 configured, 0 unchanged, 0 pruned/);
    const dep = server.get("apps/v1", "Deployment", "demo", "hello-web");
    expect(dep?.metadata?.labels?.["app.kubernetes.io/managed-by"]).toBe("opm");

    expect((await run("diff", "examples/hello/module.ts", "-n", "demo", ...k)).code).toBe(0);
    const st = await run("status", "--name", "hello", "-n", "demo", ...k);
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(/Deployment\s+demo\s+hello-web\s+web\s+Current/);

    const values = path.join(dir, "v.yaml");
    writeFileSync(values, "replicas: 4\n");
    const changed = await run("diff", "examples/hello/module.ts", "-n", "demo", "-f", values, ...k);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(/[-+]\s+replicas: [24]/);

    const second = await run("apply", "examples/hello/module.ts", "-n", "demo", "-f", values, ...k);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/1 configured, 1 unchanged/);

    const del = await run("delete", "--name", "hello", "-n", "demo", ...k);
    expect(del.code).toBe(0);
    expect(server.get("apps/v1", "Deployment", "demo", "hello-web")).toBeUndefined();
    expect((await run("delete", "--name", "hello", "-n", "demo", ...k)).code).toBe(0);
  });

  it("status without a module or a name is a usage error; diff of a bad module exits 2", async () => {
    const r = await run("status", "--kubeconfig", kubeconfig);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("needs a module, or --name and -n");
    const bad = await run("diff", "examples/hello/module.ts", "--name", "BAD", "--kubeconfig", kubeconfig);
    expect(bad.code).toBe(2);
  });

  it("records audit violations in the inventory history", async () => {
    const r = await run("apply", "examples/policies/module.ts", "-n", "gov", "--create-namespace", "--kubeconfig", kubeconfig);
    expect(r.code).toBe(0);
    const st = await run("status", "--name", "governed", "-n", "gov", "-o", "json", "--kubeconfig", kubeconfig);
    const report = JSON.parse(st.stdout);
    const last = report.history[report.history.length - 1];
    expect(last.violations.filter((v: { severity: string }) => v.severity === "audit")).toHaveLength(4);
  });
});
