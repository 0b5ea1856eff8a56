// An optional secret a release leaves out: the environment variable that reads it is left out.
import { describe, expect, it } from "vitest";
import { config, defineModule } from "opm-ts";
import { StatelessWorkload } from "opm-ts/catalog";
import { render } from "../../src/render/render.js";

const m = defineModule({
  metadata: { modulePath: "example.com/t", name: "opt", version: "0.1.0" },
  config: { token: config.secret({ group: "api", key: "token" }).optional() },
  components: (cfg) => ({
    api: StatelessWorkload({ container: { image: "nginx:1.27", env: { TOKEN: { secret: cfg.token }, MODE: { value: "a" } } } }),
  }),
});

const env = (objects: { kind: string }[]) => (objects.find((o) => o.kind === "Deployment") as any).spec.template.spec.containers[0].env;

describe("config.secret().optional()", () => {
  it("left out: no Secret, and no environment variable reading it", async () => {
    const out = await render(m.release({ values: {} }));
    expect(out.objects.map((o) => o.kind)).toEqual(["Deployment"]);
    expect(env(out.objects)).toEqual([{ name: "MODE", value: "a" }]);
  });

  it("given: the Secret, and the environment variable reading it", async () => {
    const out = await render(m.release({ values: { token: "t0k3n" } }));
    expect(out.objects.map((o) => o.kind)).toEqual(["Secret", "Deployment"]);
    expect(env(out.objects)).toEqual([
      { name: "MODE", value: "a" },
      { name: "TOKEN", valueFrom: { secretKeyRef: { name: "opt-api-secret", key: "token" } } },
    ]);
  });

  it("given as a reference to an existing Secret", async () => {
    const out = await render(m.release({ values: { token: { secretRef: { name: "existing", key: "tok" } } } }));
    expect(out.objects.map((o) => o.kind)).toEqual(["Deployment"]);
    expect(env(out.objects)).toContainEqual({ name: "TOKEN", valueFrom: { secretKeyRef: { name: "existing", key: "tok" } } });
  });
});
