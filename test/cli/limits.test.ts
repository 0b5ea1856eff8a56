/** Hostile or oversized values files fail fast through the real CLI: exit 1, a clear message, no internal error. */
import { describe, expect, it } from "vitest";
import path from "node:path";
import { aliasBomb } from "../support/hostile.js";
import { opm, REPO, scratchProject } from "../support/opm-cli.js";

describe("opm build with hostile values files (from a scratch folder)", () => {
  it("a values file of many megabytes and a YAML alias bomb", async () => {
    const proj = scratchProject({ "big.yaml": `image: "${"x".repeat(8 * 1024 * 1024)}"\n`, "bomb.yaml": aliasBomb() });
    const module = path.join(REPO, "examples/hello/module.ts");
    const [big, bomb] = await Promise.all(["big.yaml", "bomb.yaml"].map((f) => opm(["build", module, "-f", f], { cwd: proj })));
    expect(big!.stderr).toBe(
      "error: values file big.yaml is 8.0 MiB; the limit is 1 MiB (its values must fit in Kubernetes objects, which hold at most 1 MiB of data)\n",
    );
    expect(big!.code).toBe(1);
    expect(bomb!.stderr).toBe("error: values file bomb.yaml expands YAML aliases (*name) too often (limit 100): write the values out instead\n");
    expect(bomb!.code).toBe(1);
  });
});
