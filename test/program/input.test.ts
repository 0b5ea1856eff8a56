import { describe, expect, it } from "vitest";
import { readProgramInput } from "../../src/program/input.js";

const file = (name: string, text: string) => ({ name, text });

describe("readProgramInput", () => {
  it("finds #policies, #secrets and #Transformers as declarations, not in comments or strings", () => {
    const quiet = readProgramInput([
      file("m.cue", 'package m\n\n// #policies: [] is not declared here\nnote: "#secrets: none"\n'),
      file("c.cue", "package custom\n\nx: {#Transformers: {}}\n"),
    ]);
    expect(quiet.declares).toEqual({ policies: false, secrets: false, transformers: false });
    expect(quiet.files.map((f) => f.package)).toEqual(["m", "custom"]);
    const loud = readProgramInput([
      file("m.cue", 'package m\n\nimport core "opm.dev/catalog/core@v1"\n\ncore.#Module & {\n\t#policies: []\n\t#secrets?: [...]\n}\n'),
      file("c.cue", "package custom\n\n#Transformers: {}\n"),
    ]);
    expect(loud.declares).toEqual({ policies: true, secrets: true, transformers: true });
    expect(loud.files[0]!.imports).toEqual([{ alias: "core", path: "opm.dev/catalog/core@v1" }]);
  });
  it("takes files already read as they are", () => {
    const read = { file: file("r.cue", "ignored"), package: "release", imports: [], body: "#secrets: []\n", bodyLine: 2 };
    const input = readProgramInput([read]);
    expect(input.files[0]).toBe(read);
    expect(input.declares.secrets).toBe(true);
  });
});
