// How to test a multi-component module: one render, assertions across components.
import { describe, expect, it } from "vitest";
import { render } from "opm-ts";
import { getObject, objectsOfKind } from "opm-ts/testing";
import shop from "./module.js";

describe("shop", () => {
  it("wires every client to the database from the shared config", async () => {
    const out = await render(
      shop.release({ name: "acme", namespace: "shop", values: { version: "3.1.0", db: { host: "acme-db", name: "orders" } } }),
    );
    const url = "postgres://shop@acme-db:5432/orders?sslmode=disable";
    for (const name of ["acme-api", "acme-worker"]) {
      const env = getObject(out, "Deployment", name).spec.template.spec.containers[0].env;
      expect(env).toContainEqual({ name: "DATABASE_URL", value: url });
      expect(env).toContainEqual({ name: "DATABASE_PASSWORD", valueFrom: { secretKeyRef: { name: "acme-db-credentials", key: "password" } } });
    }
    const cron = getObject(out, "CronJob").spec.jobTemplate.spec.template.spec.containers[0];
    expect(cron.env).toContainEqual({ name: "DATABASE_URL", value: url });
    // The names the config points at are the ones the database component renders.
    expect(getObject(out, "Service", "acme-db").spec.ports[0].port).toBe(5432);
    expect(getObject(out, "Secret", "acme-db-credentials")).toBeDefined();
    expect(getObject(out, "Deployment", "acme-api").spec.template.spec.containers[0].image).toBe("ghcr.io/example/shop-api:3.1.0");
  });

  it("lets only the API, the worker and the clean-up job reach the database", async () => {
    const out = await render(shop.release({ name: "shop", namespace: "shop" }));
    const from = getObject(out, "NetworkPolicy", "shop-db").spec.ingress[0].from;
    expect(from.map((p: { podSelector: { matchLabels: Record<string, string> } }) => p.podSelector.matchLabels["component.opmodel.dev/name"])).toEqual(["api", "worker", "cleanup"]);
    expect(objectsOfKind(out, "RoleBinding")[0]!.subjects).toEqual([{ kind: "ServiceAccount", name: "shop-api", namespace: "shop" }]);
    expect(getObject(out, "Deployment", "shop-api").spec.template.spec.serviceAccountName).toBe("shop-api");
  });
});
