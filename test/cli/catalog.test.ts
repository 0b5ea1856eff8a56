import { describe, expect, it } from "vitest";
import { main, type IO } from "../../src/cli/main.js";
import { findEntry } from "../../src/cli/catalog.js";
import type { CatalogEntry } from "../../src/program/catalog-index.js";

async function run(...args: string[]) {
  let out = "";
  let err = "";
  const io: IO = {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    isTTY: false,
  };
  const code = await main(args, io);
  return { code, out, err };
}

describe("opm catalog", () => {
  it("lists every group with FQN and description as JSON", async () => {
    const r = await run("catalog", "-o", "json");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(Object.keys(doc)).toEqual(["resources", "traits", "blueprints", "transformers", "policies"]);
    expect(doc.resources.length).toBeGreaterThanOrEqual(1);
    for (const g of Object.values(doc) as { fqn: string; description: string }[][]) {
      for (const e of g) {
        expect(e.fqn).toMatch(/@v\d+$/);
        expect(typeof e.description).toBe("string");
      }
    }
    const scaling = doc.traits.find((t: { fqn: string }) => t.fqn === "opm.dev/catalog/traits/scaling@v1");
    expect(scaling).toMatchObject({ specKey: "scaling", appliesTo: ["opm.dev/catalog/resources/container@v1"] });
    const deployment = doc.transformers.find((t: { fqn: string }) => t.fqn.endsWith("/deployment@v1"));
    expect(deployment).toMatchObject({
      requiredResources: ["opm.dev/catalog/resources/container@v1"],
      requiredLabels: { "core.opmodel.dev/workload-type": "stateless" },
    });
    expect(doc.blueprints[0].composedResources).toContain("opm.dev/catalog/resources/container@v1");
  });

  it("lists as text", async () => {
    const r = await run("catalog");
    expect(r.out).toMatch(/^Resources \(\d+\)/);
    expect(r.out).toContain("opm.dev/catalog/traits/expose@v1");
    expect(r.out).toContain("Policies (");
  });

  it("shows one entry's schema and an example", async () => {
    const r = await run("catalog", "opm.dev/catalog/traits/scaling@v1", "-o", "json");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.schema.properties.count).toMatchObject({ type: "integer", minimum: 0, maximum: 1000, default: 1 });
    expect(doc.example.scaling.count).toBe(1);
    const bp = JSON.parse((await run("catalog", "stateless-workload", "-o", "json")).out);
    expect(Object.keys(bp.schema.properties)).toEqual(["container", "scaling"]);
  });

  it("finds an entry by FQN, by name in any case or spelling, or by its CUE definition", () => {
    const entry = (kind: CatalogEntry["kind"], name: string, definition: string, mixin?: string, group = `${kind}s`): CatalogEntry => ({
      kind,
      name,
      definition,
      ...(mixin ? { mixin } : {}),
      fqn: `opm.dev/catalog/${group}/${name}@v1`,
      description: "",
      package: `opm.dev/catalog/${group}@v1`,
    });
    const all = [
      entry("trait", "expose", "#ExposeTrait", "#Expose"),
      entry("trait", "http-route", "#HttpRouteTrait", "#HttpRoute"),
      entry("resource", "role", "#RolesResource", "#Roles"),
      entry("transformer", "role", "#RoleTransformer", undefined, "providers/kubernetes"),
    ];
    for (const q of ["expose", "Expose", "EXPOSE", "#Expose", "#ExposeTrait", "opm.dev/catalog/traits/expose@v1", "opm.dev/catalog/traits/expose"]) {
      expect(findEntry(all, q).fqn, q).toBe("opm.dev/catalog/traits/expose@v1");
    }
    for (const q of ["http-route", "HttpRoute", "httproute", "#HttpRoute"]) expect(findEntry(all, q).name, q).toBe("http-route");
    expect(findEntry(all, "#Roles").kind).toBe("resource");
    expect(findEntry(all, "#RoleTransformer").kind).toBe("transformer");
    expect(() => findEntry(all, "role")).toThrow(
      '"role" names 2 catalog entries: opm.dev/catalog/resources/role@v1, opm.dev/catalog/providers/kubernetes/role@v1; give the FQN',
    );
    expect(() => findEntry(all, "Exposed")).toThrow('no catalog entry "Exposed"');
  });

  it("opm catalog takes a name in any case and a CUE definition", async () => {
    for (const q of ["NoLatestTag", "no-latest-tag", "#NoLatestTagPolicy"]) {
      const r = await run("catalog", q, "-o", "json");
      expect([q, r.code, r.err]).toEqual([q, 0, ""]);
      expect(JSON.parse(r.out)).toMatchObject({ kind: "policy", fqn: "opm.dev/catalog/policies/no-latest-tag@v1" });
    }
  });

  it("fails on an unknown entry", async () => {
    const r = await run("catalog", "opm.dev/nope@v1");
    expect(r.code).toBe(2);
    expect(r.err).toContain("no catalog entry");
  });
});
