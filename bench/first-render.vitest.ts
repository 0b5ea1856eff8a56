// Run by `npm run bench` (bench/vitest.config.ts): the first render() in a fresh vitest
// worker, written as the README shows, with an empty result cache. Writes its timing to
// the file named by OPM_BENCH_OUT.
import { writeFileSync } from "node:fs";
import { expect, it } from "vitest";
import { render } from "opm-ts";
import hello from "../examples/hello/module.js";

it("first render", async () => {
  const t0 = performance.now();
  const out = await render(hello.release({ name: "hello", namespace: "demo", values: { replicas: 3 } }));
  const ms = performance.now() - t0;
  expect(out.objects.find((o) => o.kind === "Deployment")).toMatchObject({ spec: { replicas: 3 } });
  if (process.env.OPM_BENCH_OUT) writeFileSync(process.env.OPM_BENCH_OUT, JSON.stringify({ firstRenderMs: ms }));
});
