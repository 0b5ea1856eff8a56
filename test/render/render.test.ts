import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { loadCueModule, render, toCueFiles } from "../../src/render/render.js";
import { LABELS } from "../../src/render/types.js";
import hello from "../../examples/hello/module.js";
import shop from "../fixtures/modules/shop.js";

describe("render", () => {
  it("renders a module with typed config into Deployment and Service", async () => {
    const out = await render(hello.release({ name: "web1", namespace: "demo", values: { replicas: 3, image: "nginx:1.28" } }));
    expect(out.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["Service/web1-web", "Deployment/web1-web"]);
    const dep = out.objects[1] as Record<string, any>;
    expect(dep.spec.replicas).toBe(3);
    expect(dep.spec.template.spec.containers[0].image).toBe("nginx:1.28");
    expect(dep.spec.selector.matchLabels).toEqual({ [LABELS.instance]: "web1", [LABELS.component]: "web" });
    // The selector must select the pod template.
    for (const [k, v] of Object.entries(dep.spec.selector.matchLabels)) expect(dep.spec.template.metadata.labels[k]).toBe(v);
    const svc = out.objects[0] as Record<string, any>;
    expect(svc.spec.ports).toEqual([{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }]);
    expect(svc.spec.selector).toEqual(dep.spec.selector.matchLabels);
  });

  it("applies config defaults when the release sets nothing", async () => {
    const out = await render(hello);
    const dep = out.objects.find((o) => o.kind === "Deployment") as Record<string, any>;
    expect(dep.spec.replicas).toBe(2);
    expect(dep.metadata.namespace).toBe("default");
    expect(out.release).toMatchObject({ name: "hello", namespace: "default", module: { fqn: "example.com/modules/hello@v0", version: "0.1.0" } });
  });

  it("stamps the standard labels on every object, with stable ids", async () => {
    const a = await render(hello.release({ namespace: "demo" }));
    const b = await render(hello.release({ namespace: "other" }));
    for (const o of a.objects) {
      expect(o.metadata.labels).toMatchObject({
        [LABELS.name]: "hello",
        [LABELS.instance]: "hello",
        [LABELS.version]: "0.1.0",
        [LABELS.managedBy]: "opm",
        [LABELS.moduleName]: "hello",
        [LABELS.releaseName]: "hello",
        [LABELS.releaseNamespace]: "demo",
        [LABELS.component]: "web",
      });
      expect(o.metadata.labels![LABELS.releaseUuid]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(a.release.uuid).not.toBe(b.release.uuid);
    expect(a.release.module.uuid).toBe(b.release.module.uuid);
    expect((await render(hello.release({ namespace: "demo" }))).release.uuid).toBe(a.release.uuid);
  });

  it("is byte-deterministic and its YAML parses back to the same objects", async () => {
    const r1 = await render(shop.release({ values: { image: "shop:1" } }));
    const r2 = await render(shop.release({ values: { image: "shop:1" } }));
    expect(r1.yaml()).toBe(r2.yaml());
    expect(r1.json()).toBe(r2.json());
    expect(r1.digest).toBe(r2.digest);
    const docs = parseAllDocuments(r1.yaml()).map((d) => d.toJS());
    expect(docs).toEqual(r1.objects);
    expect(JSON.parse(r1.json())).toEqual({ apiVersion: "v1", kind: "List", items: r1.objects });
    for (const o of docs) expect(Object.keys(o).slice(0, 3)).toEqual(["apiVersion", "kind", "metadata"]);
  });

  it("interpolates references inside strings", async () => {
    const r = await render(shop.release({ values: { image: "shop:1", db: { host: "pg" } } }));
    const dep = r.objects.find((o) => o.kind === "Deployment") as Record<string, any>;
    expect(dep.spec.template.spec.containers[0].args).toEqual(["--db=pg:5432"]);
  });

  it("changes the digest when values change, and the values digest tracks the values", async () => {
    const a = await render(shop.release({ values: { image: "shop:1" } }));
    const b = await render(shop.release({ values: { image: "shop:2" } }));
    expect(a.digest).not.toBe(b.digest);
    expect(a.valuesDigest).not.toBe(b.valuesDigest);
  });

  it("renders the CUE files a module compiles to exactly as the module itself", async () => {
    const rel = shop.release({ name: "s1", namespace: "ns1", values: { image: "shop:7", replicas: 4 } });
    const dir = mkdtempSync(path.join(tmpdir(), "opm-cue-"));
    for (const f of toCueFiles(rel)) writeFileSync(path.join(dir, f.name), f.text);
    const fromTs = await render(rel);
    const fromCue = await render(loadCueModule(dir));
    expect(fromCue.yaml()).toBe(fromTs.yaml());
    expect(fromCue.release).toEqual(fromTs.release);
  });

  it("renders a hand-written CUE module with values and identity from the caller", async () => {
    const out = await render(loadCueModule("examples/hello-cue", { name: "hc", namespace: "demo", values: { replicas: 5 } }));
    const dep = out.objects.find((o) => o.kind === "Deployment") as Record<string, any>;
    expect(dep.metadata).toMatchObject({ name: "hc-web", namespace: "demo" });
    expect(dep.spec.replicas).toBe(5);
    expect(out.release.module.fqn).toBe("example.com/modules/hello-cue@v0");
  });
});
