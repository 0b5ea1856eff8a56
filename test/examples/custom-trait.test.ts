import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { render } from "opm-ts";
import { main, type IO } from "../../src/cli/main.js";
import notes, { Backup } from "../../examples/custom-trait/module.js";
import { component } from "opm-ts";
import { Container, StatelessWorkload } from "opm-ts/catalog";

async function cli(...args: string[]) {
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
  return { code: await main(args, io), out, err };
}

describe("custom-trait example (a Backup trait and a CronJob transformer defined in TypeScript)", () => {
  it("renders a CronJob from the custom transformer beside the catalog's objects", async () => {
    const out = await render(notes.release({ name: "notes", namespace: "demo", values: { schedule: "0 1 * * *" } }));
    expect(out.objects.map((o) => o.kind).sort()).toEqual(["CronJob", "Deployment", "Service"]);
    const cron = out.objects.find((o) => o.kind === "CronJob")!;
    expect(cron.metadata.name).toBe("notes-app-backup");
    expect(cron.metadata.labels!["component.opmodel.dev/name"]).toBe("app");
    const spec = cron.spec as {
      schedule: string;
      jobTemplate: { spec: { template: { spec: { containers: { image: string; env: { name: string; value: string }[] }[] } } } };
    };
    expect(spec.schedule).toBe("0 1 * * *");
    const c = spec.jobTemplate.spec.template.spec.containers[0]!;
    expect(c.image).toBe("restic/restic:0.17.3");
    expect(c.env).toEqual([
      { name: "RETENTION_DAYS", value: "14" },
      { name: "BACKUP_PATH_data", value: "/var/lib/notes" },
      { name: "BACKUP_PATH_uploads", value: "/srv/uploads" },
    ]);
  });

  it("compiles to a custom CUE package following the catalog conventions", () => {
    const files = notes.release().compile().files;
    const custom = files.find((f) => f.name === "custom.cue")!.text;
    expect(custom).toContain("package custom");
    expect(custom).toMatch(/#BackupTrait: core\.#Trait & \{/);
    expect(custom).toMatch(/#Backup: core\.#Component & \{/);
    expect(custom).toMatch(/#BackupCronjobTransformer: core\.#Transformer & \{/);
    expect(files.find((f) => f.name === "components.cue")!.text).toContain('custom "opm.dev/custom@v1"');
  });

  it("validates custom trait specs when called", () => {
    expect(Backup({ paths: {}, retentionDays: 0 }).issues!.map((i) => [i.code, i.path])).toEqual([["out_of_range", "backup.retentionDays"]]);
    // a trait without a matching transformer in the module is reported at render
    const part = component(Container({ image: "x" })).with(Backup({ paths: {} }));
    expect(part.fqns().has("example.com/traits/backup@v1")).toBe(true);
  });

  it("opm cue --out-dir, then opm build <dir>, gives the same bytes as opm build <module.ts>", async () => {
    const file = path.join("examples", "custom-trait", "module.ts");
    const dir = mkdtempSync(path.join(tmpdir(), "opm-custom-"));
    const fromTs = await cli("build", file, "-n", "demo");
    expect(fromTs.code).toBe(0);
    expect((await cli("cue", file, "-n", "demo", "--out-dir", dir)).code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(["components.cue", "custom.cue", "module.cue", "release.cue"]);
    const fromCue = await cli("build", dir);
    expect(fromCue.err).toBe("");
    expect(fromCue.out).toBe(fromTs.out);
  });

  it("a custom trait nothing handles fails the render", async () => {
    const { defineModule } = await import("opm-ts");
    const m = defineModule({
      metadata: { modulePath: "example.com/m", name: "nobackup", version: "0.1.0" },
      components: () => ({ web: StatelessWorkload({ container: { image: "nginx" } }).with(Backup({ paths: {} })) }),
    });
    await expect(render(m)).rejects.toThrow(/example.com\/traits\/backup@v1 on component "web" is not handled/);
  });
});
