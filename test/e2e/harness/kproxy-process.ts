import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ProxyMode } from "../../../src/config/proxy-config.ts";
import {
  clusterCIDR,
  serviceClusterIPRange,
  serviceNodePortRange,
  type TopologyNode,
} from "../../../src/proxy/testing/conformance-topology.ts";
import { startNamespaceProcess, type NamespaceProcess } from "./namespace-process.ts";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const mainScript = join(repoRoot, "src/main.ts");

/** Port of the embedded API server on node1's fabric address. */
export const apiServerPort = 6443;

/** Settings that vary between conformance groups. */
export interface KproxySettings {
  readonly masqueradeAll: boolean;
  /** False: `--detect-local-mode None` (upstream's NoOp detector). */
  readonly localDetector: boolean;
}

/** Where a kproxy gets its Services from. */
export type ApiSource =
  /** Runs the embedded API server, reachable on the fabric with `token` and on `socketPath`. */
  | {
      readonly embedded: true;
      readonly socketPath: string;
      readonly tokenFile: string;
      readonly dataDir: string;
    }
  /** Talks to another node's embedded server through this kubeconfig. */
  | { readonly embedded: false; readonly kubeconfig: string };

/** A `kproxy run` process inside a node namespace. */
export interface KproxyProcess {
  readonly node: string;
  readonly process: NamespaceProcess;
  /** The API server URL it printed (embedded only). */
  readonly apiServerURL: string | undefined;
  /** Its log file. */
  readonly logFile: string;
  stop(): Promise<void>;
}

/** The command line of `kproxy run` for a node, as a user would type it. */
export function kproxyArgs(
  mode: ProxyMode,
  node: TopologyNode,
  options: { source: ApiSource; settings: KproxySettings; extraArgs?: readonly string[] },
): string[] {
  const { source, settings } = options;
  return [
    "run",
    "--proxy-mode",
    mode,
    "--hostname-override",
    node.name,
    "--node-ip",
    node.ip,
    ...(settings.localDetector
      ? ["--cluster-cidr", clusterCIDR]
      : ["--cluster-cidr", clusterCIDR, "--detect-local-mode", "None"]),
    ...(settings.masqueradeAll ? ["--masquerade-all"] : []),
    ...(source.embedded
      ? [
          "--listen",
          `0.0.0.0:${apiServerPort}`,
          "--listen-socket",
          source.socketPath,
          "--token-file",
          source.tokenFile,
          "--data-dir",
          source.dataDir,
          "--service-cluster-ip-range",
          serviceClusterIPRange,
          "--service-node-port-range",
          serviceNodePortRange,
        ]
      : ["--kubeconfig", source.kubeconfig]),
    "--v",
    "2",
    ...(options.extraArgs ?? []),
  ];
}

/**
 * Starts `node src/main.ts run ...` in the node's namespace and waits for its `kproxy: ready`
 * line (printed after the informers synced and the first sync ran).
 */
export async function startKproxy(
  ns: string,
  node: TopologyNode,
  options: {
    mode: ProxyMode;
    source: ApiSource;
    settings: KproxySettings;
    logDir: string;
    extraArgs?: readonly string[];
  },
): Promise<KproxyProcess> {
  const logFile = join(options.logDir, `kproxy-${node.name}.log`);
  if (options.source.embedded) rmSync(options.source.socketPath, { force: true });
  writeFileSync(logFile, `--- start ${new Date().toISOString()} ${JSON.stringify(options.settings)}\n`, {
    flag: "a",
  });
  let url: string | undefined;
  const args = kproxyArgs(options.mode, node, options);
  const proc = await startNamespaceProcess(ns, [process.execPath, mainScript, ...args], {
    cwd: repoRoot,
    logFile,
    ready: /^kproxy: ready/,
    readyTimeoutMs: 60_000,
    env: { ...process.env, KPROXY_LOG_LEVEL: process.env["KPROXY_LOG_LEVEL"] ?? "debug" },
    onLine: (line) => {
      const m = /^kproxy: API server (\S+)/.exec(line);
      if (m?.[1] !== undefined) url = m[1];
    },
  });
  return {
    node: node.name,
    process: proc,
    get apiServerURL() {
      return url;
    },
    logFile,
    stop: () => proc.stop(5000),
  };
}

/** Writes a kubeconfig pointing at `server` with a bearer token (TLS not verified: a test cluster). */
export function writeKubeconfig(path: string, server: string, token: string): void {
  writeFileSync(
    path,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      `- name: conformance`,
      `  cluster: { server: "${server}", insecure-skip-tls-verify: ${server.startsWith("https:")} }`,
      "users:",
      `- name: conformance`,
      `  user: { token: "${token}" }`,
      "contexts:",
      "- name: conformance",
      "  context: { cluster: conformance, user: conformance }",
      "current-context: conformance",
      "",
    ].join("\n"),
  );
}
