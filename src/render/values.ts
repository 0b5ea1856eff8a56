import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { isMap, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import { OpmError, type Issue, type SourceLocation } from "../core/errors.js";
import type { Provenance } from "../../dsl/config.js";
import { formatBytes, LIMITS } from "./limits.js";

export interface ValuesFile {
  file: string;
  values: Record<string, unknown>;
  /** The line each value path was set on. */
  provenance: Provenance;
}

/** Reads a YAML or JSON values file, remembering the line of every value for error messages. */
export function loadValuesFile(file: string): ValuesFile {
  const display = path.relative(process.cwd(), file) || file;
  let text: string;
  try {
    // Refuse an oversized file before reading it (a values file feeds Kubernetes objects).
    const size = statSync(file).size;
    if (size > LIMITS.valuesFileBytes) {
      throw new OpmError(
        "values",
        `values file ${display} is ${formatBytes(size)}; the limit is ${formatBytes(LIMITS.valuesFileBytes)} (its values must fit in Kubernetes objects, which hold at most ${formatBytes(LIMITS.configDataBytes)} of data)`,
      );
    }
    text = readFileSync(file, "utf8");
  } catch (e) {
    if (OpmError.is(e)) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new OpmError("io", `values file ${display} does not exist`);
    throw new OpmError("io", `cannot read values file ${display}: ${code ?? String(e)}`);
  }
  return parseValues(text, display);
}

/** Parses values text (YAML, which includes JSON). */
export function parseValues(text: string, display: string): ValuesFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const issues: Issue[] = doc.errors.map((e) => {
      // (without prettyErrors the error carries only offsets: map them to line and column here)
      const pos = e.linePos?.[0] ?? lc.linePos(e.pos[0]);
      return { code: "io", path: "", message: e.message.split("\n")[0]!, source: { file: display, line: pos.line, column: pos.col } };
    });
    throw new OpmError("values", `cannot parse values file ${display}`, issues);
  }
  let values: unknown;
  try {
    values = doc.toJS({ maxAliasCount: LIMITS.yamlAliases }) ?? {};
  } catch (e) {
    // The yaml library stops an alias bomb ("billion laughs") with a ReferenceError.
    if (!/alias/i.test((e as Error).message)) throw e;
    throw new OpmError("values", `values file ${display} expands YAML aliases (*name) too often (limit ${LIMITS.yamlAliases}): write the values out instead`);
  }
  if (typeof values !== "object" || Array.isArray(values) || values === null) {
    throw new OpmError("values", `values file ${display} must hold a mapping of config fields at the top level`);
  }
  const provenance: Provenance = (p) => {
    let node: Node | null | undefined = doc.contents as Node;
    let loc: SourceLocation | undefined;
    for (const seg of p) {
      if (isMap(node)) {
        const pair = node.items.find((it) => String((it.key as { value?: unknown })?.value ?? it.key) === seg);
        if (!pair) return loc;
        const k = pair.key as Node;
        if (k?.range) {
          const lp = lc.linePos(k.range[0]);
          loc = { file: display, line: lp.line, column: lp.col };
        }
        node = pair.value as Node;
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)] as Node | undefined;
        if (!item) return loc;
        if (item.range) {
          const lp = lc.linePos(item.range[0]);
          loc = { file: display, line: lp.line, column: lp.col };
        }
        node = item;
      } else return loc;
    }
    return loc ?? { file: display, line: 1 };
  };
  return { file: display, values: values as Record<string, unknown>, provenance };
}
