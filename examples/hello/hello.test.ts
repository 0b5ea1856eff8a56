// How to test a module: render it in a vitest test and assert on the objects.
import { describe, expect, it } from "vitest";
import { render } from "opm-ts";
import { getObject } from "opm-ts/testing";
import hello from "./module.js";

describe("hello", () => {
  it("runs the requested number of replicas behind a Service on port 80", async () => {
    const out = await render(hello.release({ name: "hello", namespace: "demo", values: { replicas: 3 } }));
    expect(getObject(out, "Deployment").spec.replicas).toBe(3);
    expect(getObject(out, "Service").spec.ports[0]).toMatchObject({ port: 80, targetPort: 8080 });
  });
});
