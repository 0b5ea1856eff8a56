// Every cross-component reference follows the release: two names, two namespaces, two cluster domains.
import { describe, expect, it } from "vitest";
import { render } from "opm-ts";
import { getObject } from "opm-ts/testing";
import threeTier from "./module.js";

describe("three-tier", () => {
  it("wires web → api → db through references that follow the release", async () => {
    const releases = [
      { name: "store", namespace: "prod", domain: "cluster.local" },
      { name: "demo", namespace: "staging", domain: "corp.example" },
    ];
    for (const { name, namespace, domain } of releases) {
      const out = await render(threeTier.release({ name, namespace, ...(domain === "cluster.local" ? {} : { clusterDomain: domain }) }));
      const env = (deployment: string) => getObject(out, "Deployment", deployment).spec.template.spec.containers[0].env;
      // web → api: the API's Service in the same namespace, on its Service port.
      expect(getObject(out, "Service", `${name}-api`).spec.ports[0].port).toBe(8000);
      expect(env(`${name}-web`)).toEqual([{ name: "API_URL", value: `http://${name}-api:8000` }]);
      // api → db: the database's fully qualified Service name, port and Secret.
      expect(getObject(out, "Service", `${name}-db`).metadata.namespace).toBe(namespace);
      expect(getObject(out, "Secret", `${name}-db-credentials`).metadata.namespace).toBe(namespace);
      expect(env(`${name}-api`)).toEqual([
        { name: "DATABASE_HOST", value: `${name}-db.${namespace}.svc.${domain}` },
        { name: "DATABASE_PORT", value: "5432" },
        { name: "DATABASE_PASSWORD", valueFrom: { secretKeyRef: { name: `${name}-db-credentials`, key: "password" } } },
        { name: "RELEASE", value: `${name}.${namespace} (1.0.0)` },
      ]);
    }
  }, 120_000);
});
