import { defineConfig } from "vitest/config";

/** End-to-end suite against a real cluster: OPM_E2E_KUBECONFIG=path npm run test:e2e (skipped when unset). */
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: "forks",
    fileParallelism: false,
  },
});
