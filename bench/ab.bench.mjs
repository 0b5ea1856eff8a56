// node bench/ab.bench.mjs [--sizes 10,200] [--repeats 5]: the staged and the reference render
// of the same release, alternated in one process on one engine, so that both see the same
// machine load. Per render: wall ms and CPU ms of the whole process (every worker thread
// included). Uncached (cache: false); then, for the staged render, cached and one changed
// component. Needs `npm run build`.
import { statelessModule } from "./modules.mjs";
import os from "node:os";

const args = process.argv.slice(2);
const arg = (name, d) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : d;
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const { render, Engine } = await import("../dist/src/index.js");

async function timed(f) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await f();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { r, wall, cpu: (c.user + c.system) / 1000 };
}

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(", ");
console.log(`A/B ${new Date().toISOString().slice(0, 16)} UTC, ${os.availableParallelism()} CPUs, load ${load()}`);
for (const n of arg("--sizes", "10,200").split(",").map(Number)) {
  const repeats = Number(arg("--repeats", n >= 100 ? 3 : 5));
  const release = statelessModule(n).release({ name: "bench", namespace: "bench" });
  const engine = new Engine({ timeoutMs: 1_200_000 });
  await engine.start();
  // Warm-up: one render each way (the first evaluation in a worker runs before V8 has tiered the WebAssembly up).
  for (const mode of ["reference", "staged"]) (await render(release, { engine, mode, cache: false })).yaml();
  const rows = { reference: [], staged: [] };
  let stages;
  for (let i = 0; i < repeats; i++) {
    for (const mode of ["reference", "staged"]) {
      const stats = {};
      const t = await timed(async () => (await render(release, { engine, mode, stats, cache: false })).yaml());
      rows[mode].push(t);
      if (mode === "staged") stages = stats.stages;
    }
  }
  // Staged, cached: unchanged, and one component changed.
  (await render(release, { engine, mode: "staged" })).yaml();
  const cached = [];
  const changed = [];
  for (let i = 0; i < repeats; i++) {
    cached.push(await timed(async () => (await render(release, { engine, mode: "staged" })).yaml()));
    const other = statelessModule(n, { changed: (i * 7) % n, tag: `ab-${Date.now()}-${i}` }).release({ name: "bench", namespace: "bench" });
    changed.push(await timed(async () => (await render(other, { engine, mode: "staged" })).yaml()));
  }
  await engine.close();
  const f = (xs, k) => Math.round(median(xs.map((x) => x[k])));
  console.log(
    JSON.stringify({
      n,
      load: load(),
      referenceWallMs: f(rows.reference, "wall"),
      referenceCpuMs: f(rows.reference, "cpu"),
      stagedWallMs: f(rows.staged, "wall"),
      stagedCpuMs: f(rows.staged, "cpu"),
      cachedWallMs: f(cached, "wall"),
      changedWallMs: f(changed, "wall"),
      changedCpuMs: f(changed, "cpu"),
      stages,
      rssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
}
