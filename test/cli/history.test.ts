/**
 * `opm history` and `opm rollback` through the built CLI (bin/opm.js; `npm run build` first)
 * against the in-repo test API server: two versions of a module, the second adding a component.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { opm, scratchProject } from "../support/opm-cli.js";
import { TestKubeApiServer } from "../support/kube-api-server.js";

const moduleFile = (version: string, withWorker: boolean) => `import { config, defineModule } from "opm-ts";
import { StatelessWorkload } from "opm-ts/catalog";

export default defineModule({
  metadata: { modulePath: "example.com/modules", name: "shop", version: "${version}" },
  config: { image: config.string().default("shop:${version}") },
  components: (cfg) => ({
    web: StatelessWorkload({ container: { image: cfg.image, ports: { http: { targetPort: 8080 } } }, scaling: { count: 1 } }),${
      withWorker ? `\n    worker: StatelessWorkload({ container: { image: "worker:${version}" }, scaling: { count: 1 } }),` : ""
    }
  }),
});
`;

describe("opm history | rollback (built CLI, test API server)", () => {
  let server: TestKubeApiServer;
  let dir: string;
  let k: string[];
  beforeAll(async () => {
    server = await TestKubeApiServer.start();
    dir = scratchProject({ "v1.ts": moduleFile("0.1.0", false), "v2.ts": moduleFile("0.2.0", true) });
    writeFileSync(path.join(dir, "kubeconfig"), server.kubeConfig().exportConfig());
    k = ["--kubeconfig", path.join(dir, "kubeconfig")];
  });
  afterAll(async () => server?.stop());
  const image = (name: string) => server.get("apps/v1", "Deployment", "shop", name)?.spec.template.spec.containers[0].image;
  const writes = () => server.requests.filter((r) => r.method !== "GET").length;

  it("lists revisions, rolls back to the previous one (pruning what it did not have), refuses bad input", async () => {
    const a1 = await opm(["apply", "v1.ts", "-n", "shop", "--create-namespace", ...k], { cwd: dir });
    expect(a1.stderr).toBe("");
    expect(a1.code).toBe(0);
    const a2 = await opm(["apply", "v2.ts", "-n", "shop", ...k], { cwd: dir });
    expect(a2.code).toBe(0);
    expect(image("shop-web")).toBe("shop:0.2.0");
    expect(image("shop-worker")).toBe("worker:0.2.0");

    const h = await opm(["history", "shop", "-n", "shop", ...k], { cwd: dir });
    expect(h.code).toBe(0);
    const lines = h.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("release shop in shop (example.com/modules/shop@v0), current revision 2");
    expect(lines[1]).toMatch(/^REVISION\s+UPDATED\s+MODULE VERSION\s+VALUES\s+OUTCOME\s+VIOLATIONS\s+DESCRIPTION$/);
    expect(lines[2]).toMatch(/^1\s+\d{4}-\d\d-\d\dT\S+\s+0\.1\.0\s+[0-9a-f]{12}\s+applied\s+0\s+apply$/);
    expect(lines[3]).toMatch(/^2\s+\S+\s+0\.2\.0\s+[0-9a-f]{12}\s+applied\s+0\s+apply$/);

    const before = writes();
    const idx = server.requests.length;
    const dry = await opm(["rollback", "shop", "-n", "shop", "--dry-run", ...k], { cwd: dir });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(
      "release shop in shop would roll back from revision 2 to revision 1: 0 created, 1 configured, 0 unchanged, 1 pruned (server dry run, nothing persisted)",
    );
    expect(server.requests.slice(idx).filter((r) => r.method !== "GET" && r.query.get("dryRun") !== "All").length).toBe(0);
    expect(writes()).toBeGreaterThan(before);
    expect(image("shop-worker")).toBe("worker:0.2.0");

    const rb = await opm(["rollback", "shop", "-n", "shop", ...k], { cwd: dir });
    expect(rb.stderr).toBe("");
    expect(rb.code).toBe(0);
    expect(rb.stdout).toContain("Deployment shop/shop-worker pruned");
    expect(rb.stdout.trimEnd().split("\n").at(-1)).toBe(
      "release shop in shop rolled back to revision 1, recorded as revision 3: 0 created, 1 configured, 0 unchanged, 1 pruned",
    );
    expect(image("shop-web")).toBe("shop:0.1.0");
    expect(image("shop-worker")).toBeUndefined();

    const j = await opm(["history", "shop", "-n", "shop", "-o", "json", ...k], { cwd: dir });
    const report = JSON.parse(j.stdout);
    expect(report.current).toBe(3);
    expect(report.revisions.map((r: { revision: number; moduleVersion: string; rollbackOf?: number }) => [r.revision, r.moduleVersion, r.rollbackOf])).toEqual([
      [1, "0.1.0", undefined],
      [2, "0.2.0", undefined],
      [3, "0.1.0", 1],
    ]);

    // Mistakes: exit 1 with what is wrong for the cluster's answer, 2 for usage; nothing written.
    const quiet = writes();
    const unknown = await opm(["rollback", "shop", "-n", "shop", "--to", "7", ...k], { cwd: dir });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      'error: cannot roll back release "shop" in namespace "shop" to revision 7: there is no revision 7; its history holds 1 (applied), 2 (applied), 3 (applied) (see `opm history shop -n shop`); nothing was changed\n',
    );
    const none = await opm(["history", "nope", "-n", "shop", ...k], { cwd: dir });
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('error: release "nope" not found in namespace "shop" (no inventory Secret): it has no history\n');
    const noName = await opm(["rollback", ...k], { cwd: dir });
    expect(noName.code).toBe(2);
    expect(noName.stderr).toBe("error: opm rollback needs the release name: opm rollback <release> [-n namespace]\n");
    const badTo = await opm(["rollback", "shop", "--to", "two", ...k], { cwd: dir });
    expect(badTo.code).toBe(2);
    expect(badTo.stderr).toBe('error: --to takes a revision number (1, 2, ...; see opm history), not "two"\n');
    const badSecret = await opm(["rollback", "shop", "--secret", "pw=@x", ...k], { cwd: dir });
    expect(badSecret.code).toBe(2);
    expect(badSecret.stderr).toContain("--secret takes <secret>/<key>=@file or <secret>/<key>=env:VARIABLE");
    expect(writes()).toBe(quiet);
    expect(image("shop-web")).toBe("shop:0.1.0");
  }, 240_000);

  it("both commands have help", async () => {
    const [h, r] = await Promise.all([opm(["history", "--help"]), opm(["rollback", "--help"])]);
    expect(h.stdout).toContain("opm history <release> [-n namespace] [-o text|json]");
    expect(r.stdout).toContain("--to <revision>");
    expect(r.stdout).toContain("--secret <secret>/<key>=@file|env:VAR");
  });
});
