/**
 * Secrets a written release left out, and redaction markers where a secret value should be.
 *
 * `opm cue --out-dir` (without `--show-secrets`) writes no literal secret: the release's
 * `values` carry a comment naming the paths it left out. Rendering those files needs the
 * values again; a marker such as `"<redacted>"` in place of a value is never taken as one.
 */
import type { Issue } from "../core/errors.js";
import { REDACTED } from "../core/redact.js";

const LEFT_OUT = /^\s*\/\/ Literal secrets left out \(give them again with --secret or a values file\): (.+)$/m;

const has = (values: Record<string, unknown> | undefined, path: string): boolean => {
  let v: unknown = values;
  for (const seg of path.split(".")) {
    if (!v || typeof v !== "object") return false;
    v = (v as Record<string, unknown>)[seg];
  }
  return v !== undefined;
};

/** Problems with secrets in a CUE module's files, given the values supplied with it. */
export function withheldSecrets(files: readonly { name: string; text: string }[], values: Record<string, unknown> | undefined): Issue[] {
  const issues: Issue[] = [];
  for (const f of files) {
    const left = LEFT_OUT.exec(f.text);
    for (const path of left
      ? left[1]!
          .split(",")
          .map((p) => p.trim())
          .filter(Boolean)
      : []) {
      if (has(values, path)) continue;
      issues.push({
        code: "required",
        path: `values.${path}`,
        message: `a secret value is required: ${f.name} was written without it (secrets are never written without --show-secrets); give it with --secret ${path}=@file or =env:VAR, or in a values file`,
        constraint: "required",
        source: { file: f.name, line: f.text.slice(0, left!.index).split("\n").length + 1 },
      });
    }
    const lines = f.text.split("\n");
    lines.forEach((l, i) => {
      if (!l.includes(JSON.stringify(REDACTED))) return;
      issues.push({
        code: "secret",
        path: "values",
        message: `holds the redaction marker ${JSON.stringify(REDACTED)} where a value should be: redacted output is not input; give the real secret with --secret or a values file, or write the files with --show-secrets`,
        constraint: "a secret value",
        source: { file: f.name, line: i + 1 },
      });
    });
  }
  return issues;
}
