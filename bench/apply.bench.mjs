// Benchmark: apply 100 rendered objects to the in-repo test API server, beside
// `kubectl apply --server-side -f` of the same YAML to the same server (when kubectl works).
// Run: npm run bench:apply   (node --import tsx bench/apply.bench.mjs)
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { apply, KubeClient } from "../src/apply/index.ts";
import { TestKubeApiServer } from "../test/support/kube-api-server.ts";
import { configMap, deployment, fakeRender, secret, service } from "../test/support/render-result.ts";

const N = 100;
function objects() {
  const out = [];
  for (let i = 0; i < N / 4; i++) {
    const n = `app-${String(i).padStart(3, "0")}`;
    out.push(configMap(`${n}-cfg`, { key: `value-${i}` }), secret(`${n}-sec`, { password: `pw-${i}` }), service(n), deployment(n, { replicas: 2 }));
  }
  return out;
}

function run(cmd, args) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const server = await TestKubeApiServer.start({ autoReady: true });
const results = [];
try {
  const client = new KubeClient({ kubeConfig: server.kubeConfig() });
  const r = fakeRender(objects(), { name: "bench", namespace: "bench-opm" });
  let t0 = process.hrtime.bigint();
  const first = await apply(r, { client, createNamespace: true });
  results.push(["opm apply (create, 100 objects)", ms(t0), first.objects.filter((o) => o.action === "created").length]);
  t0 = process.hrtime.bigint();
  const second = await apply(r, { client });
  results.push(["opm apply (unchanged)", ms(t0), second.objects.filter((o) => o.action === "unchanged").length]);
  const r2 = fakeRender(objects().map((o) => (o.kind === "ConfigMap" ? { ...o, data: { key: "changed" } } : o)), { name: "bench", namespace: "bench-opm" });
  t0 = process.hrtime.bigint();
  const third = await apply(r2, { client });
  results.push(["opm apply (25 configured)", ms(t0), third.objects.filter((o) => o.action === "configured").length]);

  // kubectl, same YAML (another namespace of the same server).
  const kubectl = "/usr/bin/kubectl";
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opm-bench-"));
  const kr = fakeRender(objects(), { name: "bench", namespace: "bench-kubectl" });
  const file = path.join(dir, "objects.yaml");
  fs.writeFileSync(file, kr.objects.map((o) => stringify(o)).join("---\n"));
  const ok = fs.existsSync(kubectl) && spawnSync(kubectl, ["version", "--client"], { encoding: "utf8" }).status === 0;
  if (ok) {
    server.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "bench-kubectl" } });
    const args = ["apply", "--server-side", "--validate=false", "-f", file, "--kubeconfig", server.kubeconfigPath];
    for (const label of ["kubectl apply --server-side (create)", "kubectl apply --server-side (unchanged)"]) {
      t0 = process.hrtime.bigint();
      // Asynchronous: the API server runs in this process and must keep answering.
      const res = await run(kubectl, args);
      const t = ms(t0);
      if (res.status !== 0) {
        results.push([label, NaN, `failed: ${(res.stderr || res.stdout).trim().split("\n").slice(0, 3).join(" | ")}`]);
        break;
      }
      results.push([label, t, res.stdout.trim().split("\n").length]);
    }
    const ver = spawnSync(kubectl, ["version", "--client"], { encoding: "utf8" }).stdout.split("\n")[0];
    results.push([`(kubectl: ${ver})`, NaN, ""]);
  } else results.push(["kubectl not available: skipped", NaN, ""]);
  fs.rmSync(dir, { recursive: true, force: true });
} finally {
  await server.stop();
}
for (const [label, t, n] of results) console.log(`${label.padEnd(44)} ${Number.isNaN(t) ? "" : `${t.toFixed(0).padStart(6)} ms`}  ${n}`);
