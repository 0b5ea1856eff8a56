/**
 * Every code block in README.md and docs/*.md is checked, so a doc that drifts from the code fails.
 *
 * - ```ts blocks are written to test/docs/.snippets/<pid>/<doc>/ (inside the repo, so `opm-ts`,
 *   `opm-ts/catalog` and `opm-ts/testing` resolve through tsconfig paths and vitest aliases) and
 *   type-checked together in one TypeScript program with the repo's strict settings.
 * - Then they run: a block that imports from "vitest" is a test file and runs in a separate
 *   vitest process with vitest's default timeout (5 s per test; scaled up only when the CPUs are
 *   oversubscribed, load average per core above 1), as a user's test would; any
 *   other block is imported (executing its top-level code, e.g. `await render(...)`), and a
 *   module it exports as default is rendered with default release settings.
 * - ```sh blocks: every line that runs `opm` / `npx opm` is executed with the built CLI
 *   (bin/opm.js, so `npm run build` first; `npm test` does) in a scratch folder where
 *   `examples/` is the repo's, lines of one block in order. It must exit 0, or N when the line
 *   says `# exits N`. Other lines (`npm ci`, ...) are not run.
 *
 * Marks, in the fence's info string (not shown by Markdown renderers):
 * - `file=NAME.ts`: the name to write the block as, so a later block can import it (`./NAME.js`);
 * - `no-run`: type-check only. For blocks that need a live cluster (apply, diff, status,
 *   delete): they are not run against the in-repo test API server, because what they show is
 *   the call, not a cluster's answer. Each use must say why in the surrounding text; keep them rare.
 * A hidden prelude, `<!-- snippet-prelude ... -->` right before a fence, is prepended to the
 * block (for imports a short excerpt leaves out); in it, `@repo/` is the repository root.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { render } from "opm-ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
// One folder per process, so two runs (e.g. two worktrees' suites) never share files.
const scratch = path.join(root, "test/docs/.snippets", String(process.pid));

interface Snippet {
  doc: string;
  /** 1-based line of the first code line in the doc. */
  line: number;
  lang: "ts" | "sh";
  flags: Set<string>;
  file?: string;
  code: string;
  prelude: string;
}

function extractSnippets(doc: string, text: string): Snippet[] {
  const lines = text.split("\n");
  const out: Snippet[] = [];
  let prelude = "";
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.startsWith("<!-- snippet-prelude")) {
      const body: string[] = [];
      let j = i;
      let rest = l.slice("<!-- snippet-prelude".length);
      for (;;) {
        const end = rest.indexOf("-->");
        if (end >= 0) {
          body.push(rest.slice(0, end));
          break;
        }
        body.push(rest);
        rest = lines[++j] ?? "-->";
      }
      prelude = body.join("\n").trim();
      i = j;
      continue;
    }
    const open = /^```(\S*)\s*(.*)$/.exec(l);
    if (!open) {
      if (l.trim() !== "") prelude = "";
      continue;
    }
    let j = i + 1;
    while (j < lines.length && !/^```\s*$/.test(lines[j]!)) j++;
    const lang = open[1]!.toLowerCase();
    const words = open[2]!.split(/\s+/).filter(Boolean);
    const kind = lang === "ts" || lang === "typescript" ? "ts" : lang === "sh" || lang === "bash" || lang === "shell" ? "sh" : undefined;
    if (kind) {
      out.push({
        doc,
        line: i + 2,
        lang: kind,
        flags: new Set(words.filter((w) => !w.includes("="))),
        file: words.find((w) => w.startsWith("file="))?.slice(5),
        code: lines.slice(i + 1, j).join("\n") + "\n",
        prelude,
      });
    }
    prelude = "";
    i = j;
  }
  return out;
}

const docs = [
  "README.md",
  ...fs
    .readdirSync(path.join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`),
];
const snippets = docs.flatMap((d) => extractSnippets(d, fs.readFileSync(path.join(root, d), "utf8")));
const tsSnippets = snippets.filter((s) => s.lang === "ts");
const shSnippets = snippets.filter((s) => s.lang === "sh");

const where = (s: Snippet) => `${s.doc}:${s.line}`;
const isVitest = (s: Snippet) => /from\s+["']vitest["']/.test(s.code);
const KNOWN_FLAGS = new Set(["no-run"]);
/** Tests that start processes (the CLI, a vitest run) or type-check the repo: generous for a loaded 2-core machine. */
const SPAWN_TIMEOUT_MS = 240_000;

/** Where each snippet is written, and how many prelude lines precede its code. */
const written = new Map<Snippet, { file: string; preludeLines: number }>();

beforeAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
  for (const s of tsSnippets) {
    const dir = path.join(scratch, s.doc.replace(/\.md$/, "").replace(/[^\w-]+/g, "_"));
    fs.mkdirSync(dir, { recursive: true });
    const name = s.file ?? `line-${s.line}${isVitest(s) ? ".test" : ""}.ts`;
    const file = path.join(dir, name);
    const rel = path.relative(dir, root).split(path.sep).join("/");
    const prelude = s.prelude ? s.prelude.replaceAll('"@repo/', `"${rel}/`) + "\n" : "";
    // Every snippet is a module (its own scope), even one without imports or exports.
    fs.writeFileSync(file, `${prelude}${s.code}export {};\n`);
    written.set(s, { file, preludeLines: prelude ? prelude.split("\n").length - 1 : 0 });
  }
});

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe("doc snippets", () => {
  test("the extractor reads fences, marks and hidden preludes", () => {
    const md = [
      "# T",
      "",
      "<!-- snippet-prelude",
      'import x from "@repo/a.js";',
      "-->",
      "```ts no-run file=m.ts",
      "x();",
      "```",
      "",
      "```sh",
      "opm build . # exits 2",
      "```",
      "```cue",
      "a: 1",
      "```",
      "```ts",
      "y();",
      "```",
    ].join("\n");
    const got = extractSnippets("T.md", md).map(({ doc, line, lang, flags, file, code, prelude }) => ({
      doc,
      line,
      lang,
      flags: [...flags],
      file,
      code,
      prelude,
    }));
    expect(got).toEqual([
      { doc: "T.md", line: 7, lang: "ts", flags: ["no-run"], file: "m.ts", code: "x();\n", prelude: 'import x from "@repo/a.js";' },
      { doc: "T.md", line: 11, lang: "sh", flags: [], file: undefined, code: "opm build . # exits 2\n", prelude: "" },
      { doc: "T.md", line: 17, lang: "ts", flags: [], file: undefined, code: "y();\n", prelude: "" },
    ]);
  });

  test("the docs have snippets and every mark is known", () => {
    expect(tsSnippets.length).toBeGreaterThan(5);
    expect(shSnippets.length).toBeGreaterThan(1);
    for (const s of snippets) for (const f of s.flags) expect(KNOWN_FLAGS.has(f), `${where(s)}: unknown mark "${f}"`).toBe(true);
    const names = tsSnippets.filter((s) => s.file).map((s) => `${s.doc}/${s.file}`);
    expect(new Set(names).size, "two snippets of one doc write the same file=").toBe(names.length);
  });

  test(
    "every TypeScript snippet type-checks (one program, the repo's strict settings)",
    () => {
      const cfg = ts.getParsedCommandLineOfConfigFile(
        path.join(root, "tsconfig.json"),
        { noEmit: true },
        {
          ...ts.sys,
          onUnRecoverableConfigFileDiagnostic: (d) => {
            throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
          },
        },
      )!;
      const files = [...written.values()].map((w) => w.file);
      const program = ts.createProgram({ rootNames: files, options: { ...cfg.options, noEmit: true, incremental: false } });
      const bySnippet = new Map([...written].map(([s, w]) => [path.resolve(w.file), { s, w }]));
      const problems: string[] = [];
      for (const d of ts.getPreEmitDiagnostics(program)) {
        const hit = d.file && bySnippet.get(path.resolve(d.file.fileName));
        if (!hit && d.file) continue; // only the snippets are under test here
        const msg = ts.flattenDiagnosticMessageText(d.messageText, "\n");
        if (!hit) {
          problems.push(`(global) ${msg}`);
          continue;
        }
        const line = d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line; // 0-based, prelude included
        const at = line < hit.w.preludeLines ? `${hit.s.doc}:${hit.s.line - 1} (prelude)` : `${hit.s.doc}:${hit.s.line + line - hit.w.preludeLines}`;
        problems.push(`${at}: TS${d.code}: ${msg}`);
      }
      expect(problems).toEqual([]);
    },
    SPAWN_TIMEOUT_MS,
  );

  for (const s of tsSnippets.filter((x) => !x.flags.has("no-run") && !isVitest(x))) {
    test(`runs ${where(s)}`, async () => {
      const mod = (await import(/* @vite-ignore */ pathToFileURL(written.get(s)!.file).href)) as { default?: unknown };
      const def = mod.default as { release?: (o: object) => unknown } | undefined;
      if (def && typeof def.release === "function") {
        const out = await render(def.release({ namespace: "snippets" }) as Parameters<typeof render>[0]);
        expect(out.objects.length).toBeGreaterThan(0);
      }
    });
  }

  const vitestSnippets = tsSnippets.filter((x) => !x.flags.has("no-run") && isVitest(x));
  // Started at once, concurrently with the rest (each runs in its own process).
  test.concurrent(
    "test snippets pass under vitest's default timeouts, in a fresh vitest process",
    async () => {
      const config = path.join(scratch, "vitest.config.mts");
      // vitest's default 5 s, stretched only by how oversubscribed the CPUs are right now (load
      // average per core above 1): on an idle machine it is exactly the default a user gets.
      const testTimeout = Math.round(5_000 * Math.max(1, os.loadavg()[0]! / os.cpus().length));
      const aliases = JSON.stringify([
        ["^opm-ts$", path.join(root, "src/index.ts")],
        ["^opm-ts/catalog$", path.join(root, "dsl/catalog.ts")],
        ["^opm-ts/testing$", path.join(root, "src/testing/index.ts")],
        ["^opm-ts/testing/vitest$", path.join(root, "src/testing/vitest.ts")],
        ["^opm-ts/apply$", path.join(root, "src/apply/index.ts")],
      ]);
      fs.writeFileSync(
        config,
        `import { defineConfig } from "vitest/config";
export default defineConfig({
  root: ${JSON.stringify(root)},
  resolve: { alias: ${aliases}.map(([f, r]) => ({ find: new RegExp(f), replacement: r })) },
  test: { include: ${JSON.stringify(vitestSnippets.map((v) => path.relative(root, written.get(v)!.file).split(path.sep).join("/")))}, pool: "forks", testTimeout: ${testTimeout} },
});
`,
      );
      // Not in CI mode, so a snippet's new snapshot is written (in the scratch folder) as on a user's machine.
      const r = await run(process.execPath, [path.join(root, "node_modules/vitest/vitest.mjs"), "run", "-c", config], root, {
        CI: undefined,
        GITHUB_ACTIONS: undefined,
      });
      expect(r.code, `${vitestSnippets.map(where).join(", ")}:\n${r.out}`).toBe(0);
    },
    SPAWN_TIMEOUT_MS,
  );
});

describe("doc shell commands", () => {
  const blocks = shSnippets.filter((s) => s.code.split("\n").some((l) => /^\s*(npx\s+)?opm\s/.test(l)));
  for (const s of blocks) {
    test.concurrent(
      `runs the opm commands of ${where(s)}`,
      async () => {
        const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "opm-doc-sh-"));
        try {
          fs.symlinkSync(path.join(root, "examples"), path.join(cwd, "examples"));
          const lines = s.code.split("\n");
          for (let i = 0; i < lines.length; i++) {
            const line = lines[i]!;
            if (!/^\s*(npx\s+)?opm\s/.test(line)) continue;
            const want = Number(/#.*\bexits? (\d+)/.exec(line)?.[1] ?? 0);
            const cmd = line.replace(/^\s*(npx\s+)?opm\s/, "opm ");
            const script = `set -o pipefail\nopm() { ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(root, "bin/opm.js"))} "$@"; }\n${cmd}\n`;
            const r = await run("bash", ["-c", script], cwd);
            expect(r.code, `${s.doc}:${s.line + i}: ${line.trim()}\n${r.out}`).toBe(want);
          }
        } finally {
          fs.rmSync(cwd, { recursive: true, force: true });
        }
      },
      SPAWN_TIMEOUT_MS,
    );
  }
});

function run(cmd: string, args: string[], cwd: string, env: Record<string, string | undefined> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    // A loaded machine (the whole suite on 2 cores) can push one evaluation past the engine's default 30 s.
    const merged: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", OPM_ENGINE_TIMEOUT_MS: "120000", ...env };
    for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"], env: merged });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out: out.slice(-4000) }));
  });
}
