import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { defineModule } from "../../dsl/module.js";
import { config } from "../../dsl/config.js";
import { ConfigMaps, Secrets, StatelessWorkload, Volumes } from "../../dsl/catalog.js";
import { render } from "../../src/render/render.js";

const app = defineModule({
  metadata: { modulePath: "example.com/t", name: "imm", version: "1.0.0" },
  config: { level: config.string().default("info") },
  components: (cfg) => ({
    web: StatelessWorkload({
      container: {
        image: "nginx:1.27",
        envFrom: [{ configMap: "settings" }],
        env: { TOKEN: { fromSecret: { name: "creds", key: "token" } }, LOG: { fromConfigMap: { name: "plain", key: "x" } } },
        volumeMounts: { conf: { mountPath: "/etc/app" } },
      },
    })
      .with(Volumes({ conf: { configMap: { name: "settings" } } }))
      .with(ConfigMaps({ settings: { data: { LOG_LEVEL: cfg.level, MODE: "fast" }, immutable: true }, plain: { data: { x: "1" } } }))
      .with(Secrets({ creds: { data: { token: "t0ken" }, immutable: true } })),
  }),
});

const hash10 = (data: Record<string, string>) =>
  createHash("sha256")
    .update(
      Object.entries(data)
        .map(([k, v]) => `${k}=${v}`)
        .sort()
        .join("\n"),
    )
    .digest("hex")
    .slice(0, 10);

describe("immutable config", () => {
  it("suffixes immutable ConfigMaps and Secrets with a content hash and rewires references", async () => {
    const out = await render(app.release({ name: "r" }));
    const names = out.objects.map((o) => `${o.kind}/${o.metadata.name}`);
    const cmName = `r-web-settings-${hash10({ LOG_LEVEL: "info", MODE: "fast" })}`;
    const secretName = `r-web-creds-${hash10({ token: "t0ken" })}`;
    expect(names).toContain(`ConfigMap/${cmName}`);
    expect(names).toContain("ConfigMap/r-web-plain");
    expect(names).toContain(`Secret/${secretName}`);
    const cm = out.objects.find((o) => o.metadata.name === cmName) as Record<string, any>;
    expect(cm.immutable).toBe(true);
    const dep = out.objects.find((o) => o.kind === "Deployment") as Record<string, any>;
    const pod = dep.spec.template.spec;
    expect(pod.containers[0].envFrom).toEqual([{ configMapRef: { name: cmName } }]);
    const env = Object.fromEntries(pod.containers[0].env.map((e: { name: string }) => [e.name, e]));
    expect(env.TOKEN.valueFrom.secretKeyRef).toEqual({ name: secretName, key: "token" });
    expect(env.LOG.valueFrom.configMapKeyRef.name).toBe("r-web-plain");
    expect(pod.volumes.find((v: { name: string }) => v.name === "conf").configMap.name).toBe(cmName);
  });

  it("a content change renames the object and rolls the workload", async () => {
    const a = await render(app.release({ name: "r" }));
    const b = await render(app.release({ name: "r", values: { level: "debug" } }));
    const cmA = a.objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("r-web-settings-"))!;
    const cmB = b.objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("r-web-settings-"))!;
    expect(cmA.metadata.name).not.toBe(cmB.metadata.name);
    const tplA = JSON.stringify((a.objects.find((o) => o.kind === "Deployment") as Record<string, any>).spec.template);
    const tplB = JSON.stringify((b.objects.find((o) => o.kind === "Deployment") as Record<string, any>).spec.template);
    expect(tplA).not.toBe(tplB);
    expect(tplB).toContain(cmB.metadata.name);
  });
});
