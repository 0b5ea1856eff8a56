/**
 * Runs one apply in a separate process, so a test can kill it (SIGKILL) mid-apply.
 * argv: <kubeconfig path> <json: { objects, release: {name, namespace}, lockDurationSeconds }>
 */
import { apply } from "../../src/apply/index.js";
import { fakeRender } from "./render-result.js";

const [kubeconfig, spec] = process.argv.slice(2);
const { objects, release, lockDurationSeconds } = JSON.parse(spec!);
apply(fakeRender(objects, release), { kubeconfig, lockDurationSeconds, concurrency: 1, retries: 0 }).then(
  () => process.exit(0),
  (e) => {
    console.error(String(e?.message ?? e));
    process.exit(1);
  },
);
