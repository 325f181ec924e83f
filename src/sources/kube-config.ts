import { KubeConfig } from "@kubernetes/client-node";

/** Where the proxy finds the Kubernetes API. */
export interface ApiTarget {
  /** Path of a kubeconfig file ("" for none). */
  readonly kubeconfig: string;
  /** URL of the API server, overriding the kubeconfig's (`--master`). */
  readonly master: string;
  /** Bearer token for `master` (used with the embedded server when it listens beyond loopback). */
  readonly token?: string;
}

/**
 * Builds a KubeConfig the way kube-proxy resolves its client: a kubeconfig file (with `--master`
 * overriding its server), else `--master` alone, else in-cluster credentials.
 */
export function loadKubeConfig(target: ApiTarget): KubeConfig {
  const kc = new KubeConfig();
  if (target.kubeconfig !== "") {
    kc.loadFromFile(target.kubeconfig);
    if (target.master !== "") {
      const cluster = kc.getCurrentCluster();
      if (cluster) {
        kc.clusters = kc.clusters.map((c) => (c.name === cluster.name ? { ...c, server: target.master } : c));
      }
    }
    return allowPlainHttp(kc);
  }
  if (target.master !== "") {
    kc.loadFromOptions({
      clusters: [{ name: "kproxy", server: target.master, skipTLSVerify: false }],
      users: [{ name: "kproxy", ...(target.token ? { token: target.token } : {}) }],
      contexts: [{ name: "kproxy", cluster: "kproxy", user: "kproxy" }],
      currentContext: "kproxy",
    });
    return allowPlainHttp(kc);
  }
  kc.loadFromCluster();
  return kc;
}

/**
 * client-node 2.x refuses a plain `http://` server unless its cluster entry says `skipTLSVerify`,
 * though there is no TLS to verify (the embedded API server on loopback, `--master http://...`).
 */
function allowPlainHttp(kc: KubeConfig): KubeConfig {
  kc.clusters = kc.clusters.map((c) => (c.server.startsWith("http:") ? { ...c, skipTLSVerify: true } : c));
  return kc;
}
