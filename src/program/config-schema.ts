import * as ast from "../core/cue/ast.js";
import { topLevelDecls } from "../core/cue/lexer.js";
import { printDeclList } from "../core/cue/print.js";
import type { JsonSchema } from "../core/schema.js";
import type { Engine } from "../engine/engine.js";
import { catalogPackage, isStdlib, link, packageField, type ParsedFile } from "./link.js";
import { rewriteImports } from "./rewrite.js";

/**
 * Finds a field declared at the top level of a CUE file body and returns its value's
 * text (up to the end of the declaration), or undefined.
 */
export function topLevelFieldText(body: string, label: string): string | undefined {
  const d = topLevelDecls(body).find((x) => x.kind === "field" && x.label === label && !x.optional);
  if (!d) return undefined;
  const colon = d.tokens.find((t) => t.kind === "punct" && t.text === ":")!;
  return body.slice(colon.end, d.end).trim();
}

interface OpenAPIDoc {
  components?: { schemas?: Record<string, JsonSchema> };
}

/**
 * The JSON schema of a CUE module's `#config`, from the engine's OpenAPI export, so values
 * can be checked with every problem reported at once. Undefined when the schema cannot be
 * exported (the engine then reports the first problem itself).
 */
export async function cueConfigSchema(engine: Engine, files: readonly ParsedFile[]): Promise<JsonSchema | undefined> {
  for (const f of files) {
    const text = topLevelFieldText(f.body, "#config");
    if (text === undefined) continue;
    const aliases = new Map<string, string>();
    for (const imp of f.imports) {
      if (isStdlib(imp.path)) continue;
      const pkg = catalogPackage(imp.path);
      if (!pkg) return undefined;
      aliases.set(imp.alias, packageField(pkg.importPath));
    }
    // A package holding only the imports, so the linker brings in their packages and stdlib.
    const holder = { importPath: "local/config", name: "config", files: [{ ...f, body: "" }] };
    const withStd = link([holder], printDeclList([ast.field("#config", ast.raw(rewriteImports(text, aliases)))])).source;
    try {
      const doc = await engine.openapi<OpenAPIDoc>(withStd);
      return doc.components?.schemas?.config;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
