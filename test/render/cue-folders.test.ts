// A folder of .cue files as a module: which files belong, and how their imports are named.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { OpmError } from "../../src/core/errors.js";
import { loadCueModule, render } from "../../src/render/render.js";

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "opm-cue-folder-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

const MODULE = `package app

import (
	core "opm.dev/catalog/core@v1"
	b "opm.dev/catalog/blueprints@v1"
)

core.#Module

metadata: {modulePath: "example.com/t", name: "app", version: "0.1.0"}

#config: {}

#components: web: {
	b.#StatelessWorkload
	spec: container: image: "nginx:1.27"
}
`;

describe("a folder of .cue files", () => {
  it("stray files of other packages: an error naming each package and its files", async () => {
    const dir = folder({
      "module.cue": MODULE,
      "notes.cue": "package scratch\n\nx: 1\n",
      "more.cue": "package scratch\n\ny: 2\n",
      "old.cue": "package legacy\n\nz: 3\n",
    });
    const err = await render(loadCueModule(dir)).catch((e) => e);
    expect(OpmError.is(err)).toBe(true);
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0].message).toContain("package app (module.cue), package legacy (old.cue), package scratch (more.cue, notes.cue)");
    expect(err.issues[0].message).toMatch(/one module package/);
  });

  it("with a release.cue, a second module package is refused too, not ignored", async () => {
    const release = `package release\n\nimport (\n\tcore "opm.dev/catalog/core@v1"\n\tm "local/app"\n)\n\ncore.#ModuleRelease & {\n\tmetadata: {name: "app", namespace: "default"}\n\t#module: m\n\tvalues: {}\n}\n`;
    const dir = folder({ "module.cue": MODULE, "release.cue": release, "other.cue": "package other\n\nx: 1\n" });
    const err = await render(loadCueModule(dir)).catch((e) => e);
    expect(err.issues?.[0]?.message).toContain("package app (module.cue), package other (other.cue)");
  });

  it("an import name belongs to its file: two files of one package may give one name to two packages", async () => {
    const dir = folder({
      "module.cue": MODULE.replace('#components: web: {\n\tb.#StatelessWorkload\n\tspec: container: image: "nginx:1.27"\n}\n', ""),
      "web.cue": `package app\n\nimport x "opm.dev/catalog/blueprints@v1"\n\n#components: web: {\n\tx.#StatelessWorkload\n\tspec: container: image: "nginx:1.27"\n}\n`,
      "name.cue": `package app\n\nimport x "opm.dev/catalog/core@v1"\n\n_name: x.#Name & metadata.name\n`,
      "ports.cue": `package app\n\n#components: web: spec: container: ports: http: targetPort: 8080\n`,
    });
    const out = await render(loadCueModule(dir, { name: "app", namespace: "demo" }));
    expect(out.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["Deployment/app-web"]);
  });

  it("--cluster-domain wins over the folder's release.cue, whether it sets clusterDomain or not", async () => {
    const withEnv = MODULE.replace("#config: {}", "#config: {}\n\n#context: _").replace(
      'spec: container: image: "nginx:1.27"',
      'spec: container: {image: "nginx:1.27", env: DOMAIN: value: #components.web.#names.dns.fqdn}',
    );
    const release = (domain: string) =>
      `package release\n\nimport (\n\tcore "opm.dev/catalog/core@v1"\n\tm "local/app"\n)\n\ncore.#ModuleRelease & {\n\tmetadata: {name: "app", namespace: "default"}\n${domain}\t#module: m\n\tvalues: {}\n}\n`;
    const domainOf = (out: Awaited<ReturnType<typeof render>>) =>
      (out.objects.find((o) => o.kind === "Deployment") as any).spec.template.spec.containers[0].env[0].value;
    const sets = folder({ "module.cue": withEnv, "release.cue": release('\tclusterDomain: "file.example" // the file\'s own\n') });
    expect(domainOf(await render(loadCueModule(sets)))).toBe("app-web.default.svc.file.example");
    expect(domainOf(await render(loadCueModule(sets, { clusterDomain: "flag.example" })))).toBe("app-web.default.svc.flag.example");
    const unset = folder({ "module.cue": withEnv, "release.cue": release("") });
    expect(domainOf(await render(loadCueModule(unset)))).toBe("app-web.default.svc.cluster.local");
    expect(domainOf(await render(loadCueModule(unset, { clusterDomain: "flag.example" })))).toBe("app-web.default.svc.flag.example");
  });
});
