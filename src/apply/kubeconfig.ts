/**
 * Finding and loading a kubeconfig, the way kubectl does.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { ApplyError } from "./errors.js";

/**
 * A loaded kubeconfig: at run time a `KubeConfig` of `@kubernetes/client-node`. It is described by
 * the few members users need, so that the types of opm-ts do not depend on that package's types.
 */
export interface LoadedKubeConfig {
  getCurrentContext(): string;
  getContexts(): readonly { name: string }[];
  getCurrentCluster(): { name: string; server: string } | null;
}

/**
 * Resolve a kubeconfig the way kubectl does: explicit path, then `$KUBECONFIG` (a path list, merged),
 * then `~/.kube/config`, then the in-cluster service account. `context` selects a context.
 */
export function loadKubeConfig(opts: { kubeconfig?: string; context?: string } = {}): LoadedKubeConfig {
  return loadConfig(opts);
}

function loadConfig(opts: { kubeconfig?: string; context?: string }): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (opts.kubeconfig) {
      if (!fs.existsSync(opts.kubeconfig)) throw new ApplyError("kubeconfig", `kubeconfig file ${opts.kubeconfig} does not exist`);
      kc.loadFromFile(opts.kubeconfig);
    } else if (process.env.KUBECONFIG && process.env.KUBECONFIG.length > 0) {
      kc.loadFromDefault();
    } else if (fs.existsSync(path.join(os.homedir(), ".kube", "config"))) {
      kc.loadFromFile(path.join(os.homedir(), ".kube", "config"));
    } else if (process.env.KUBERNETES_SERVICE_HOST && fs.existsSync("/var/run/secrets/kubernetes.io/serviceaccount/token")) {
      kc.loadFromCluster();
    } else {
      throw new ApplyError("kubeconfig", "no kubeconfig found: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run inside a cluster");
    }
  } catch (e) {
    if (ApplyError.is(e)) throw e;
    throw new ApplyError("kubeconfig", `cannot load kubeconfig: ${(e as Error).message}`, {}, { cause: e });
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      const known =
        kc
          .getContexts()
          .map((c) => c.name)
          .join(", ") || "none";
      throw new ApplyError("kubeconfig", `context "${opts.context}" not found in kubeconfig (known: ${known})`);
    }
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new ApplyError("kubeconfig", `kubeconfig has no cluster for context "${kc.getCurrentContext()}"`);
  }
  return kc;
}
