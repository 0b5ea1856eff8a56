// The configuration `npm run bench` runs bench/first-render.vitest.ts with: the project's
// own settings (aliases for opm-ts), only that file.
import { defineConfig, mergeConfig } from "vitest/config";
import base from "../vitest.config.js";

export default mergeConfig(base, defineConfig({ test: { include: ["bench/*.vitest.ts"], exclude: [] } }));
