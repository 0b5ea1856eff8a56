/**
 * Package hygiene: the packed tarball has a LICENSE, no source maps pointing at unshipped
 * sources, consistent repository metadata; docs link only to files that exist; a module file
 * whose project cannot resolve opm-ts gets told how to fix it.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { opm, REPO, scratchProject } from "../support/opm-cli.js";

const pkg = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8"));

describe("the npm package", () => {
  it("ships a LICENSE and no source maps; metadata is consistent", () => {
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const files: string[] = JSON.parse(out)[0].files.map((f: { path: string }) => f.path);
    expect(files).toContain("LICENSE");
    expect(files).toContain("dist/src/index.js");
    expect(files).toContain("dist/src/index.d.ts");
    expect(files.filter((f) => f.endsWith(".map"))).toEqual([]);
    // No shipped file refers to a source map either.
    const js = files.filter((f) => f.endsWith(".js") || f.endsWith(".d.ts"));
    expect(js.filter((f) => /sourceMappingURL/.test(readFileSync(path.join(REPO, f), "utf8")))).toEqual([]);
    expect(readFileSync(path.join(REPO, "LICENSE"), "utf8")).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(pkg.license).toBe("Apache-2.0");
    expect(pkg.repository).toEqual({ type: "git", url: "git+https://github.com/opm-ts/opm-ts.git" });
    expect(pkg.homepage).toBe("https://github.com/opm-ts/opm-ts#readme");
    expect(pkg.bugs).toEqual({ url: "https://github.com/opm-ts/opm-ts/issues" });
  });
});

describe("docs", () => {
  const pages = [
    "README.md",
    ...readdirSync(path.join(REPO, "docs"))
      .filter((f) => f.endsWith(".md"))
      .map((f) => `docs/${f}`),
  ];
  it("link only to files that exist, and never to design notes outside the repository", () => {
    const dead: string[] = [];
    for (const page of pages) {
      const text = readFileSync(path.join(REPO, page), "utf8");
      for (const m of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        const target = m[1]!;
        if (/^(https?|mailto):/.test(target)) continue;
        if (!existsSync(path.join(REPO, path.dirname(page), target))) dead.push(`${page}: ${target}`);
      }
      for (const m of text.matchAll(/`((?:examples|src|dsl|test|catalog|docs|codegen|scripts|bench)\/[^`\s*<{]*)`/g)) {
        if (!existsSync(path.join(REPO, m[1]!.replace(/\/$/, "")))) dead.push(`${page}: ${m[1]}`);
      }
      // (docs/architecture.md is being rewritten by the layering work, which drops its DESIGN.md
      // reference; remove this exception when it lands)
      if (page === "docs/architecture.md") continue;
      for (const word of ["DESIGN.md", "REFERENCE.md", "../shared"]) if (text.includes(word)) dead.push(`${page}: mentions ${word}`);
    }
    expect(dead).toEqual([]);
  });
});

describe("a module file in a project without opm-ts", () => {
  it("is told to install opm-ts there", async () => {
    const module = readFileSync(path.join(REPO, "examples/hello/module.ts"), "utf8");
    const proj = scratchProject({ "module.ts": module }, { linked: false, type: "commonjs" });
    const r = await opm(["build", "module.ts"], { cwd: proj });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: cannot load module\.ts: it imports opm-ts, which is not installed where the file is \(.*\): install opm-ts in the module's project: npm i opm-ts\n$/,
    );
  });
});
