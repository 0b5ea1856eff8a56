/**
 * Output a user can pipe: `-o json` is a kubectl-compatible v1 List, Secrets can be shown or left
 * out, the README's commands work as written, and a reader that stops early is not an error.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { TestKubeApiServer } from "../support/kube-api-server.js";
import { BIN, opm, REPO, runProgram } from "../support/opm-cli.js";

describe("opm build -o json", () => {
  it("prints a v1 List that kubectl accepts", async () => {
    const r = await opm(["build", "examples/hello/module.ts", "-n", "demo", "-o", "json"]);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout);
    expect(Object.keys(list)).toEqual(["apiVersion", "kind", "items"]);
    expect(list).toMatchObject({ apiVersion: "v1", kind: "List" });
    expect(list.items.map((o: { kind: string }) => o.kind)).toEqual(["Service", "Deployment"]);
    const server = await TestKubeApiServer.start();
    try {
      // (the test API server serves discovery but no OpenAPI schema, hence --validate=false)
      const k = await runProgram(
        "kubectl",
        ["apply", "--dry-run=client", "--validate=false", "-o", "name", "-f", "-", "--kubeconfig", server.kubeconfigPath],
        r.stdout,
      );
      expect(k.stderr).toBe("");
      expect(k.stdout).toBe("service/hello-web\ndeployment.apps/hello-web\n");
      expect(k.code).toBe(0);
    } finally {
      await server.stop();
    }
  });

  it("the README's second command works as written, from the repository root", async () => {
    const readme = readFileSync(path.join(REPO, "README.md"), "utf8");
    const line = readme.split("\n").find((l) => l.startsWith("npx opm build") && l.includes("-o json"))!;
    const args = line
      .replace(/\s+#.*$/, "")
      .split(/\s+/)
      .slice(2);
    expect(args).toContain("examples/hello/prod.yaml");
    const r = await opm(args);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const dep = JSON.parse(r.stdout).items.find((o: { kind: string }) => o.kind === "Deployment");
    expect(dep.spec.replicas).toBe(3);
  });

  it("--out-dir writes one .json file per object with -o json", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "opm-json-"));
    const r = await opm(["build", "examples/hello/module.ts", "-o", "json", "--out-dir", dir]);
    expect(r.code).toBe(0);
    const files = readdirSync(dir).sort();
    expect(files).toEqual(["001-service-default-hello-web.json", "002-deployment-default-hello-web.json"]);
    expect(JSON.parse(readFileSync(path.join(dir, files[1]!), "utf8")).kind).toBe("Deployment");
  });
});

describe("Secrets in piped output", () => {
  const PW = "s3cr3t-pipe-value";
  const secretArgs = (dir: string) => ["examples/secrets/module.ts", "--secret", `db.password=@${path.join(dir, "pw.txt")}`];

  it("are redacted by default, shown with --show-secrets, left out with --exclude-secrets", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "opm-sec-"));
    writeFileSync(path.join(dir, "pw.txt"), PW + "\n");
    const b64 = Buffer.from(PW).toString("base64");
    const kinds = (y: string) => parseAllDocuments(y).map((d) => d.toJS().kind as string);

    // (one after another: run at once on a loaded machine, each could reach the engine's timeout)
    const plain = await opm(["build", ...secretArgs(dir)]);
    const show = await opm(["build", ...secretArgs(dir), "--show-secrets", "-o", "json"]);
    const excluded = [];
    for (const format of ["yaml", "json"]) excluded.push(await opm(["build", ...secretArgs(dir), "--exclude-secrets", "-o", format]));
    expect(plain!.code).toBe(0);
    expect(kinds(plain!.stdout)).toContain("Secret");
    expect(plain!.stdout).toContain("<redacted>");
    expect(plain!.stdout).not.toContain(b64);

    const secret = JSON.parse(show!.stdout).items.find((o: { kind: string }) => o.kind === "Secret");
    expect(Object.values(secret.data)).toContain(b64);

    for (const [i, out] of excluded.entries()) {
      expect(out.code).toBe(0);
      const ks = i === 1 ? JSON.parse(out.stdout).items.map((o: { kind: string }) => o.kind) : kinds(out.stdout);
      expect(ks).not.toContain("Secret");
      expect(ks).toEqual(kinds(plain!.stdout).filter((k) => k !== "Secret"));
      expect(out.stdout).not.toContain("<redacted>");
      expect(out.stdout).not.toContain(b64);
    }
  }, 480_000);
});

describe("a reader that stops early", () => {
  it("ends opm quietly (no EPIPE stack), exit 0", async () => {
    const child = spawn(process.execPath, [BIN, "build", "examples/hello/module.ts"], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    // Like `| head -1`: read the first chunk, then close our end of the pipe.
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(code).toBe(0);
  });
});
