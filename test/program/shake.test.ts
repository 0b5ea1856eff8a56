import { describe, expect, it } from "vitest";
import { defaultEngine, type EvalStats } from "../../src/engine/engine.js";
import { catalogPackage, link, packageField, parseHeader, type CuePackage } from "../../src/program/link.js";
import { shake } from "../../src/program/shake.js";

/** A package from file texts (each a whole CUE file). */
function pkg(importPath: string, ...texts: string[]): CuePackage {
  const files = texts.map((text, i) => parseHeader({ name: `${importPath}/f${i}.cue`, text }));
  return { importPath, name: files[0]!.package, files };
}

const A = pkg(
  "x.dev/a@v1",
  `package a

import (
	"strings"
	b "x.dev/b@v1"
)

// #Used is reached from the root.
#Used: {
	name: b.#Name
	let up = strings.ToUpper(_helper)
	label: "\\(up)-\\(#InInterp)"
	list: [for x in #InFor {x}]
	items: [...#InEllipsis]
	#Unused: 1 // a nested label, not a reference
}

#Unused: "never reached"
_helper:    "h"
#InInterp:  "i"
#InFor: [1, 2]
#InEllipsis: int
#OnlyStrings: strings.Join(["a"], "")
`,
  `package a

import b "x.dev/b@v1"

#Other: b.#Other
`,
);
const B = pkg(
  "x.dev/b@v1",
  `package b

#Name:  string & #Short
#Short: =~"^.{1,10}$"
#Other: int
`,
);
const C = pkg("x.dev/c@v1", `package c\n\nimport a "x.dev/a@v1"\n\nwhole: a\n`);
const byPath = new Map([A, B, C].map((p) => [p.importPath, p] as const));
const resolve = (p: string) => byPath.get(p);

describe("shake", () => {
  it("keeps what the roots reach, across packages and through comprehensions, lets and interpolations", () => {
    const r = shake([{ importPath: A.importPath, names: ["#Used"] }], resolve);
    expect([...r.kept.get(A.importPath)!].sort()).toEqual(["#InEllipsis", "#InFor", "#InInterp", "#Used", "_helper"]);
    expect([...r.kept.get(B.importPath)!].sort()).toEqual(["#Name", "#Short"]);
    const a = r.packages.get(A.importPath)!;
    // The second file declares nothing reached: it is left out, and so is its import.
    expect(a.files.map((f) => f.file.name)).toEqual(["x.dev/a@v1/f0.cue"]);
    expect(a.files[0]!.imports.map((i) => i.alias)).toEqual(["strings", "b"]);
    expect(a.files[0]!.body).toMatch(/^#Used: \{\n\tname: b.#Name\n/);
    expect(a.files[0]!.body).not.toContain('"never reached"');
    expect(a.files[0]!.body).not.toContain("#OnlyStrings");
    expect(r.packages.get(B.importPath)!.files[0]!.body).not.toContain("#Other");
  });

  it("drops an import no kept declaration uses", () => {
    const r = shake([{ importPath: A.importPath, names: ["#InFor"] }], resolve);
    expect(r.packages.get(A.importPath)!.files[0]!.imports).toEqual([]);
    expect(r.packages.has(B.importPath)).toBe(false);
  });

  it("keeps a whole package used as a value, and a whole root package", () => {
    const r = shake([{ importPath: C.importPath }], resolve);
    expect(r.kept.get(C.importPath)).toEqual(new Set(["*"]));
    expect(r.kept.get(A.importPath)).toEqual(new Set(["*"]));
    expect(r.packages.get(A.importPath)!.files.map((f) => f.imports.map((i) => i.alias))).toEqual([["strings", "b"], ["b"]]);
    expect([...r.kept.get(B.importPath)!].sort()).toEqual(["#Name", "#Other", "#Short"]);
  });

  it("links a shaken program that the engine evaluates like the whole one", async () => {
    const shaken = shake([{ importPath: A.importPath, names: ["#Used"] }], resolve);
    const extra = `out: ${packageField(A.importPath)}.#Used & {name: "web"}`;
    const small = link([shaken.packages.get(A.importPath)!], extra, resolve, new Set(), shaken.packages).source;
    const whole = link([A], extra, resolve).source;
    expect(small.length).toBeLessThan(whole.length);
    const engine = defaultEngine();
    const [s, w] = await Promise.all([engine.eval(small, { cache: false }), engine.eval(whole, { cache: false })]);
    expect(s).toEqual(w);
    expect(s).toEqual({ out: { name: "web", label: "H-i", list: [1, 2], items: [] } });
  });
});

const PROVIDER = "opm.dev/catalog/providers/kubernetes@v1";

/** A component as a transformer's `#component` sees it, and its context. */
const component = {
  metadata: { name: "web", labels: { "core.opmodel.dev/workload-type": "stateless" }, annotations: {} },
  spec: {
    container: { image: "nginx:1.27", ports: { http: { targetPort: 8080, protocol: "TCP" } }, env: { MODE: { value: "prod" } } },
    scaling: { count: 3 },
    updateStrategy: { type: "RollingUpdate", maxSurge: 1 },
    healthCheck: { liveness: { httpGet: { path: "/healthz", port: 8080 } } },
  },
};
const context = {
  release: { name: "shop", namespace: "prod", uuid: "00000000-0000-0000-0000-000000000001" },
  module: { name: "shop", version: "1.0.0", fqn: "example.com/shop@v1", uuid: "00000000-0000-0000-0000-000000000002" },
  component: "web",
  name: "shop-web",
  labels: { "app.kubernetes.io/name": "web" },
  selectorLabels: { "app.kubernetes.io/name": "web" },
};

describe("shaking the Kubernetes provider", () => {
  it("renders the deployment transformer's output unchanged from a program a fraction of the size", async () => {
    const provider = catalogPackage(PROVIDER)!;
    const K = packageField(PROVIDER);
    const extra = `out: (${K}.#DeploymentTransformer.#transform & {#component: ${JSON.stringify(component)}, #context: ${JSON.stringify(context)}}).output`;
    const whole = link([provider], extra).source;
    const shaken = shake([{ importPath: PROVIDER, names: ["#DeploymentTransformer"] }]);
    const small = link([shaken.packages.get(PROVIDER)!], extra, undefined, new Set(), shaken.packages).source;
    // Other transformers are gone; what the deployment needs is there.
    expect(small).not.toContain("#StatefulSetTransformer:");
    expect(small).not.toContain("#ReleaseSecrets:");
    expect(small).toContain("#K8sPod:");
    expect(small).toContain("#K8sContainer:");
    const engine = defaultEngine();
    const ws: EvalStats = { evalMs: 0 };
    const ss: EvalStats = { evalMs: 0 };
    const w = await engine.eval<{ out: any[] }>(whole, { cache: false, stats: ws });
    const s = await engine.eval<{ out: any[] }>(small, { cache: false, stats: ss });
    expect(s).toEqual(w);
    expect(w.out[0].kind).toBe("Deployment");
    expect(w.out[0].spec.replicas).toBe(3);
    expect(w.out[0].spec.template.spec.containers[0].image).toBe("nginx:1.27");
    expect(small.length).toBeLessThan(whole.length / 2);
    console.log(
      `deployment transformer: whole program ${whole.length} bytes, ${ws.evalMs.toFixed(0)} ms; shaken ${small.length} bytes (${((100 * small.length) / whole.length).toFixed(0)}%), ${ss.evalMs.toFixed(0)} ms`,
    );
  }, 60_000);
});
