import { defineConfig } from "vitest/config";
import { fileURLToPath } from "node:url";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^opm-ts$/, replacement: here("./src/index.ts") },
      { find: /^opm-ts\/catalog$/, replacement: here("./dsl/catalog.ts") },
      { find: /^opm-ts\/testing$/, replacement: here("./src/testing/index.ts") },
      { find: /^opm-ts\/testing\/vitest$/, replacement: here("./src/testing/vitest.ts") },
      { find: /^opm-ts\/apply$/, replacement: here("./src/apply/index.ts") },
    ],
  },
  test: {
    // Tests check behaviour, not speed: a loaded machine must not turn a render into an
    // evaluation timeout (tests of the limit set their own, which wins over this).
    env: { OPM_EVAL_TIMEOUT: process.env.OPM_EVAL_TIMEOUT ?? "300" },
    include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
    exclude: ["test/e2e/**", "node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Test files share their worker process: its engine (cue-wasm started and warmed up once),
    // the in-memory result cache and the loaded catalog serve every file the worker runs, instead
    // of each file booting its own (about 40 % less CPU for the render tests; docs/performance.md).
    isolate: false,
  },
});
