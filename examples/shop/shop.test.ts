// How to test a multi-component module: one render, assertions across components.
import { describe, expect, it } from "vitest";
import { render } from "opm-ts";
import { getObject, objectsOfKind } from "opm-ts/testing";
import shop from "./module.js";

describe("shop", () => {
  it("wires every client to the database through references that follow the release", async () => {
    // Two releases side by side: each client points at its own release's database.
    for (const [name, namespace] of [
      ["acme", "shop"],
      ["beta", "staging"],
    ] as const) {
      const out = await render(shop.release({ name, namespace, values: { version: "3.1.0", db: { name: "orders", port: 6543 } } }));
      const url = `postgres://shop@${name}-db:6543/orders?sslmode=disable`;
      const password = { name: "DATABASE_PASSWORD", valueFrom: { secretKeyRef: { name: `${name}-db-credentials`, key: "password" } } };
      for (const dep of [`${name}-api`, `${name}-worker`]) {
        const env = getObject(out, "Deployment", dep).spec.template.spec.containers[0].env;
        expect(env).toContainEqual({ name: "DATABASE_URL", value: url });
        expect(env).toContainEqual(password);
      }
      const cron = getObject(out, "CronJob", `${name}-cleanup`).spec.jobTemplate.spec.template.spec.containers[0];
      expect(cron.env).toContainEqual({ name: "DATABASE_URL", value: url });
      expect(cron.env).toContainEqual(password);
      // The names the clients point at are the ones the database component renders, in this namespace.
      const svc = getObject(out, "Service", `${name}-db`);
      expect(svc.metadata.namespace).toBe(namespace);
      expect(svc.spec.ports[0].port).toBe(6543);
      expect(getObject(out, "Secret", `${name}-db-credentials`).metadata.namespace).toBe(namespace);
      expect(getObject(out, "Deployment", `${name}-api`).spec.template.spec.containers[0].image).toBe("ghcr.io/example/shop-api:3.1.0");
    }
  }, 120_000);

  it("lets only the API, the worker and the clean-up job reach the database", async () => {
    const out = await render(shop.release({ name: "shop", namespace: "shop" }));
    const from = getObject(out, "NetworkPolicy", "shop-db").spec.ingress[0].from;
    expect(from.map((p: { podSelector: { matchLabels: Record<string, string> } }) => p.podSelector.matchLabels["component.opmodel.dev/name"])).toEqual([
      "api",
      "worker",
      "cleanup",
    ]);
    expect(objectsOfKind(out, "RoleBinding")[0]!.subjects).toEqual([{ kind: "ServiceAccount", name: "shop-api", namespace: "shop" }]);
    expect(getObject(out, "Deployment", "shop-api").spec.template.spec.serviceAccountName).toBe("shop-api");
  });
});
