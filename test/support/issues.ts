import { expect } from "vitest";
import { OpmError, type Issue } from "../../src/core/errors.js";

/** The issues of a call that must fail with an OpmError (a test failure if it succeeds). */
export async function issuesOf(p: Promise<unknown>): Promise<Issue[]> {
  try {
    await p;
  } catch (e) {
    expect(OpmError.is(e)).toBe(true);
    return [...(e as OpmError).issues];
  }
  throw new Error("expected the render to fail");
}
