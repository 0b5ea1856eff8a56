// A module file Node loads as CommonJS keeps its file:line in errors.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { opm, REPO } from "../support/opm-cli.js";

const BODY = `defineModule({
  metadata: { modulePath: "example.com/t", name: "cjs", version: "0.1.0" },
  config: {},
  components: () => ({
    web: StatelessWorkload({ container: { image: "nginx:1.27", ports: { http: { targetPort: 70000 } } } }),
  }),
})`;

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "opm-cjs-"));
  mkdirSync(path.join(dir, "node_modules"));
  symlinkSync(REPO, path.join(dir, "node_modules", "opm-ts"), "dir");
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

describe("a CommonJS module file", () => {
  it("import/export in a CommonJS package, and module.exports in a .cts file: errors keep file:line", async () => {
    const dir = project({
      "package.json": JSON.stringify({ name: "p", type: "commonjs" }),
      "esm-syntax.ts": `import { defineModule } from "opm-ts";\nimport { StatelessWorkload } from "opm-ts/catalog";\n\nexport default ${BODY};\n`,
      "exports.cts": `const { defineModule } = require("opm-ts");\nconst { StatelessWorkload } = require("opm-ts/catalog");\n\nmodule.exports = ${BODY};\n`,
    });
    for (const file of ["esm-syntax.ts", "exports.cts"]) {
      const r = await opm(["build", file], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `components.web.spec.container.ports.http.targetPort: 70000 is greater than the maximum 65535 [constraint: <=65535] (${file}:8:10)`,
      );
    }
  });
});
