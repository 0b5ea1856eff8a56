#!/usr/bin/env node
import { main } from "../dist/src/cli/main.js";

// `opm build ... | head`: a reader that stops early is not an error.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw e;
});
process.exitCode = await main(process.argv.slice(2));
