// npm run bench: render speed of generated modules, beside cdk8s.
//
// For each size (components, each a StatelessWorkload with Scaling and Expose) a fresh
// Node process measures: engine start, the cold render (import + engine start + first
// render + YAML), warm renders (median of repeats, with YAML), and the process's peak
// RSS (worker thread included). The same Deployments and Services are then built and
// synthesised with cdk8s in this process. The figures are printed and written into
// docs/performance.md between the bench:render markers (skip with --no-write).
//
//   node bench/render.bench.mjs [--sizes 1,10,50,200] [--no-write]
import { execFileSync, execFile, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const args = process.argv.slice(2);
const arg = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const repeatsFor = (n) => (n <= 10 ? 9 : n <= 50 ? 5 : 3);

// ---------------------------------------------------------------- child: one case, fresh process

/** Extra cases beside the sizes: the multi-component example and a many-traits module. */
const CASES = {
  "example shop (multi-component)": async () => {
    const { importModuleFile } = await import("../dist/src/cli/load.js");
    const m = await importModuleFile(path.join(root, "examples", "shop", "module.ts"));
    return m.kind === "Module" ? m.release() : m;
  },
  "many traits, 10 components": async () => (await import("./modules.mjs")).manyTraitsModule(10).then((m) => m.release({ name: "bench", namespace: "bench" })),
};

async function caseChild(name) {
  const { render, Engine } = await import("../dist/src/index.js");
  const release = await CASES[name]();
  const engine = new Engine({ timeoutMs: 600_000 });
  await engine.start();
  const first = await render(release, { engine, cache: false });
  const warm = [];
  for (let i = 0; i < 5; i++) {
    const w0 = performance.now();
    (await render(release, { engine, cache: false })).yaml();
    warm.push(performance.now() - w0);
  }
  await engine.close();
  console.log(JSON.stringify({ name, objects: first.objects.length, warmMs: median(warm) }));
}

async function child(n) {
  const t0 = performance.now();
  const { render, Engine } = await import("../dist/src/index.js");
  const { statelessModule } = await import("./modules.mjs");
  const tImport = performance.now();
  const release = statelessModule(n).release({ name: "bench", namespace: "bench" });
  const engine = new Engine({ timeoutMs: 600_000 });
  const s0 = performance.now();
  await engine.start();
  const startMs = performance.now() - s0;
  const c0 = performance.now();
  const first = await render(release, { engine, cache: false });
  first.yaml();
  const firstRenderMs = performance.now() - c0;
  const coldMs = performance.now() - t0;
  const warm = [];
  const stats = [];
  for (let i = 0; i < repeatsFor(n); i++) {
    const st = {};
    const w0 = performance.now();
    const r = await render(release, { engine, stats: st, cache: false });
    r.yaml();
    warm.push(performance.now() - w0);
    stats.push(st);
  }
  // Cached: an unchanged re-render answered from memory, and from the disk cache (memory cleared).
  const { resultCache } = await import("../dist/src/engine/engine.js");
  (await render(release, { engine })).yaml();
  await resultCache().flush();
  const cached = [];
  const cachedDisk = [];
  for (let i = 0; i < 7; i++) {
    const m0 = performance.now();
    (await render(release, { engine })).yaml();
    cached.push(performance.now() - m0);
    resultCache().clearMemory();
    const d0 = performance.now();
    (await render(release, { engine })).yaml();
    cachedDisk.push(performance.now() - d0);
  }
  // One component changed: the unchanged release is cached, one component runs another image.
  const changed = [];
  for (let i = 0; i < 5; i++) {
    (await render(release, { engine })).yaml();
    const other = statelessModule(n, { changed: (i * 7) % n, tag: `1.28.${i}` }).release({ name: "bench", namespace: "bench" });
    const c0 = performance.now();
    (await render(other, { engine })).yaml();
    changed.push(performance.now() - c0);
  }
  await engine.close();
  const mid = stats[warm.indexOf(median(warm))] ?? stats[0];
  process.stdout.write(
    JSON.stringify({
      n,
      objects: first.objects.length,
      importMs: tImport - t0,
      startMs,
      firstRenderMs,
      coldMs,
      warmMs: median(warm),
      warmAll: warm,
      cachedMs: median(cached),
      cachedDiskMs: median(cachedDisk),
      changedMs: median(changed),
      mode: mid?.mode,
      stages: mid?.stages,
      evalMs: mid?.evalMs,
      programBytes: mid?.programBytes,
      rssMB: process.resourceUsage().maxRSS / 1024,
    }) + "\n",
  );
}

// ---------------------------------------------------------------- cdk8s: the same objects

async function cdk8sSynth(n) {
  const { App, Chart, ApiObject } = await import("cdk8s");
  const app = new App();
  const chart = new Chart(app, "bench", { namespace: "bench" });
  for (let i = 0; i < n; i++) {
    const name = `bench-web-${i}`;
    const labels = {
      "app.kubernetes.io/name": `bench-${n}`,
      "app.kubernetes.io/instance": "bench",
      "app.kubernetes.io/version": "1.0.0",
      "app.kubernetes.io/managed-by": "opm",
      "component.opmodel.dev/name": `web-${i}`,
    };
    const selector = { "app.kubernetes.io/instance": "bench", "component.opmodel.dev/name": `web-${i}` };
    new ApiObject(chart, `${name}-svc`, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, labels },
      spec: { type: "ClusterIP", selector, ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }] },
    });
    new ApiObject(chart, `${name}-deploy`, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, labels },
      spec: {
        replicas: 2,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: `web-${i}`, image: "nginx:1.27", ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }] }] },
        },
      },
    });
  }
  return app.synthYaml();
}

async function cdk8sTime(n) {
  await cdk8sSynth(n); // warm up
  const times = [];
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    await cdk8sSynth(n);
    times.push(performance.now() - t);
  }
  return median(times);
}

// ---------------------------------------------------------------- fresh caches

/**
 * A fresh cache folder for one child process: an empty result cache, with the decompressed
 * cue-wasm module linked in (the "wasm cache warm" state of a second run after install).
 */
function freshCacheDir() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "opm-bench-"));
  const shared = path.join(root, "node_modules", ".cache", "opm-ts");
  for (const f of existsSync(shared) ? readdirSync(shared) : []) if (/^cue-wasm-.*\.wasm$/.test(f)) symlinkSync(path.join(shared, f), path.join(dir, f));
  return dir;
}

function childEnv() {
  const dir = freshCacheDir();
  return { env: { ...process.env, OPM_CACHE_DIR: dir }, dir };
}

/** Wall and CPU time of a command in a new process (CPU from /usr/bin/time when there is one). */
function timed(cmd, argv, env) {
  const timeBin = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
  const t0 = performance.now();
  const r = timeBin
    ? spawnSync(timeBin, ["-f", "%U %S", cmd, ...argv], { cwd: root, env, encoding: "utf8", maxBuffer: 1 << 26 })
    : spawnSync(cmd, argv, { cwd: root, env, encoding: "utf8", maxBuffer: 1 << 26 });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed: ${r.stderr}`);
  const last = timeBin ? r.stderr.trim().split("\n").pop().split(" ").map(Number) : undefined;
  return { wallMs, cpuMs: last ? (last[0] + last[1]) * 1000 : undefined };
}

/** `opm build examples/hello/module.ts` in a new process with an empty result cache (5 runs). */
function coldBuild(runs = 5) {
  const out = [];
  for (let i = 0; i < runs; i++) {
    const { env, dir } = childEnv();
    out.push(timed(process.execPath, ["bin/opm.js", "build", "examples/hello/module.ts"], env));
    rmSync(dir, { recursive: true, force: true });
  }
  return { wallMs: median(out.map((o) => o.wallMs)), cpuMs: median(out.map((o) => o.cpuMs ?? NaN)), all: out.map((o) => Math.round(o.wallMs)) };
}

/** The first render() in a fresh vitest worker (bench/first-render.vitest.ts), empty result cache (5 runs). */
function firstVitestRender(runs = 5) {
  const out = [];
  for (let i = 0; i < runs; i++) {
    const { env, dir } = childEnv();
    const file = path.join(dir, "out.json");
    const vitest = path.join(root, "node_modules", "vitest", "vitest.mjs");
    timed(process.execPath, [vitest, "run", "-c", "bench/vitest.config.ts", "bench/first-render.vitest.ts"], { ...env, OPM_BENCH_OUT: file });
    out.push(JSON.parse(readFileSync(file, "utf8")).firstRenderMs);
    rmSync(dir, { recursive: true, force: true });
  }
  return { ms: median(out), all: out.map(Math.round) };
}

// ---------------------------------------------------------------- report

function machine() {
  let mem = "";
  try {
    mem = execFileSync("free", ["-h"], { encoding: "utf8" }).replace(/\s+$/, "");
  } catch {
    mem = `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB total`;
  }
  return {
    date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpu: os.cpus()[0]?.model ?? "unknown",
    node: process.version,
    mem,
    load: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(", "),
  };
}

const f0 = (x) => (x === undefined ? "-" : x < 10 ? x.toFixed(1) : Math.round(x).toString());

function table(rows) {
  const lines = [
    "| components | objects | render | engine start ms | cold ms | uncached warm ms | of which eval ms | cached ms (memory) | cached ms (disk) | 1 changed ms | program KiB | peak RSS MB | cdk8s synth ms | uncached / cdk8s | cached / cdk8s |",
    "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.n} | ${r.objects} | ${r.mode ?? "-"} | ${f0(r.startMs)} | ${f0(r.coldMs)} | ${f0(r.warmMs)} | ${f0(r.evalMs)} | ${f0(r.cachedMs)} | ${f0(r.cachedDiskMs)} | ${f0(r.changedMs)} | ${f0(r.programBytes / 1024)} | ${f0(r.rssMB)} | ${f0(r.cdk8sMs)} | ${f0(r.warmMs / r.cdk8sMs)}× | ${f0(r.cachedMs / r.cdk8sMs)}× |`,
    );
  }
  return lines.join("\n");
}

async function main() {
  const sizes = (arg("--sizes") ?? "1,10,50,200").split(",").map(Number);
  const m = machine();
  console.log(`opm-ts render benchmark — ${m.date}, node ${m.node}, ${m.nproc} CPUs (${m.cpu}), load ${m.load}`);
  const startRows = [];
  if (!args.includes("--no-start")) {
    const version = [];
    for (let i = 0; i < 7; i++) version.push(timed(process.execPath, ["bin/opm.js", "--version"], process.env));
    const nodeOnly = [];
    for (let i = 0; i < 7; i++) nodeOnly.push(timed(process.execPath, ["-e", "0"], process.env));
    const build = coldBuild();
    const vit = firstVitestRender();
    const row = (what, wall, cpu, note = "") => `| ${what} | ${f0(wall)} | ${cpu === undefined || Number.isNaN(cpu) ? "-" : f0(cpu)} | ${note} |`;
    startRows.push(
      row("`node -e 0` (Node itself, for reference)", median(nodeOnly.map((o) => o.wallMs)), median(nodeOnly.map((o) => o.cpuMs ?? NaN)), "median of 7"),
      row("`opm --version`", median(version.map((o) => o.wallMs)), median(version.map((o) => o.cpuMs ?? NaN)), "median of 7"),
      row(
        "cold `opm build examples/hello/module.ts` (new process, empty result cache, wasm cache warm)",
        build.wallMs,
        build.cpuMs,
        `median of 5: ${build.all.join(", ")}`,
      ),
      row("first `render()` in a fresh vitest worker (empty result cache)", vit.ms, undefined, `median of 5: ${vit.all.join(", ")}`),
    );
    console.log(["", "| start | wall ms | cpu ms | runs |", "|---|---:|---:|---|", ...startRows].join("\n"));
  }
  const rows = [];
  for (const n of sizes) {
    const { env, dir } = childEnv();
    const { stdout } = await promisify(execFile)(process.execPath, [fileURLToPath(import.meta.url), "--child", String(n)], {
      cwd: root,
      env,
      maxBuffer: 1 << 24,
    });
    rmSync(dir, { recursive: true, force: true });
    const r = JSON.parse(stdout.trim().split("\n").pop());
    r.cdk8sMs = await cdk8sTime(n);
    rows.push(r);
    console.log(
      `${String(n).padStart(4)} components (${r.mode}): start ${f0(r.startMs)} ms, cold ${f0(r.coldMs)} ms, warm ${f0(r.warmMs)} ms (eval ${f0(r.evalMs)}${r.stages ? `: stage 1 ${f0(r.stages.stage1Ms)}, stage 2 ${f0(r.stages.stage2Ms)}` : ""}), cached ${f0(r.cachedMs)} ms (disk ${f0(r.cachedDiskMs)} ms), 1 changed ${f0(r.changedMs)} ms, RSS ${f0(r.rssMB)} MB; cdk8s ${f0(r.cdk8sMs)} ms (×${f0(r.warmMs / r.cdk8sMs)})`,
    );
  }
  const md = table(rows);
  console.log("\n" + md);
  const caseRows = [];
  if (!args.includes("--no-cases")) {
    for (const name of Object.keys(CASES)) {
      const { env, dir } = childEnv();
      const { stdout } = await promisify(execFile)(process.execPath, [fileURLToPath(import.meta.url), "--case", name], { cwd: root, env, maxBuffer: 1 << 24 });
      rmSync(dir, { recursive: true, force: true });
      const r = JSON.parse(stdout.trim().split("\n").pop());
      caseRows.push(r);
      console.log(`${name}: ${r.objects} objects, warm ${f0(r.warmMs)} ms`);
    }
  }
  const cases = caseRows.length
    ? ["", "| case | objects | warm ms (median of 5) |", "|---|---:|---:|", ...caseRows.map((r) => `| ${r.name} | ${r.objects} | ${f0(r.warmMs)} |`)].join("\n")
    : "";
  if (!args.includes("--no-write")) {
    const file = path.join(root, "docs", "performance.md");
    const text = readFileSync(file, "utf8");
    const start = "<!-- bench:render:start -->";
    const end = "<!-- bench:render:end -->";
    const i = text.indexOf(start);
    const j = text.indexOf(end);
    if (i < 0 || j < i) throw new Error(`${file}: markers ${start} … ${end} not found`);
    const block = [
      start,
      `Measured ${m.date} with \`npm run bench\`${process.env.OPM_RENDER ? ` (OPM_RENDER=${process.env.OPM_RENDER})` : ""}: node ${m.node}, ${m.nproc} CPUs (${m.cpu}), load average at start ${m.load}, at the end ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(", ")}.`,
      "",
      "```",
      "$ free -h",
      m.mem,
      "```",
      "",
      md,
      cases,
      ...(startRows.length ? ["", "| start | wall ms | cpu ms | runs |", "|---|---:|---:|---|", ...startRows] : []),
      "",
      end,
    ].join("\n");
    writeFileSync(file, text.slice(0, i) + block + text.slice(j + end.length));
    console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
  }
}

if (args[0] === "--child") await child(Number(args[1]));
else if (args[0] === "--case") await caseChild(args[1]);
else await main();
