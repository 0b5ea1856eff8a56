// Runs API Extractor for every entry point in package.json "exports" that has types.
//
//   node scripts/api-report.mjs           check: fails when an etc/*.api.md report is out of date
//   node scripts/api-report.mjs --local   update the reports (after `npm run build`)
//
// The root entry uses api-extractor.json; an entry "./x/y" uses etc/api-extractor.x-y.json
// (created by --local when missing, like etc/api-extractor.testing.json).
// A type that a secondary entry (./catalog, ./testing) references without exporting it is
// fine when the root entry exports it (users import it from "opm-ts"); any other
// forgotten export fails the run.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Extractor, ExtractorConfig } from "@microsoft/api-extractor";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const local = process.argv.includes("--local");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));

const entries = Object.entries(pkg.exports)
  .filter(([, v]) => typeof v === "object" && v && v.types)
  .map(([k]) => ({ entry: k, config: k === "." ? "api-extractor.json" : `etc/api-extractor.${k.slice(2).replace(/\//g, "-")}.json` }));

let failed = false;
const fail = (msg) => {
  console.error(`api: ${msg}`);
  failed = true;
};

for (const e of entries) {
  if (existsSync(path.join(root, e.config))) continue;
  if (!local) {
    fail(`package.json exports "${e.entry}" but ${e.config} is missing: run \`npm run api:update\` to create it and its report`);
    continue;
  }
  // A new entry point (e.g. from a merged branch): configure it like ./testing.
  const template = JSON.parse(readFileSync(path.join(root, "etc/api-extractor.testing.json"), "utf8"));
  const name = e.entry.slice(2).replace(/\//g, "-");
  const types = pkg.exports[e.entry].types.replace(/^\.\//, "");
  template.mainEntryPointFilePath = `<projectFolder>/${types}`;
  template.apiReport = { ...template.apiReport, reportFileName: `opm-ts.${name}` };
  writeFileSync(path.join(root, e.config), JSON.stringify(template, null, 2) + "\n");
  console.log(`api: created ${e.config} for "${e.entry}"`);
}

/** Names the root entry exports, read from its report. */
function rootExports() {
  const cfg = ExtractorConfig.loadFileAndPrepare(path.join(root, "api-extractor.json"));
  const text = readFileSync(cfg.reportFilePath, "utf8");
  const names = new Set();
  for (const m of text.matchAll(/^export (?:declare )?(?:abstract )?(?:class|interface|type|function|const|let|enum|namespace) ([A-Za-z_$][\w$]*)/gm))
    names.add(m[1]);
  for (const m of text.matchAll(/^export \{ ([^}]+) \}/gm))
    for (const n of m[1].split(","))
      names.add(
        n
          .trim()
          .split(/\s+as\s+/)
          .pop(),
      );
  return names;
}

let exported;
for (const e of entries) {
  if (!existsSync(path.join(root, e.config))) continue;
  const config = ExtractorConfig.loadFileAndPrepare(path.join(root, e.config));
  if (!existsSync(config.mainEntryPointFilePath)) {
    fail(`${path.relative(root, config.mainEntryPointFilePath)} does not exist: run \`npm run build\` first`);
    continue;
  }
  const forgotten = [];
  const result = Extractor.invoke(config, {
    localBuild: local,
    showVerboseMessages: false,
    messageCallback: (m) => {
      if (m.messageId === "ae-forgotten-export" && e.entry !== ".") {
        const name = /The symbol "([^"]+)"/.exec(m.text)?.[1] ?? "?";
        exported ??= rootExports();
        m.handled = true;
        if (!exported.has(name.replace(/_\d+$/, "")))
          forgotten.push(`${name} (${m.sourceFilePath ? path.relative(root, m.sourceFilePath) : "?"}:${m.sourceFileLine ?? "?"})`);
      }
    },
  });
  for (const f of forgotten) fail(`"${e.entry}" references ${f}, which neither it nor "opm-ts" exports`);
  if (!result.succeeded) {
    fail(
      result.apiReportChanged && !local
        ? `the public API of "${e.entry}" differs from ${path.relative(root, config.reportFilePath)}: review the change and run \`npm run api:update\``
        : `API Extractor reported ${result.errorCount} error(s) and ${result.warningCount} warning(s) for "${e.entry}"`,
    );
  }
  if (e.entry === ".") exported = rootExports();
}

if (failed) process.exit(1);
console.log(`api: ${entries.length} entry point reports ${local ? "updated" : "up to date"}`);
