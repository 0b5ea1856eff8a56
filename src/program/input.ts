/**
 * What the program builder reads from the CUE files of a release: each file's header and
 * what the module declares. A TypeScript module hands both over as data (`Compiled`);
 * hand-written CUE files are read once, with the one CUE lexer.
 */
import type { CompiledDeclarations } from "../../dsl/module.js";
import { CueSyntaxError, tokenize, topLevelDecls } from "../core/cue/lexer.js";
import { parseHeader, type CueFile, type ParsedFile } from "./link.js";

/** The files of a release with their headers read, and what they declare. */
export interface ProgramInput {
  files: ParsedFile[];
  declares: CompiledDeclarations;
}

const isParsed = (f: CueFile | ParsedFile): f is ParsedFile => "package" in f && "body" in f;

/** True when a field with this label is declared anywhere in the body (at any depth). */
function declaresField(body: string, label: string): boolean {
  let tokens: ReturnType<typeof tokenize>;
  try {
    tokens = tokenize(body).filter((t) => t.kind !== "comment");
  } catch (e) {
    // Text the lexer cannot read declares nothing here; the engine reports the syntax error.
    if (e instanceof CueSyntaxError) return false;
    throw e;
  }
  return tokens.some(
    (t, i) => t.kind === "ident" && t.text === label && (tokens[i + 1]?.text === ":" || (tokens[i + 1]?.text === "?" && tokens[i + 2]?.text === ":")),
  );
}

/** Reads the files (those not read yet) and finds what they declare: `#policies`, `#secrets`, and `#Transformers` in package `custom`. */
export function readProgramInput(files: readonly (CueFile | ParsedFile)[], customPackage = "custom"): ProgramInput {
  const parsed = files.map((f) => (isParsed(f) ? f : parseHeader(f)));
  const topLevel = (f: ParsedFile) => {
    try {
      return topLevelDecls(f.body, f.file.name);
    } catch (e) {
      if (e instanceof CueSyntaxError) return [];
      throw e;
    }
  };
  return {
    files: parsed,
    declares: {
      policies: parsed.some((f) => declaresField(f.body, "#policies")),
      secrets: parsed.some((f) => declaresField(f.body, "#secrets")),
      transformers: parsed.some((f) => f.package === customPackage && topLevel(f).some((d) => d.kind === "field" && d.label === "#Transformers")),
    },
  };
}
