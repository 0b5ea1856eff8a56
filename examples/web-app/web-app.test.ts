// How to test a module: render a release in a vitest test and assert on the objects.
import { describe, expect, it } from "vitest";
import { render } from "opm-ts";
import { getObject, objectsOfKind } from "opm-ts/testing";
import webApp from "./module.js";

describe("web-app", () => {
  it("autoscales instead of fixing replicas, and routes the host to the Service port", async () => {
    const out = await render(webApp.release({ name: "shop", namespace: "web", values: { host: "www.example.org", maxReplicas: 20 } }));
    const deployment = getObject(out, "Deployment", "shop-web");
    expect(deployment.spec.replicas).toBeUndefined();
    expect(getObject(out, "HorizontalPodAutoscaler").spec).toMatchObject({
      minReplicas: 2,
      maxReplicas: 20,
      scaleTargetRef: { kind: "Deployment", name: "shop-web" },
    });
    const ingress = getObject(out, "Ingress");
    expect(ingress.spec.rules[0].host).toBe("www.example.org");
    expect(ingress.spec.rules[0].http.paths[0].backend.service).toEqual({ name: "shop-web", port: { number: 80 } });
    expect(getObject(out, "HTTPRoute").spec.hostnames).toEqual(["www.example.org"]);
  });

  it("rolls the pods when the config changes: the immutable ConfigMap is renamed and the Deployment follows", async () => {
    const rel = webApp.release({ name: "shop", namespace: "web" });
    const before = await render(rel);
    const after = await render(rel.withValues({ logLevel: "debug" }));
    const [cmBefore] = objectsOfKind(before, "ConfigMap");
    const [cmAfter] = objectsOfKind(after, "ConfigMap");
    expect(cmBefore!.metadata.name).toMatch(/^shop-web-settings-[0-9a-f]{10}$/);
    expect(cmAfter!.metadata.name).not.toBe(cmBefore!.metadata.name);
    const pod = getObject(after, "Deployment").spec.template.spec;
    expect(pod.containers[0].envFrom).toEqual([{ configMapRef: { name: cmAfter!.metadata.name } }]);
    expect(pod.volumes).toContainEqual({ name: "config", configMap: { name: cmAfter!.metadata.name } });
  });
});
