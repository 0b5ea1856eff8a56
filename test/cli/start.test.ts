import { spawnSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const root = pathToFileURL(process.cwd() + "/").href;
const trace = fileURLToPath(new URL("../support/trace-loads.mjs", import.meta.url));

/** Runs the built CLI, returning its output and the module URLs it loaded. */
function run(args: string[]): { status: number | null; stdout: string; loaded: string[] } {
  const r = spawnSync(process.execPath, ["--import", trace, "bin/opm.js", ...args], { encoding: "utf8" });
  const loaded = r.stderr
    .split("\n")
    .filter((l) => l.startsWith("load "))
    .map((l) => l.slice(5));
  return { status: r.status, stdout: r.stdout, loaded };
}

describe("opm starts cheaply", () => {
  it("--version and --help load neither the render pipeline, the module loader, yaml nor the Kubernetes client", () => {
    for (const args of [["--version"], ["--help"], ["apply", "--help"]]) {
      const r = run(args);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/opm/);
      expect(r.loaded.some((u) => u.endsWith("/dist/src/cli/main.js"))).toBe(true);
      const heavy = r.loaded.filter((u) =>
        /@kubernetes\/client-node|\/node_modules\/yaml\/|\/node_modules\/tsx\/|\/render\/render\.js|\/cli\/load\.js|\/apply\/apply\.js|\/dsl\/generated\//.test(
          u,
        ),
      );
      expect(heavy).toEqual([]);
    }
  });

  it("a module file's imports of opm-ts resolve to the package's built files, loaded once and not through the TypeScript loader", () => {
    const r = run(["cue", "examples/hello/module.ts"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/#StatelessWorkload/);
    // The author's own file goes through tsx (namespaced); the library does not.
    expect(r.loaded.filter((u) => u.includes("tsx-namespace")).map((u) => u.replace(root, "").replace(/\?.*$/, ""))).toEqual(["examples/hello/module.ts"]);
    const dist = r.loaded.filter((u) => /\/dist\/(src|dsl)\//.test(u));
    expect(dist.some((u) => u.endsWith("/dist/dsl/catalog.js"))).toBe(true);
    expect(new Set(dist).size).toBe(dist.length);
    expect(r.loaded.some((u) => /\/(src|dsl)\/[^?]*\.ts(\?|$)/.test(u))).toBe(false);
  });
});
