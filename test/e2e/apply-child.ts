/**
 * One `apply` in a process of its own, so an e2e test can SIGKILL it or stop the API server under it.
 * argv: <kubeconfig> <spec.json: { objects, release: { name, namespace }, lockDurationSeconds, retries }>
 * Prints `applied <action> <id>` per object as it goes, `done` at the end; errors on stderr, exit 1.
 */
import { readFileSync } from "node:fs";
import { apply } from "../../src/apply/index.js";
import { fakeRender } from "../support/render-result.js";

const [kubeconfig, specFile] = process.argv.slice(2);
const { objects, release, lockDurationSeconds, retries } = JSON.parse(readFileSync(specFile!, "utf8"));
apply(fakeRender(objects, release), {
  kubeconfig,
  lockDurationSeconds,
  retries,
  concurrency: 1,
  onEvent: (e) => {
    if (e.type === "applied") process.stdout.write(`applied ${e.action} ${e.id}\n`);
  },
}).then(
  () => {
    process.stdout.write("done\n");
    process.exit(0);
  },
  (e) => {
    process.stderr.write(`error: ${String(e?.message ?? e)}\n`);
    process.exit(1);
  },
);
