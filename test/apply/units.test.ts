import { describe, expect, test } from "vitest";
import { ApplyError, health } from "../../src/apply/index.js";
import { unifiedDiff } from "../../src/apply/textdiff.js";
import { APPLY_FLAGS, parseDuration } from "../../src/cli/lifecycle-run.js";
import { redactObject as redact } from "../../src/core/redact.js";

const k = (kind: string, rest: Record<string, unknown>) => ({ apiVersion: "v1", kind, metadata: { name: "x", generation: 2 }, ...rest });

describe("health per kind", () => {
  test.each([
    [
      "Deployment rolled out",
      k("Deployment", { spec: { replicas: 2 }, status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 } }),
      "Current",
    ],
    [
      "Deployment stale generation",
      k("Deployment", { spec: { replicas: 2 }, status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 } }),
      "InProgress",
    ],
    [
      "Deployment deadline exceeded",
      k("Deployment", { status: { observedGeneration: 2, conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }] } }),
      "Failed",
    ],
    [
      "StatefulSet revision pending",
      k("StatefulSet", {
        spec: { replicas: 1 },
        status: { observedGeneration: 2, readyReplicas: 1, updatedReplicas: 1, currentRevision: "a", updateRevision: "b" },
      }),
      "InProgress",
    ],
    [
      "DaemonSet ready",
      k("DaemonSet", {
        status: { observedGeneration: 2, desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 3, numberAvailable: 3 },
      }),
      "Current",
    ],
    ["DaemonSet unscheduled", k("DaemonSet", { status: { observedGeneration: 2, desiredNumberScheduled: 3, currentNumberScheduled: 1 } }), "InProgress"],
    ["Job complete", k("Job", { status: { conditions: [{ type: "Complete", status: "True" }] } }), "Current"],
    ["Job failed", k("Job", { status: { conditions: [{ type: "Failed", status: "True" }] } }), "Failed"],
    ["PVC bound", k("PersistentVolumeClaim", { status: { phase: "Bound" } }), "Current"],
    ["PVC pending", k("PersistentVolumeClaim", { status: { phase: "Pending" } }), "InProgress"],
    ["Ready condition true", k("Certificate", { status: { conditions: [{ type: "Ready", status: "True" }] } }), "Current"],
    ["Ready condition false", k("Certificate", { status: { conditions: [{ type: "Ready", status: "False", reason: "Issuing" }] } }), "InProgress"],
    ["LoadBalancer without address", k("Service", { spec: { type: "LoadBalancer" }, status: {} }), "InProgress"],
    ["ConfigMap", k("ConfigMap", {}), "Current"],
  ])("%s", (_n, obj, want) => {
    expect(health(obj as never).status).toBe(want);
  });
  test("missing object", () => expect(health(undefined).status).toBe("NotFound"));
});

describe("unified diff", () => {
  test("equal texts give nothing; changes give hunks with context", () => {
    expect(unifiedDiff("a\nb\n", "a\nb\n")).toBe("");
    const d = unifiedDiff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nFIVE\n6\n7\n8\n9\n", { fromFile: "a", toFile: "b" });
    expect(d).toBe("--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+FIVE\n 6\n 7\n 8\n");
    expect(unifiedDiff("", "x\n")).toBe("--- live\n+++ desired\n@@ -0,0 +1,1 @@\n+x\n");
  });
});

describe("flags and helpers", () => {
  test("flag spec covers the documented flags", () => {
    expect(APPLY_FLAGS.map((f) => f.name)).toEqual([
      "kubeconfig",
      "context",
      "create-namespace",
      "dry-run",
      "force-conflicts",
      "no-prune",
      "wait",
      "timeout",
      "output",
    ]);
    expect(APPLY_FLAGS.find((f) => f.name === "timeout")!.default).toBe("5m");
    expect(APPLY_FLAGS.find((f) => f.name === "output")!.short).toBe("o");
  });
  test("durations", () => {
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("90")).toBe(90_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration(undefined)).toBe(300_000);
    expect(() => parseDuration("soon")).toThrow(ApplyError);
  });
  test("redact hides Secret values only", () => {
    const s = { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { a: "c2VjcmV0" }, stringData: { b: "plain" } };
    expect(JSON.stringify(redact(s))).not.toMatch(/c2VjcmV0|plain/);
    const c = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { a: "v" } };
    expect(redact(c)).toBe(c);
  });
});
