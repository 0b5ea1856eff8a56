/**
 * Registers the `opm-ts/testing` matchers and the YAML snapshot serializer with vitest, and
 * types the matchers on vitest's `expect`; loads and warms the shared test engine before the tests run.
 * Import it once: in a test file, or in vitest's `setupFiles`.
 *
 * ```ts
 * import "opm-ts/testing/vitest";
 * ```
 * @packageDocumentation
 */
import { expect } from "vitest";
import { warmTestEngine } from "./index.js";
import { opmMatchers, type OpmMatchers } from "./matchers.js";
import { yamlSerializer } from "./snapshot.js";

expect.extend(opmMatchers);
expect.addSnapshotSerializer(yamlSerializer);
// Load and warm the engine while vitest imports the test file (no test timeout runs then): the
// first test's timeout covers only its own render. A failure to load surfaces in that render.
await warmTestEngine().catch(() => {});

declare module "vitest" {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Matchers<T = any> extends OpmMatchers<T> {}
}

export type { OpmMatchers };
