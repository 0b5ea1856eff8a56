/**
 * Author mistakes in a module file: each is an error with the field path and the author's
 * `file:line`, exit 1, never "internal error" (issue 9.5).
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { render } from "opm-ts";
import { type OpmError, ValidationError, type Issue } from "../../src/core/errors.js";
import { spawnSync } from "node:child_process";
import { config, definePolicy, violation } from "opm-ts";
import { arithmetic, badDefault, nested } from "../fixtures/modules/author-mistakes.js";
import { markLine } from "../support/lines.js";

const FIXTURE = "test/fixtures/modules/author-mistakes.ts";

async function issuesOf(p: Promise<unknown>): Promise<Issue[]> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(ValidationError.is(e)).toBe(true);
  return [...(e as OpmError).issues];
}
const where = (i: Issue | undefined) => [i?.source?.file && path.normalize(i.source.file), i?.source?.line];

describe("author mistakes", () => {
  it("arithmetic on a config reference: an error at the line, exit 1 from the CLI", async () => {
    const issues = await issuesOf(render(arithmetic));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      code: "invalid_type",
      path: "config.replicas",
      message: expect.stringMatching(/^cfg\.replicas is a reference that a release fills in later/),
    });
    expect(where(issues[0])).toEqual([FIXTURE, markLine(FIXTURE, "arith")]);

    // The built CLI, as a user runs it (tsx loads the module file; the line is the author's).
    const r = spawnSync(process.execPath, ["bin/opm.js", "build", FIXTURE], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.stderr).toContain(`config.replicas: cfg.replicas is a reference`);
    expect(r.stderr).toContain(`(${FIXTURE}:${markLine(FIXTURE, "arith")}:`);
  });

  it("an invalid default names the field and the line of its .default()", async () => {
    const issues = await issuesOf(render(badDefault));
    expect(issues.map((i) => i.path).sort()).toEqual(["config.db.port", "config.replicas"]);
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
    expect(byPath["config.replicas"]).toMatchObject({ code: "out_of_range", message: "invalid default: 0 is less than the minimum 1", constraint: ">=1" });
    expect(where(byPath["config.replicas"])).toEqual([FIXTURE, markLine(FIXTURE, "default")]);
    expect(byPath["config.db.port"]).toMatchObject({ message: "invalid default: 70000 is greater than the maximum 65535" });
    expect(where(byPath["config.db.port"])).toEqual([FIXTURE, markLine(FIXTURE, "nesteddefault")]);
  });

  it("an invalid policy parameter default is an error naming the parameter", () => {
    const define = () =>
      definePolicy({
        modulePath: "example.com/policies",
        name: "bad-default",
        description: "d",
        params: { max: config.int().min(1).default(0) },
        rules: { r: { description: "d", target: "object", check: () => [violation("kind", "x")] } },
      });
    expect(define).toThrow(/params\.max: invalid default: 0 is less than the minimum 1/);
  });

  it("missing nested values point at each field's own line; a missing secret says how to give one", async () => {
    const issues = await issuesOf(render(nested.release({ values: {} as never })));
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
    expect(Object.keys(byPath).sort()).toEqual(["values.db.host", "values.db.password"]);
    expect(byPath["values.db.host"]).toMatchObject({ code: "required", message: "a value is required and has no default" });
    expect(where(byPath["values.db.host"])).toEqual([FIXTURE, markLine(FIXTURE, "host")]);
    // The message docs/secrets.md shows.
    expect(byPath["values.db.password"]!.message).toMatch(/^a secret value is required/);
    expect(where(byPath["values.db.password"])).toEqual([FIXTURE, markLine(FIXTURE, "password")]);
    // The same when the object is given without them.
    const partial = await issuesOf(render(nested.release({ values: { db: {} } as never })));
    expect(partial.map((i) => [i.path, where(i)[1]]).sort()).toEqual([
      ["values.db.host", markLine(FIXTURE, "host")],
      ["values.db.password", markLine(FIXTURE, "password")],
    ]);
  });
});
