// Installs the packed package into a scratch project, as a user would, and checks that:
//   - code importing every entry point (opm-ts, opm-ts/catalog, opm-ts/testing, opm-ts/apply)
//     type-checks with `strict: true` and the default `skipLibCheck: false`, under both
//     `moduleResolution: "bundler"` and `"nodenext"`;
//   - the types of no entry point (opm-ts/apply included) reference @kubernetes/client-node,
//     so render-only users never see apply-layer dependency types, and nobody needs `ws` types;
//   - at run time those three entries load without @kubernetes/client-node installed, and
//     opm-ts/apply does need it (so the check is not blind).
//
//   node scripts/pack-check.mjs     (after `npm run build`; installs from the local npm cache)
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
const lock = JSON.parse(readFileSync(path.join(root, "package-lock.json"), "utf8"));
const tsc = path.join(root, "node_modules/typescript/bin/tsc");
const started = Date.now();
const problems = [];

const run = (cmd, args, cwd) => {
  const t = Date.now();
  try {
    return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } finally {
    if (process.env.PACK_CHECK_TIMES) console.log(`${((Date.now() - t) / 1000).toFixed(1)} s: ${path.basename(cmd)} ${args.slice(0, 3).join(" ")}`);
  }
};

const scratch = mkdtempSync(path.join(tmpdir(), "opm-pack-"));
try {
  const tarball = run("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", scratch], root).trim().split("\n").pop();
  // A lockfile for the scratch project: opm-ts from the tarball, its dependencies (and
  // @types/node, as a user's project has) at the versions of this repository's lockfile, so
  // `npm ci --offline` installs them from the npm cache `npm ci` filled here.
  const typesNode = lock.packages["node_modules/@types/node"].version;
  const manifest = {
    name: "scratch",
    private: true,
    type: "module",
    dependencies: { "opm-ts": `file:${tarball}` },
    devDependencies: { "@types/node": typesNode },
  };
  const packages = { "": manifest };
  packages["node_modules/opm-ts"] = {
    version: pkg.version,
    resolved: `file:${tarball}`,
    license: pkg.license,
    dependencies: pkg.dependencies,
    bin: pkg.bin,
    engines: pkg.engines,
  };
  for (const [k, v] of Object.entries(lock.packages)) if (k.startsWith("node_modules/") && !v.dev) packages[k] = v;
  writeFileSync(path.join(scratch, "package.json"), JSON.stringify(manifest, null, 2));
  writeFileSync(path.join(scratch, "package-lock.json"), JSON.stringify({ name: "scratch", lockfileVersion: 3, requires: true, packages }, null, 2));
  run("npm", ["ci", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], scratch);

  writeFileSync(
    path.join(scratch, "all.ts"),
    `import { config, defineModule, render, type RenderResult } from "opm-ts";
import { StatelessWorkload } from "opm-ts/catalog";
import { getObject } from "opm-ts/testing";
import { apply, ApplyError, type ApplyReport } from "opm-ts/apply";

const hello = defineModule({
  metadata: { modulePath: "example.com/modules", name: "hello", version: "0.1.0" },
  config: { replicas: config.int().min(1).default(2) },
  components: (cfg) => ({ web: StatelessWorkload({ container: { image: "nginx:1.27" }, scaling: { count: cfg.replicas } }) }),
});

export async function deploy(): Promise<ApplyReport | undefined> {
  const out: RenderResult = await render(hello.release({ name: "hello", namespace: "demo", values: { replicas: 3 } }));
  const replicas: number = getObject(out, "Deployment").spec.replicas;
  if (replicas !== 3) throw new Error("unexpected");
  try {
    return await apply(out, { createNamespace: true });
  } catch (e) {
    if (ApplyError.is(e)) return undefined;
    throw e;
  }
}
`,
  );
  const modes = {
    bundler: { module: "preserve", moduleResolution: "bundler" },
    nodenext: { module: "nodenext", moduleResolution: "nodenext" },
  };
  for (const [name, opts] of Object.entries(modes)) {
    const config = { compilerOptions: { target: "es2022", strict: true, noEmit: true, ...opts }, files: ["all.ts"] };
    writeFileSync(path.join(scratch, "tsconfig.json"), JSON.stringify(config, null, 2));
    let listed = "";
    try {
      listed = run(process.execPath, [tsc, "-p", "tsconfig.json", "--listFiles"], scratch);
    } catch (e) {
      const errors = String(e.stdout || e.message)
        .split("\n")
        .filter((l) => /error TS\d+/.test(l));
      problems.push(
        `code importing every entry point does not type-check with moduleResolution "${name}" (strict, skipLibCheck: false):\n  ${errors.slice(0, 10).join("\n  ")}${errors.length > 10 ? `\n  (${errors.length - 10} more)` : ""}`,
      );
      continue;
    }
    if (!listed.includes("node_modules/opm-ts/dist/src/apply/index.d.ts"))
      problems.push(`the opm-ts/apply types were not checked (moduleResolution "${name}"): the check is blind`);
    // No entry's types (not even opm-ts/apply's) reach the apply layer's dependencies.
    const leaked = listed.split("\n").filter((f) => /node_modules\/(@kubernetes|@types\/ws)\//.test(f));
    if (leaked.length) problems.push(`the types of opm-ts reach apply-layer dependencies (moduleResolution "${name}"):\n  ${leaked.slice(0, 5).join("\n  ")}`);
  }

  // Run time: the render entries load without @kubernetes/client-node; opm-ts/apply needs it.
  const kube = path.join(scratch, "node_modules/@kubernetes");
  renameSync(kube, kube + "-hidden");
  const load = (spec) => {
    try {
      run(process.execPath, ["--input-type=module", "-e", `await import(${JSON.stringify(spec)});`], scratch);
      return "ok";
    } catch (e) {
      return String(e.stderr || e.message);
    }
  };
  for (const spec of ["opm-ts", "opm-ts/catalog", "opm-ts/testing"]) {
    const r = load(spec);
    if (r !== "ok") problems.push(`import "${spec}" fails without @kubernetes/client-node installed:\n${r.trim().split("\n").slice(0, 5).join("\n")}`);
  }
  if (load("opm-ts/apply") === "ok") problems.push(`import "opm-ts/apply" loads without @kubernetes/client-node: the run-time check is blind`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

if (problems.length) {
  for (const p of problems) console.error(`pack-check: ${p}\n`);
  process.exit(1);
}
console.log(`pack-check: ${pkg.name}@${pkg.version} packed, installed and type-checked in a scratch project (${((Date.now() - started) / 1000).toFixed(1)} s)`);
