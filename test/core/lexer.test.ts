import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CueSyntaxError, readHeader, stringValue, tokenize, topLevelDecls } from "../../src/core/cue/lexer.js";

const kinds = (text: string) => tokenize(text).map((t) => `${t.kind}:${t.text}`);

/** Every .cue file under a folder. */
function cueFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? cueFiles(p) : f.endsWith(".cue") ? [p] : [];
  });
}

describe("tokenize", () => {
  it("reads identifiers of every form", () => {
    expect(kinds("a #Def _hidden #_x _#y $v _ x9")).toEqual([
      "ident:a",
      "ident:#Def",
      "ident:_hidden",
      "ident:#_x",
      "ident:_#y",
      "ident:$v",
      "ident:_",
      "ident:x9",
    ]);
  });
  it("reads punctuation, bottom and ellipsis", () => {
    expect(kinds("a: [...#T] & _|_ | b != c =~ d")).toEqual([
      "ident:a",
      "punct::",
      "punct:[",
      "punct:...",
      "ident:#T",
      "punct:]",
      "punct:&",
      "punct:_|_",
      "punct:|",
      "ident:b",
      "punct:!=",
      "ident:c",
      "punct:=~",
      "ident:d",
    ]);
  });
  it("reads numbers", () => {
    expect(kinds("1 2.5 .5 1e3 0x1F 0o7 0b1 1_000 1Gi 2K")).toEqual([
      "number:1",
      "number:2.5",
      "number:.5",
      "number:1e3",
      "number:0x1F",
      "number:0o7",
      "number:0b1",
      "number:1_000",
      "number:1Gi",
      "number:2K",
    ]);
  });
  it("reads comments and marks tokens that start a line", () => {
    const t = tokenize("a: 1 // one\n// two\nb: 2");
    expect(t.map((x) => `${x.kind}:${x.text}:${x.line}:${x.nl}`)).toEqual([
      "ident:a:1:true",
      "punct:::1:false",
      "number:1:1:false",
      "comment:// one:1:false",
      "comment:// two:2:true",
      "ident:b:3:true",
      "punct:::3:false",
      "number:2:3:false",
    ]);
  });
  it("reads strings, bytes and raw strings without looking inside", () => {
    expect(kinds(`a: "x // not a comment \\" y" + 'b' + #"raw \\(a) "quoted" "#`)).toEqual([
      "ident:a",
      "punct::",
      'string:"x // not a comment \\" y"',
      "punct:+",
      "string:'b'",
      "punct:+",
      'string:#"raw \\(a) "quoted" "#',
    ]);
  });
  it("reads multi-line strings", () => {
    const text = 'a: """\n\tline "one"\n\t\\(x) two\n\t"""\nb: 1';
    expect(kinds(text)).toEqual([
      "ident:a",
      "punct::",
      'interpStart:"""\n\tline "one"\n\t\\(',
      "ident:x",
      'interpEnd:) two\n\t"""',
      "ident:b",
      "punct::",
      "number:1",
    ]);
    expect(tokenize(text).at(-3)!.line).toBe(5);
  });
  it("enters interpolations, nested ones included", () => {
    expect(kinds(`"a\\(x.y + f(z))b\\("c\\(w)")d"`)).toEqual([
      'interpStart:"a\\(',
      "ident:x",
      "punct:.",
      "ident:y",
      "punct:+",
      "ident:f",
      "punct:(",
      "ident:z",
      "punct:)",
      "interpMid:)b\\(",
      'interpStart:"c\\(',
      "ident:w",
      'interpEnd:)"',
      'interpEnd:)d"',
    ]);
    expect(kinds(`#"a\\#(x)b"#`)).toEqual(['interpStart:#"a\\#(', "ident:x", 'interpEnd:)b"#']);
  });
  it("reads attributes as one token", () => {
    expect(kinds(`a: int @go(A,type=int) @x("(")`)).toEqual(["ident:a", "punct::", "ident:int", "attr:@go(A,type=int)", 'attr:@x("(")']);
  });
  it("fails clearly on text it cannot read", () => {
    expect(() => tokenize('a: "open\nb: 1', "f.cue")).toThrow(/f.cue:1: newline in a single-line string/);
    expect(() => tokenize('a: "open', "f.cue")).toThrow(CueSyntaxError);
    expect(() => tokenize('a: "x\\(b"', "f.cue")).toThrow(/unterminated/);
    expect(() => tokenize("a: ~", "f.cue")).toThrow(/unexpected character "~"/);
  });
  it("covers every catalog and fixture file: only whitespace between tokens", () => {
    const files = [...cueFiles("catalog"), ...cueFiles("test/fixtures")];
    expect(files.length).toBeGreaterThan(40);
    for (const f of files) {
      const text = readFileSync(f, "utf8");
      let bad: string | undefined;
      let toks: ReturnType<typeof tokenize>;
      try {
        toks = tokenize(text, f);
      } catch (e) {
        // Fixtures of broken CUE may fail to lex; the catalog never does.
        if (f.startsWith("catalog")) throw e;
        continue;
      }
      let at = 0;
      for (const t of toks) {
        if (text.slice(at, t.start).trim() !== "") bad = `${f}: ${JSON.stringify(text.slice(at, t.start))}`;
        at = t.end;
      }
      expect(bad).toBeUndefined();
      expect(text.slice(at).trim()).toBe("");
    }
  });
});

describe("stringValue", () => {
  it("resolves escapes", () => {
    const [a, b, c] = tokenize(`"a\\n\\"b\\u00e9" #"x\\ny"# """\n\tl1\n\tl2\n\t"""`);
    expect(stringValue(a!)).toBe('a\n"bé');
    expect(stringValue(b!)).toBe("x\\ny");
    expect(stringValue(c!)).toBe("l1\nl2");
  });
});

describe("readHeader", () => {
  it("reads the package clause and imports with aliases", () => {
    const text = `// doc\n\npackage hello\n\nimport (\n\t"list"\n\tcore "opm.dev/catalog/core@v1"\n)\n\nimport x "example.com/x:y"\n\n// body doc\n#A: 1\n`;
    const h = readHeader(text);
    expect(h.package).toBe("hello");
    expect(h.imports).toEqual([{ path: "list" }, { alias: "core", path: "opm.dev/catalog/core@v1" }, { alias: "x", path: "example.com/x:y" }]);
    expect(text.slice(h.bodyOffset)).toBe("#A: 1\n");
    expect(h.bodyLine).toBe(12);
  });
  it("reads a file without imports or body", () => {
    expect(readHeader("package a")).toEqual({ package: "a", imports: [], bodyOffset: 9, bodyLine: 0 });
    expect(readHeader('package a\nimport "strings"\nx: strings.ToUpper("a")\n').imports).toEqual([{ path: "strings" }]);
  });
  it("refuses a file without a package clause", () => {
    expect(() => readHeader("a: 1", "m.cue")).toThrow(/m.cue: a CUE file must start with a package clause/);
  });
});

describe("topLevelDecls", () => {
  it("splits declarations with their doc comments, lines and kinds", () => {
    const body = [
      "// A is a.", // 1
      "#A: {", // 2
      "\tx: int", // 3
      "}", // 4
      "", // 5
      "// floating", // 6
      "", // 7
      "// B.", // 8
      "#B?: string, c: 1", // 9
      'let l = "\\(#A.x)"', // 10
      "core.#Module", // 11
      "if true {d: 1}", // 12
      '"quoted-label": 2', // 13
      "(l): 3", // 14
      "[string]: _", // 15
      "X=e: X", // 16
      "f: a &", // 17
      "\tb", // 18
    ].join("\n");
    const d = topLevelDecls(body);
    expect(d.map((x) => [x.kind, x.label ?? "", x.line, x.endLine])).toEqual([
      ["field", "#A", 2, 4],
      ["field", "#B", 9, 9],
      ["field", "c", 9, 9],
      ["let", "l", 10, 10],
      ["embed", "", 11, 11],
      ["comprehension", "", 12, 12],
      ["field", "quoted-label", 13, 13],
      ["field", "", 14, 14],
      ["field", "", 15, 15],
      ["field", "e", 16, 16],
      ["field", "f", 17, 18],
    ]);
    expect(d[0]!.text).toBe("// A is a.\n#A: {\n\tx: int\n}");
    expect(d[1]!.text).toBe("// B.\n#B?: string");
    expect(d[1]!.optional).toBe(true);
    expect(d[2]!.text).toBe("c: 1");
    expect(body.slice(d[10]!.start, d[10]!.end)).toBe("f: a &\n\tb");
  });
  it("reads every catalog package into named declarations", () => {
    for (const f of cueFiles("catalog")) {
      const text = readFileSync(f, "utf8");
      const h = readHeader(text, f);
      const decls = topLevelDecls(text.slice(h.bodyOffset), f);
      expect(decls.length).toBeGreaterThan(0);
      // Catalog files hold definitions only, each starting at column 0.
      for (const d of decls) {
        expect(d.kind, `${f}:${d.line}`).toBe("field");
        expect(d.label, `${f}:${d.line}`).toMatch(/^#/);
      }
    }
  });
});
