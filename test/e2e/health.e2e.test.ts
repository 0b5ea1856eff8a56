/**
 * Health and wait against the real controllers, through the `opm` CLI. The fixture module
 * test/fixtures/modules/lab-workloads.ts sets the pod annotation `lab.opm/fake-status` from values;
 * the control plane's stand-in kubelet then makes those pods crash-loop, stay not ready, or fail.
 * Needs a real cluster with that stand-in kubelet (see test/e2e/support.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, test } from "vitest";
import { cleanup, connect, kubectl, nsName, opm, real, until, type Env } from "./support.js";

const FIXTURE = "test/fixtures/modules/lab-workloads.ts";
const tmp = mkdtempSync(path.join(tmpdir(), "opm-e2e-health-"));

describe.skipIf(!real)("health and wait against the real controllers", () => {
  let env: Env;
  const ns = nsName("health");

  beforeAll(async () => {
    env = await connect();
    await env.client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }, { fieldManager: "opm-e2e" });
  });
  afterAll(async () => {
    await cleanup(env?.client, [ns]);
    await env?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** `opm apply` of the fixture with the given fake statuses; times the apply from its first progress line to its exit. */
  async function applyFixture(release: string, statuses: Record<string, string>, timeout: string) {
    const values = path.join(tmp, `${release}.yaml`);
    writeFileSync(
      values,
      Object.entries(statuses)
        .map(([k, v]) => `${k}: ${v}\n`)
        .join(""),
    );
    let started = 0;
    const r = await opm(["apply", FIXTURE, "--name", release, "-n", ns, "-f", values, "--wait", "--timeout", timeout], {
      kubeconfig: env.kubeconfig,
      onLine: () => {
        started ||= Date.now();
      },
    });
    return { ...r, seconds: (Date.now() - started) / 1000 };
  }

  const status = (release: string) => opm(["status", "--name", release, "-n", ns], { kubeconfig: env.kubeconfig });

  test.concurrent("a crash-looping Deployment fails --wait at the --timeout, naming the Deployment and the reason; status exits 1", async ({ expect }) => {
    const r = await applyFixture("crash", { web: "crashloop" }, "20s");
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain("not ready after 20s");
    expect(r.stderr).toMatch(new RegExp(`Deployment ${ns}/crash-web: InProgress: .*`));
    expect(r.stderr).toContain("CrashLoopBackOff");
    // It waited for the timeout (not less), and stopped soon after it.
    expect(r.seconds).toBeGreaterThanOrEqual(19);
    expect(r.seconds).toBeLessThan(60);
    expect(r.stderr).not.toMatch(/crash-(db|agent|migrate|backup)\b.*InProgress/);

    const st = await status("crash");
    expect(st.code, st.stdout + st.stderr).toBe(1);
    expect(st.stdout).toMatch(/Deployment\s+\S+\s+crash-web\s+web\s+InProgress\s+.*CrashLoopBackOff/);
    expect(st.stdout).toMatch(/StatefulSet\s+\S+\s+crash-db\s+db\s+Current/);
  });

  test.concurrent("a failed Job stops the wait early with its reason; a not-ready StatefulSet and DaemonSet and a failed CronJob run are named by status", async ({
    expect,
  }) => {
    const r = await applyFixture("fail", { db: "not-ready", migrate: "fail", backup: "fail", agent: "not-ready" }, "5m");
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/object\(s\) failed:/);
    expect(r.stderr).toMatch(new RegExp(`Job ${ns}/fail-migrate: Failed: job failed: BackoffLimitExceeded`));
    expect(r.stderr).toMatch(new RegExp(`StatefulSet ${ns}/fail-db: InProgress: 0 of 1 replicas ready`));
    expect(r.stderr).toMatch(new RegExp(`DaemonSet ${ns}/fail-agent: InProgress: 0 of 1 pods ready`));
    // Why, from the pods: the containers are named after their components.
    expect(r.stderr).toMatch(/pod fail-db-0: container db not ready/);
    expect(r.stderr).toMatch(/pod fail-agent-\w+: container agent not ready/);
    expect(r.stderr).toMatch(/pod fail-migrate-\w+: container migrate terminated: Error \(exit code 1\)/);
    // Early: far from the 5 minute timeout.
    expect(r.seconds).toBeLessThan(120);

    let st = await status("fail");
    expect(st.code, st.stdout + st.stderr).toBe(1);
    expect(st.stdout).toMatch(/StatefulSet\s+\S+\s+fail-db\s+db\s+InProgress\s+0 of 1 replicas ready/);
    expect(st.stdout).toMatch(/DaemonSet\s+\S+\s+fail-agent\s+agent\s+InProgress/);
    expect(st.stdout).toMatch(/Job\s+\S+\s+fail-migrate\s+migrate\s+Failed\s+job failed: BackoffLimitExceeded/);
    expect(st.stdout).toMatch(/CronJob\s+\S+\s+fail-backup\s+backup\s+Current\s+scheduled; no job has run yet/);
    expect(st.stdout).toMatch(/^release fail in .*: not-ready$/m);

    // Run the CronJob now (as `kubectl create job --from` does) instead of waiting for its schedule.
    const created = kubectl(env.kubeconfig, ["create", "job", "fail-backup-now", "--from=cronjob/fail-backup", "-n", ns]);
    expect(created.code, created.stderr).toBe(0);
    await until("the CronJob's job to fail", async () => {
      const j = await env.client.get({ apiVersion: "batch/v1", kind: "Job", name: "fail-backup-now", namespace: ns });
      return ((j?.status as { conditions?: Array<{ type: string; status: string }> })?.conditions ?? []).some(
        (c) => c.type === "Failed" && c.status === "True",
      );
    });
    st = await status("fail");
    expect(st.code).toBe(1);
    expect(st.stdout).toMatch(/CronJob\s+\S+\s+fail-backup\s+backup\s+Failed\s+last job fail-backup-now failed: BackoffLimitExceeded/);
  });
});
