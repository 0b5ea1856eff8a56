import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpmError, PolicyError, RenderError, ValidationError } from "../../src/core/errors.js";
import { Echo } from "../fixtures/modules/echo-policies.js";
import { secretData } from "../fixtures/modules/secret-data.js";
import { config, defineModule } from "../../src/index.js";
import { Secrets, StatelessWorkload, Volumes } from "../../dsl/catalog.js";
import { loadCueModule, render, toCueFiles } from "../../src/render/render.js";
import { main, type IO } from "../../src/cli/main.js";
import { TestKubeApiServer } from "../support/kube-api-server.js";
import { billing } from "../../examples/secrets/module.js";

// A value that must never be printed or written unless asked for.
const PLANTED = "pl4nted-S3cret-" + Math.random().toString(36).slice(2);
const B64 = Buffer.from(PLANTED).toString("base64");

describe("secrets as a type", () => {
  it("groups literal secrets into a Secret and wires env by reference", async () => {
    const out = await render(billing.release({ name: "b", values: { db: { password: PLANTED }, apiToken: "tok-en" } }));
    const secrets = out.objects.filter((o) => o.kind === "Secret");
    expect(secrets.map((s) => s.metadata.name)).toEqual(["b-api-secret", "b-db-secret"]);
    const db = secrets.find((s) => s.metadata.name === "b-db-secret") as Record<string, any>;
    expect(db.data).toEqual({ password: B64 });
    const dep = out.objects.find((o) => o.kind === "Deployment") as Record<string, any>;
    const text = JSON.stringify(dep);
    expect(text).not.toContain(PLANTED);
    expect(text).not.toContain(B64);
    const env = Object.fromEntries(dep.spec.template.spec.containers[0].env.map((e: { name: string }) => [e.name, e]));
    expect(env.DB_PASSWORD.valueFrom.secretKeyRef).toEqual({ name: "b-db-secret", key: "password" });
    // Output is redacted unless asked for.
    expect(out.yaml()).not.toContain(B64);
    expect(out.json()).not.toContain(B64);
    expect(out.yaml({ showSecrets: true })).toContain(B64);
  });

  it("references an existing Secret without rendering one, and renders an ExternalSecret for a store", async () => {
    const out = await render(
      billing.release({
        name: "b",
        values: {
          db: { password: { secretRef: { name: "pg-creds", key: "pw" } } },
          apiToken: { external: { store: "vault", storeKind: "ClusterSecretStore", remoteKey: "pay/token" } },
        },
      }),
    );
    expect(out.objects.filter((o) => o.kind === "Secret")).toEqual([]);
    const es = out.objects.find((o) => o.kind === "ExternalSecret") as Record<string, any>;
    expect(es.metadata.name).toBe("b-api-secret");
    expect(es.spec).toEqual({
      secretStoreRef: { name: "vault", kind: "ClusterSecretStore" },
      target: { name: "b-api-secret", creationPolicy: "Owner" },
      data: [{ secretKey: "token", remoteRef: { key: "pay/token" } }],
    });
    const dep = out.objects.find((o) => o.kind === "Deployment") as Record<string, any>;
    const env = Object.fromEntries(dep.spec.template.spec.containers[0].env.map((e: { name: string }) => [e.name, e]));
    expect(env.DB_PASSWORD.valueFrom.secretKeyRef).toEqual({ name: "pg-creds", key: "pw" });
    expect(env.PAYMENT_TOKEN.valueFrom.secretKeyRef).toEqual({ name: "b-api-secret", key: "token" });
  });

  it("a missing secret is an error naming the field; a malformed one never echoes the value", async () => {
    const missing = await render(billing.release({ values: { db: {} } } as never)).catch((e) => e);
    expect(ValidationError.is(missing)).toBe(true);
    const paths = missing.issues.map((i: { path: string }) => i.path).sort();
    expect(paths).toEqual(["values.apiToken", "values.db.password"]);
    expect(missing.issues[0].message).toMatch(/a secret value is required/);
    const bad = await render(billing.release({ values: { db: { password: { value: PLANTED } }, apiToken: { secretRef: { name: "x" } } } } as never)).catch(
      (e) => e,
    );
    expect(OpmError.is(bad)).toBe(true);
    expect(bad.message).not.toContain(PLANTED);
    expect(bad.issues.map((i: { path: string }) => i.path).sort()).toEqual(["values.apiToken.secretRef.key", "values.db.password"]);
  });

  it("the compiled CUE keeps literal secrets out unless asked, with no stand-in value", () => {
    const rel = billing.release({ values: { db: { password: PLANTED }, apiToken: "t" } });
    expect(rel.toCue()).not.toContain(PLANTED);
    expect(rel.toCue()).not.toContain("<redacted>");
    expect(rel.toCue()).toContain("// Literal secrets left out (give them again with --secret or a values file): db.password, apiToken");
    expect(
      rel
        .compile()
        .files.map((f) => f.text)
        .join(""),
    ).toContain(PLANTED);
  });

  it("redacted CUE never renders a fake secret: left-out secrets must be given again, a marker is an error", async () => {
    const rel = billing.release({ values: { db: { password: PLANTED }, apiToken: "t" } });
    const dir = mkdtempSync(path.join(tmpdir(), "opm-redacted-"));
    for (const f of toCueFiles(rel, { redactSecrets: true })) writeFileSync(path.join(dir, f.name), f.text);
    // Without the secrets: an error naming each path, before any evaluation.
    const missing = await render(loadCueModule(dir)).catch((e) => e);
    expect(ValidationError.is(missing)).toBe(true);
    expect(missing.issues.map((i: { path: string }) => i.path)).toEqual(["values.db.password", "values.apiToken"]);
    expect(missing.issues[0].message).toMatch(/^a secret value is required: .*release\.cue was written without it/);
    // A redaction marker given as the value is refused, not rendered.
    const marker = await render(loadCueModule(dir, { values: { db: { password: "<redacted>" }, apiToken: "t" } })).catch((e) => e);
    expect(ValidationError.is(marker)).toBe(true);
    expect(marker.issues).toEqual([
      expect.objectContaining({ code: "secret", path: "values.db.password", message: expect.stringContaining('holds the redaction marker "<redacted>"') }),
    ]);
    // Given again, the real value is rendered.
    const ok = await render(loadCueModule(dir, { values: { db: { password: PLANTED }, apiToken: "t" } }));
    const secret = ok.objects.find((o) => o.kind === "Secret" && o.metadata.name.endsWith("-db-secret")) as Record<string, any>;
    expect(secret.data.password).toBe(B64);
    // Files an older writer left with the marker in place of the value fail, at the line.
    const old = mkdtempSync(path.join(tmpdir(), "opm-redacted-old-"));
    for (const f of toCueFiles(rel)) writeFileSync(path.join(old, f.name), f.name === "release.cue" ? f.text.replace(PLANTED, "<redacted>") : f.text);
    const stale = await render(loadCueModule(old, { values: { apiToken: "t" } })).catch((e) => e);
    expect(ValidationError.is(stale)).toBe(true);
    expect(stale.issues[0]).toMatchObject({
      code: "secret",
      message: expect.stringContaining("redaction marker"),
      source: { file: expect.stringMatching(/release\.cue$/), line: expect.any(Number) },
    });
    // The CLI: opm cue --out-dir, then opm build <dir> --show-secrets fails (exit 1) instead of printing a fake secret.
    const out: string[] = [];
    const io: IO = { isTTY: false, out: (t) => void out.push(t), err: (t) => void out.push(t) };
    const cliDir = path.join(dir, "cli");
    process.env.OPM_TEST_PW91 = PLANTED;
    expect(
      await main(
        ["cue", "examples/secrets/module.ts", "--secret", "db.password=env:OPM_TEST_PW91", "--secret", "apiToken=env:OPM_TEST_PW91", "--out-dir", cliDir],
        io,
      ),
    ).toBe(0);
    expect(await main(["build", cliDir, "--show-secrets"], io)).toBe(1);
    expect(out.join("")).toMatch(/values\.db\.password: a secret value is required/);
    expect(out.join("")).not.toContain(Buffer.from("<redacted>").toString("base64"));
  });
});

describe("a planted secret never appears in anything the CLI prints or writes", () => {
  let server: TestKubeApiServer;
  let dir: string;
  const printed: string[] = [];
  const io: IO = { isTTY: false, out: (t) => void printed.push(t), err: (t) => void printed.push(t) };
  beforeAll(async () => {
    server = await TestKubeApiServer.start({ autoReady: true });
    dir = mkdtempSync(path.join(tmpdir(), "opm-secret-"));
    writeFileSync(path.join(dir, "kubeconfig"), server.kubeConfig().exportConfig());
    writeFileSync(path.join(dir, "pw.txt"), PLANTED + "\n");
    writeFileSync(path.join(dir, "token.yaml"), `apiToken: ${PLANTED}-token\n`);
  });
  afterAll(async () => server?.stop());

  it("build, vet, cue, apply, diff, status, delete and errors", async () => {
    const mod = "examples/secrets/module.ts";
    const rel = ["--secret", `db.password=@${path.join(dir, "pw.txt")}`, "-f", path.join(dir, "token.yaml"), "-n", "pay"];
    // (the example's release takes both secrets by reference; the flags replace them with literals)
    const k = ["--kubeconfig", path.join(dir, "kubeconfig")];
    const codes: number[] = [];
    codes.push(await main(["build", mod, ...rel], io));
    codes.push(await main(["build", mod, ...rel, "-o", "json"], io));
    codes.push(await main(["build", mod, ...rel, "--out-dir", path.join(dir, "manifests")], io));
    codes.push(await main(["vet", mod, ...rel, "-o", "json"], io));
    codes.push(await main(["cue", mod, ...rel], io));
    codes.push(await main(["cue", mod, ...rel, "--out-dir", path.join(dir, "cue")], io));
    codes.push(await main(["apply", mod, ...rel, ...k, "--create-namespace"], io));
    codes.push(await main(["diff", mod, ...rel, ...k], io));
    process.env.OPM_TEST_PW = PLANTED + "-changed";
    codes.push(await main(["diff", mod, "--secret", "db.password=env:OPM_TEST_PW", "-f", path.join(dir, "token.yaml"), "-n", "pay", ...k], io));
    codes.push(await main(["apply", mod, ...rel, ...k, "-o", "json"], io));
    codes.push(await main(["status", "--name", "billing", "-n", "pay", ...k, "-o", "json"], io));
    // Errors: a bad release name alongside the secret, and a bad --secret flag.
    codes.push(await main(["build", mod, ...rel, "--name", "BAD"], io));
    codes.push(await main(["build", mod, "--secret", `db.password=${PLANTED}`], io));
    codes.push(await main(["delete", "--name", "billing", "-n", "pay", ...k], io));
    expect(codes).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 0]);

    const written = [path.join(dir, "manifests"), path.join(dir, "cue")].flatMap((d) => readdirSync(d).map((f) => readFileSync(path.join(d, f), "utf8")));
    const everything = [...printed, ...written].join("\n");
    expect(everything.length).toBeGreaterThan(1000);
    for (const form of [PLANTED, B64, Buffer.from(PLANTED + "-token").toString("base64"), Buffer.from(PLANTED + "-changed").toString("base64")]) {
      expect(everything).not.toContain(form);
    }
    // The value did reach the cluster, so the scan above could have found it.
    const stored = server.get("v1", "Secret", "pay", "billing-db-secret");
    expect(stored).toBeUndefined(); // deleted by `opm delete`
    // And --show-secrets does print it (the scan is not blind).
    const shown: string[] = [];
    await main(["build", mod, ...rel, "--show-secrets"], { isTTY: false, out: (t) => void shown.push(t), err: (t) => void shown.push(t) });
    expect(shown.join("")).toContain(B64);
  });
});

describe("no secret in any message, whoever wrote it", () => {
  it("policies that quote secret values at each severity (block, warn, audit): render, PolicyError and vet -o json", async () => {
    const rel = secretData(PLANTED).release({ name: "pay" });
    const forms = [PLANTED, B64];
    const ok = await render(rel, { policies: [Echo()] });
    expect(ok.violations.map((v) => v.severity).sort()).toEqual(["audit", "warn"]);
    const text = JSON.stringify(ok.violations);
    expect(text).toContain("holds <redacted>"); // the policies did quote the value
    for (const f of forms) expect(text).not.toContain(f);
    const blocked = await render(rel, { policies: [Echo({ block: true })] }).catch((e) => e);
    expect(PolicyError.is(blocked)).toBe(true);
    const all = JSON.stringify([blocked.message, blocked.issues, blocked.warnings]);
    expect(all).toContain("block: pay-api-creds holds <redacted>");
    expect(all).toContain("warn: pay-api-creds holds <redacted>");
    for (const f of forms) expect(all).not.toContain(f);
    // The CLI: vet -o json records every violation (audit included), build prints the warning.
    process.env.OPM_TEST_PW14 = PLANTED;
    const printed: string[] = [];
    const io: IO = { isTTY: false, out: (t) => void printed.push(t), err: (t) => void printed.push(t) };
    const args = ["test/fixtures/modules/secret-data.ts", "--policy", "test/fixtures/modules/echo-policies.ts"];
    expect(await main(["vet", ...args, "-o", "json"], io)).toBe(0);
    expect(await main(["build", ...args], io)).toBe(0);
    const everything = printed.join("\n");
    expect(everything).toMatch(/audit: secret-data-api-creds holds <redacted>/);
    expect(everything).toMatch(/warn: secret-data-api-creds holds <redacted>/);
    for (const f of forms) expect(everything).not.toContain(f);
  });
});

describe("secret wiring into volumes, and references to missing keys", () => {
  const mod = (key: string) =>
    defineModule({
      metadata: { modulePath: "example.com/t", name: "vol", version: "1.0.0" },
      config: { cert: config.secret({ group: "tls", key: "cert.pem" }) },
      components: (cfg) => ({
        web: StatelessWorkload({
          container: { image: "nginx:1.27", volumeMounts: { tls: { mountPath: "/etc/tls" } }, env: { TOKEN: { fromSecret: { name: "creds", key } } } },
        })
          .with(Volumes({ tls: { configSecret: { secret: cfg.cert, path: "server.pem" } } }))
          .with(Secrets({ creds: { data: { token: "x", user: "y" } } })),
      }),
    });

  it("mounts a config secret by reference as one file", async () => {
    const out = await render(mod("token").release({ name: "v", values: { cert: PLANTED } }));
    const dep = out.objects.find((o) => o.kind === "Deployment") as Record<string, any>;
    expect(dep.spec.template.spec.volumes).toEqual([{ name: "tls", secret: { secretName: "v-tls-secret", items: [{ key: "cert.pem", path: "server.pem" }] } }]);
    expect(JSON.stringify(dep)).not.toContain(B64);
    const ref = await render(mod("token").release({ name: "v", values: { cert: { secretRef: { name: "corp-tls", key: "tls.crt" } } } }));
    const dep2 = ref.objects.find((o) => o.kind === "Deployment") as Record<string, any>;
    expect(dep2.spec.template.spec.volumes[0].secret).toEqual({ secretName: "corp-tls", items: [{ key: "tls.crt", path: "server.pem" }] });
  });

  it("a reference to a key the rendered Secret lacks is an error listing its keys, never values", async () => {
    const err = await render(mod("tokn").release({ name: "v", values: { cert: PLANTED } })).catch((e) => e);
    expect(RenderError.is(err)).toBe(true);
    expect(err.issues).toEqual([
      expect.objectContaining({
        code: "missing_key",
        path: "components.web",
        message: 'env TOKEN of container web of Deployment/v-web refers to key "tokn" of Secret v-web-creds, which has the keys token, user',
      }),
    ]);
    expect(err.message).not.toContain(PLANTED);
  });
});

describe("a secret written in a component's spec", () => {
  const withEnv = (secret: unknown) =>
    defineModule({
      metadata: { modulePath: "example.com/modules", name: "inline", version: "0.1.0" },
      config: {},
      // Plain JavaScript (or a cast) can write what the types refuse; the builder still checks.
      components: () => ({ web: StatelessWorkload({ container: { image: "nginx:1.27", env: { TOKEN: { secret: secret as never } } } }) }),
    });

  it.each([
    ["a value", PLANTED, "a secret value"],
    ["{ secretRef }", { secretRef: { name: "payments", key: "token" } }, "{ secretRef }"],
    ["{ external }", { external: { store: "vault", remoteKey: "k" } }, "{ external }"],
    ["a literal core secret", { group: "api", key: "token", source: { from: "literal", value: PLANTED } }, 'source.from "literal"'],
  ])("%s is refused before CUE runs, at the author's line, without the value", async (_name, secret, said) => {
    const err = await render(withEnv(secret), { cache: false }).catch((e: unknown) => e);
    expect(ValidationError.is(err)).toBe(true);
    const issues = (err as ValidationError).issues;
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      code: "secret",
      path: "components.web.spec.container.env.TOKEN.secret",
      source: { file: expect.stringMatching(/secrets\.test\.ts$/) },
    });
    expect(issues[0]!.message).toContain(said);
    expect(issues[0]!.message).toContain("config.secret()");
    expect(String((err as Error).message) + JSON.stringify(issues)).not.toContain(PLANTED);
  });

  it("a core secret that names an existing Secret renders a reference to it", async () => {
    const out = await render(withEnv({ group: "api", key: "token", source: { from: "secret", name: "payments", key: "token" } }), { cache: false });
    const dep = out.objects.find((o) => o.kind === "Deployment") as any;
    expect(dep.spec.template.spec.containers[0].env).toEqual([{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "payments", key: "token" } } }]);
    expect(out.objects.some((o) => o.kind === "Secret")).toBe(false);
  });
});
