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
    include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
    exclude: ["test/e2e/**", "node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
