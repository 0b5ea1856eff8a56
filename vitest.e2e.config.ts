import { defineConfig } from "vitest/config";

/** End-to-end suite against a real cluster: OPM_E2E_KUBECONFIG=path npm run test:e2e (skipped when unset). */
export default defineConfig({
  test: {
    // Tests check behaviour, not speed: a loaded machine must not turn a render into an
    // evaluation timeout (tests of the limit set their own, which wins over this).
    env: { OPM_EVAL_TIMEOUT: process.env.OPM_EVAL_TIMEOUT ?? "300" },
    include: ["test/e2e/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: "forks",
    fileParallelism: false,
    maxConcurrency: 4,
  },
});
