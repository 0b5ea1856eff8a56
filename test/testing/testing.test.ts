import "opm-ts/testing/vitest";
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, expectTypeOf, test } from "vitest";
import { config, defineModule, type K8sObject, type RenderResult } from "opm-ts";
import { Expose, StatelessWorkload } from "opm-ts/catalog";
import { fieldAt, getObject, opmMatchers, renderForTest, testEngine, toSnapshotYaml, yamlSerializer } from "opm-ts/testing";
import hello from "../../examples/hello/module.js";

// Written as README.md shows it. The README's own copy runs under vitest's default 5 s timeout
// (test/docs/snippets.test.ts); here the suite's timeout applies, and the first render's time
// in this worker (the engine warmed while the file was imported) is printed.
test("hello runs three replicas behind a Service", async () => {
  const started = performance.now();
  const out = await renderForTest(hello, { namespace: "demo", values: { replicas: 3 } });
  console.log(`first renderForTest in this worker: ${Math.round(performance.now() - started)} ms`);
  expect(out).toContainObject("Deployment", "hello-web");
  expect(getObject(out, "Deployment")).toHaveField("spec.replicas", 3);
  expect(getObject(out, "Service")).toHaveField("spec.ports[0]", { name: "http", port: 80, targetPort: 8080, protocol: "TCP" });
});

const withSecret = defineModule({
  metadata: { modulePath: "example.com/modules", name: "vault", version: "0.1.0" },
  config: { image: config.string().default("nginx:1.27"), password: config.secret({ group: "db", key: "password" }) },
  components: (cfg) => ({
    web: StatelessWorkload({ container: { image: cfg.image, env: { PASSWORD: { secret: cfg.password } }, ports: { http: { targetPort: 8080 } } } }).with(
      Expose({ ports: { http: { targetPort: 8080, exposedPort: 80 } } }),
    ),
  }),
});

test("only opm-ts/testing/vitest imports vitest: it stays an optional peer", () => {
  const dir = new URL("../../src/testing/", import.meta.url);
  const importsOf = (f: string) => [...readFileSync(new URL(f, dir), "utf8").matchAll(/^import\s[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1]);
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));
  expect(files).toContain("vitest.ts");
  for (const f of files)
    if (f !== "vitest.ts")
      expect(
        importsOf(f).filter((m) => m === "vitest" || m!.startsWith("@vitest/")),
        f,
      ).toEqual([]);
  expect(importsOf("vitest.ts")).toContain("vitest");
});

describe("renderForTest", () => {
  test("shares one engine per worker, also across re-imported modules", async () => {
    const out = await renderForTest(hello);
    expect(out.release).toMatchObject({ name: "hello", namespace: "default" });
    expect(testEngine()).toBe(testEngine());
    // A second instance of the module (as each test file gets when vitest isolates files) shares the engine.
    const second = "../../src/testing/index.ts?instance=2";
    const again = (await import(/* @vite-ignore */ second)) as typeof import("opm-ts/testing");
    expect(again.testEngine).not.toBe(testEngine);
    expect(again.testEngine()).toBe(testEngine());
    expect((globalThis as Record<symbol, unknown>)[Symbol.for("opm-ts.testing.engine")]).toBe(testEngine());
  });

  test("takes a release as well as a module", async () => {
    const out = await renderForTest(hello.release({ name: "h2", namespace: "x" }));
    expect(out).toContainObject("Service", "h2-web");
  });

  test("types: values are checked against the module's config", () => {
    expectTypeOf(renderForTest(hello)).resolves.toEqualTypeOf<RenderResult>();
    // @ts-expect-error replicas is a number
    void (() => renderForTest(hello, { values: { replicas: "3" } }));
    // @ts-expect-error the module requires a password
    void (() => renderForTest(withSecret));
  });
});

describe("matchers", () => {
  const objects: K8sObject[] = [
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", labels: { "app.kubernetes.io/name": "hello" } },
      spec: { replicas: 2, template: { spec: { containers: [{ name: "web", image: "nginx" }] } } },
    },
    { apiVersion: "v1", kind: "Service", metadata: { name: "web" } },
  ];
  const fail = (f: () => void) => {
    try {
      f();
    } catch (e) {
      return String((e as Error).message);
    }
    throw new Error("the assertion passed");
  };

  test("toContainObject: by kind, by kind and name, negated, with the objects listed on failure", () => {
    expect(objects).toContainObject("Service");
    expect(objects).toContainObject("Deployment", "web");
    expect(objects).not.toContainObject("Deployment", "api");
    expect(fail(() => expect(objects).toContainObject("Ingress"))).toBe("expected a Ingress among the rendered objects: Deployment web, Service web");
    expect(fail(() => expect(objects).not.toContainObject("Service", "web"))).toBe("expected no Service web, but it was rendered");
    expect(fail(() => expect(42).toContainObject("Service"))).toMatch(/expected a render result or a list of objects/);
  });

  test("toHaveField: paths with indices and quoted keys, asymmetric values, messages naming the object and field", () => {
    const d = objects[0]!;
    expect(d).toHaveField("spec.template.spec.containers[0].image", "nginx");
    expect(d).toHaveField('metadata.labels["app.kubernetes.io/name"]', "hello");
    expect(d).toHaveField(["spec", "replicas"], expect.any(Number));
    expect(d).not.toHaveField("spec.replicas", 3);
    expect(fail(() => expect(d).toHaveField("spec.replicas", 3))).toBe("expected Deployment web to have spec.replicas = 3, found 2");
    expect(fail(() => expect(d).toHaveField("spec.template.spec.volumes", []))).toBe(
      "expected Deployment web to have spec.template.spec.volumes = [], but spec.template.spec has no such field (it has: containers)",
    );
    expect(fail(() => expect(objects).toHaveField("spec.replicas", 2))).toMatch(/expects one object/);
    expect(() => fieldAt(d, "spec..replicas")).toThrow(/cannot read the field path "spec..replicas" at character 5/);
  });

  test("are plain functions: no test runner needed to use them elsewhere", () => {
    const ctx = { isNot: false, equals: (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b) };
    expect(opmMatchers.toHaveField.call(ctx, objects[0], "spec.replicas", 2).pass).toBe(true);
    expect(opmMatchers.toContainObject.call(ctx, objects, "Secret").pass).toBe(false);
  });
});

describe("YAML snapshots", () => {
  test("a render result snapshots as deterministic YAML with Secret data redacted", async () => {
    const out = await renderForTest(withSecret, { namespace: "demo", values: { password: "hunter2-planted" } });
    const text = yamlSerializer.serialize(out);
    expect(text).toBe(toSnapshotYaml(out.objects));
    expect(text).toBe(out.yaml().trimEnd());
    expect(text).toContain("kind: Secret");
    expect(text).not.toContain("hunter2-planted");
    expect(text).not.toContain(Buffer.from("hunter2-planted").toString("base64"));
    expect(yamlSerializer.test(out)).toBe(true);
    expect(yamlSerializer.test(out.objects)).toBe(true);
    expect(yamlSerializer.test(out.objects[0])).toBe(true);
    expect(yamlSerializer.test({ kind: "x" })).toBe(false);
    expect(yamlSerializer.test([])).toBe(false);
  });

  test("is registered with vitest by opm-ts/testing/vitest", () => {
    expect(objects()).toMatchInlineSnapshot(`
      ---
      apiVersion: v1
      kind: Secret
      metadata:
        name: creds
      data:
        password: <redacted>
    `);
  });
});

function objects(): K8sObject[] {
  return [{ apiVersion: "v1", kind: "Secret", metadata: { name: "creds" }, data: { password: Buffer.from("hunter2").toString("base64") } }];
}
