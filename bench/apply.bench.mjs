// Benchmark: `opm apply` of 100 objects (cold, then unchanged) beside `kubectl apply --server-side`
// of the same manifests to the same API server, in the same run.
//
//   OPM_BENCH_KUBECONFIG=path npm run bench:apply     a real cluster (falls back to OPM_E2E_KUBECONFIG)
//   npm run bench:apply                                 the in-repo test API server (no cluster needed)
//
// Each round uses two fresh namespaces (one per tool) and deletes them afterwards. The median of
// OPM_BENCH_ROUNDS rounds (default 3) is printed, with peak RSS (opm: this process, which runs opm
// in-process; kubectl: /usr/bin/time when present) and the server's version.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { apply, KubeClient } from "../src/apply/index.ts";
import { TestKubeApiServer } from "../test/support/kube-api-server.ts";
import { configMap, deployment, fakeRender, secret, service } from "../test/support/render-result.ts";

const N = 100;
const ROUNDS = Number(process.env.OPM_BENCH_ROUNDS ?? 3);
const kubeconfigEnv = process.env.OPM_BENCH_KUBECONFIG ?? process.env.OPM_E2E_KUBECONFIG;

/** 25 × (ConfigMap, Secret, Service, Deployment with 0 replicas): 100 objects, no pods. */
function objects() {
  const out = [];
  for (let i = 0; i < N / 4; i++) {
    const n = `app-${String(i).padStart(3, "0")}`;
    out.push(configMap(`${n}-cfg`, { key: `value-${i}` }), secret(`${n}-sec`, { password: `pw-${i}` }), service(n), deployment(n, { replicas: 0 }));
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
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

let server;
let kubeconfigPath = kubeconfigEnv;
if (!kubeconfigEnv) {
  server = await TestKubeApiServer.start({ autoReady: true });
  kubeconfigPath = server.kubeconfigPath;
}
const client = new KubeClient({ kubeconfig: kubeconfigPath });
const kubectl = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" }).status === 0 ? "kubectl" : undefined;
const timeBin = fs.existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opm-bench-"));
const times = { opmCold: [], opmSame: [], kCold: [], kSame: [] };
let kubectlRss = 0;
let serverVersion = "in-repo test API server";
try {
  if (!server) {
    const v = spawnSync("kubectl", ["--kubeconfig", kubeconfigPath, "version", "-o", "json"], { encoding: "utf8" });
    try {
      serverVersion = `kube-apiserver ${JSON.parse(v.stdout).serverVersion.gitVersion}`;
    } catch {
      serverVersion = "unknown";
    }
  }
  const tag = Date.now().toString(36);
  for (let round = 0; round < ROUNDS; round++) {
    const nsOpm = `opm-bench-${tag}-${round}-opm`;
    const nsK = `opm-bench-${tag}-${round}-kubectl`;
    const r = fakeRender(objects(), { name: "bench", namespace: nsOpm });
    // opm: a fresh client per apply, as one `opm apply` process has (discovery is not cached across).
    let t0 = process.hrtime.bigint();
    const first = await apply(r, { kubeconfig: kubeconfigPath, createNamespace: true });
    times.opmCold.push(ms(t0));
    if (first.objects.filter((o) => o.action === "created").length !== N) throw new Error("opm cold apply did not create 100 objects");
    t0 = process.hrtime.bigint();
    const second = await apply(r, { kubeconfig: kubeconfigPath });
    times.opmSame.push(ms(t0));
    if (second.objects.some((o) => o.action !== "unchanged")) throw new Error("opm re-apply changed something");

    if (kubectl) {
      const kr = fakeRender(objects(), { name: "bench", namespace: nsK });
      const file = path.join(dir, `objects-${round}.yaml`);
      fs.writeFileSync(file, kr.objects.map((o) => stringify(o)).join("---\n"));
      await client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: nsK } }, { fieldManager: "opm-bench" });
      const args = ["apply", "--server-side", "-f", file, "--kubeconfig", kubeconfigPath, ...(server ? ["--validate=false"] : [])];
      for (const key of ["kCold", "kSame"]) {
        t0 = process.hrtime.bigint();
        // Asynchronous: with the in-repo server, it runs in this process and must keep answering.
        const res = timeBin ? await run(timeBin, ["-f", "%M", kubectl, ...args]) : await run(kubectl, args);
        const t = ms(t0);
        if (res.status !== 0) throw new Error(`kubectl failed: ${(res.stderr || res.stdout).trim().split("\n").slice(0, 3).join(" | ")}`);
        times[key].push(t);
        if (timeBin) kubectlRss = Math.max(kubectlRss, Number(res.stderr.trim().split("\n").at(-1)) || 0);
      }
    }
    for (const ns of [nsOpm, nsK]) await client.delete({ apiVersion: "v1", kind: "Namespace", name: ns }).catch(() => {});
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
  client.close();
  await server?.stop();
}

const rss = process.resourceUsage().maxRSS / 1024;
const row = (label, xs, ref) => {
  const m = median(xs);
  const ratio = ref?.length ? `  ${(m / median(ref)).toFixed(2)}× kubectl` : "";
  console.log(`${label.padEnd(40)} ${m.toFixed(0).padStart(6)} ms  (runs: ${xs.map((x) => x.toFixed(0)).join(", ")})${ratio}`);
};
console.log(
  `server: ${serverVersion}; ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}; load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}; node ${process.version}`,
);
console.log(`${N} objects (25 × ConfigMap, Secret, Service, Deployment), median of ${ROUNDS} rounds`);
row("opm apply (cold: create)", times.opmCold, times.kCold);
row("opm apply (unchanged)", times.opmSame, times.kSame);
if (kubectl) {
  row("kubectl apply --server-side (cold)", times.kCold);
  row("kubectl apply --server-side (unchanged)", times.kSame);
} else console.log("kubectl not available: skipped");
console.log(`peak RSS: opm (this process) ${rss.toFixed(0)} MiB${kubectlRss ? `; kubectl ${(kubectlRss / 1024).toFixed(0)} MiB` : ""}`);
