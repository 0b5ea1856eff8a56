/**
 * Values files: syntax errors at their real line and column, and hostile or oversized input
 * (many megabytes, alias bombs, strings no ConfigMap can hold, oversized objects) refused with a
 * clear error before the CUE engine runs.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { OpmError, ValidationError } from "../../src/core/errors.js";
import { checkObjectSizes, LIMITS } from "../../src/render/limits.js";
import { render } from "../../src/render/render.js";
import { loadValuesFile, parseValues } from "../../src/render/values.js";
import type { K8sObject } from "../../src/render/types.js";
import hello from "../../examples/hello/module.js";
import { aliasBomb } from "../support/hostile.js";

function failure(f: () => unknown): OpmError {
  try {
    f();
  } catch (e) {
    expect(OpmError.is(e)).toBe(true);
    return e as OpmError;
  }
  throw new Error("expected an error");
}

describe("YAML syntax errors", () => {
  const cases: [string, string, number, number, RegExp][] = [
    ["an unclosed flow sequence", "replicas: 2\nimage: [a, b\nother: 3\n", 3, 1, /Flow sequence/],
    ["an unclosed quote (found missing at the end of the file)", "replicas: 2\n\nimage: 'nginx\n", 4, 1, /closing 'quote/],
    ["a duplicate key", "replicas: 2\nimage: a\nreplicas: 3\n", 3, 1, /unique/],
    ["a bad indent", "env:\n  - a\n  b: 1\n", 3, 1, /same column/],
  ];
  for (const [what, text, line, column, message] of cases) {
    it(`${what} is reported at line ${line}, column ${column}`, () => {
      const e = failure(() => parseValues(text, "prod.yaml"));
      expect(e.message).toMatch(/^cannot parse values file prod\.yaml/);
      expect(e.issues[0]).toMatchObject({ source: { file: "prod.yaml", line, column } });
      expect(e.issues[0]!.message).toMatch(message);
    });
  }
});

describe("limits", () => {
  it("a values file of many megabytes is refused before it is read", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "opm-big-"));
    const f = path.join(dir, "big.yaml");
    writeFileSync(f, `image: "${"x".repeat(5 * 1024 * 1024)}"\n`);
    const e = failure(() => loadValuesFile(f));
    expect(e.message).toMatch(/^values file .*big\.yaml is 5\.0 MiB; the limit is 1 MiB/);
  });

  it("a values file that does not exist says so", () => {
    expect(failure(() => loadValuesFile(path.join(tmpdir(), "opm-no-such-dir", "prod.yaml"))).message).toMatch(/^values file .*prod\.yaml does not exist$/);
  });

  it("a YAML alias bomb is refused, not expanded", () => {
    const e = failure(() => parseValues(aliasBomb(), "bomb.yaml"));
    expect(e.code).toBe("values");
    expect(e.message).toBe(`values file bomb.yaml expands YAML aliases (*name) too often (limit ${LIMITS.yamlAliases}): write the values out instead`);
    // A few aliases are fine.
    expect(parseValues("base: &b {a: 1}\nother: *b\n", "ok.yaml").values).toEqual({ base: { a: 1 }, other: { a: 1 } });
  });

  it("a string longer than any ConfigMap can hold is refused with its path and origin, before evaluation", async () => {
    const vf = parseValues(`replicas: 2\nimage: "${"x".repeat(100)}"\n`, "prod.yaml");
    const rel = hello.release().withValues({ ...vf.values, image: "x".repeat(LIMITS.stringBytes + 1) }, vf.provenance);
    const err = await render(rel).catch((e) => e);
    expect(ValidationError.is(err)).toBe(true);
    expect(err.issues).toEqual([
      expect.objectContaining({
        code: "out_of_range",
        path: "values.image",
        constraint: "<= 1 MiB",
        message: expect.stringMatching(/^a string of 1\.0 MiB is longer than any ConfigMap or Secret can hold/),
        source: { file: "prod.yaml", line: 2, column: 1 },
      }),
    ]);
  });

  it("rendered ConfigMaps and Secrets over 1 MiB of data, and objects over 1.5 MiB, are errors naming object and component", () => {
    const labels = { "component.opmodel.dev/name": "web" };
    const half = "y".repeat(600 * 1024);
    const cm: K8sObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "big", labels }, data: { a: half, b: half } } as K8sObject;
    const small: K8sObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "small" }, data: { a: half } } as K8sObject;
    const crd: K8sObject = { apiVersion: "example.com/v1", kind: "Blob", metadata: { name: "blob", labels }, spec: { a: half, b: half, c: half } } as K8sObject;
    expect(checkObjectSizes([small])).toEqual([]);
    expect(checkObjectSizes([cm, small, crd])).toEqual([
      {
        code: "out_of_range",
        path: "ConfigMap/big",
        message: "ConfigMap data is 1.2 MiB (component web); Kubernetes accepts at most 1 MiB",
        constraint: "<= 1 MiB",
      },
      {
        code: "out_of_range",
        path: "Blob/blob",
        message: "the object is 1.8 MiB (component web); the Kubernetes API accepts at most 1.5 MiB per request",
        constraint: "<= 1.5 MiB",
      },
    ]);
  });
});
