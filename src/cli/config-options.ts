import type { Command } from "commander";
import { defaultProxyConfig } from "../config/defaults.ts";
import { formatGoDuration, parseGoDuration } from "../config/go-duration.ts";
import { loadConfigFile } from "../config/parse-config-file.ts";
import type { DetectLocalMode, NftablesLayout, ProxyConfig, ProxyMode } from "../config/proxy-config.ts";
import { validateConfig } from "../config/validate-config.ts";
import { ValidationError, type FieldProblem } from "../errors.ts";
import { availableModes } from "../proxy/mode-registry.ts";

/** Raw values of the configuration flags, as commander parsed them (undefined = not given). */
export interface ConfigFlagValues {
  config?: string;
  proxyMode?: string;
  kubeconfig?: string;
  master?: string;
  hostnameOverride?: string;
  nodeIp?: string[];
  clusterCidr?: string[];
  detectLocalMode?: string;
  nodeportAddresses?: string[];
  masqueradeAll?: boolean;
  iptablesMasqueradeBit?: string;
  iptablesSyncPeriod?: string;
  iptablesMinSyncPeriod?: string;
  iptablesLocalhostNodeports?: string;
  nftablesLayout?: string;
  ipvsScheduler?: string;
  userspaceScheduler?: string;
  userspaceWorkers?: string;
  udpTimeout?: string;
  healthzBindAddress?: string;
  metricsBindAddress?: string;
  v?: string;
  listen?: string;
  dataDir?: string;
  serviceClusterIpRange?: string;
  serviceNodePortRange?: string;
  loadBalancerIpRange?: string;
  manifests?: string[];
  dns?: boolean;
  dnsBindAddress?: string;
  clusterDomain?: string;
  dnsTtl?: string;
  dnsUpstream?: string[];
  dnsPods?: string;
  dnsEndpointPodNames?: boolean;
  dnsExternalNameIps?: boolean;
}

/** Accumulates a repeatable, comma-separated flag. */
export function collectList(value: string, previous: string[] | undefined): string[] {
  return [
    ...(previous ?? []),
    ...value
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
  ];
}

/** Accumulates a repeatable flag whose values may contain commas (paths). */
export function collectRepeat(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const d = defaultProxyConfig;

/**
 * Adds the proxy configuration flags (kube-proxy's names where they exist) to a command. Help texts
 * give units, defaults and examples; no commander defaults are set, so that a flag overrides the
 * `--config` file only when it is given.
 */
export function addConfigOptions(cmd: Command): Command {
  return cmd
    .option(
      "--config <file>",
      "KubeProxyConfiguration YAML file (kubeproxy.config.k8s.io/v1alpha1); flags override it",
    )
    .option("--proxy-mode <mode>", `proxy mode: userspace, iptables, nftables or ipvs (default ${d.mode})`)
    .option(
      "--kubeconfig <file>",
      "kubeconfig of the cluster; without it and --master, the embedded API server runs",
    )
    .option("--master <url>", "URL of the Kubernetes API server (overrides the kubeconfig's)")
    .option("--hostname-override <name>", "name of this node (default: the hostname)")
    .option(
      "--node-ip <ips>",
      "this node's IPs, one per family, e.g. 192.168.0.2,fd00::2 (repeatable)",
      collectList,
    )
    .option(
      "--cluster-cidr <cidrs>",
      "pod CIDRs of the cluster, e.g. 10.244.0.0/16 (comma-separated)",
      collectList,
    )
    .option(
      "--detect-local-mode <mode>",
      `how pod traffic is told apart: ClusterCIDR, NodeCIDR, BridgeInterface, InterfaceNamePrefix or None (default ${d.detectLocalMode})`,
    )
    .option(
      "--nodeport-addresses <cidrs>",
      "CIDRs (or primary/localhost/all) of the addresses that accept NodePorts; default all local addresses",
      collectList,
    )
    .option("--masquerade-all", "SNAT every packet sent to a Service IP")
    .option(
      "--iptables-masquerade-bit <n>",
      `fwmark bit (0-31) marking packets for SNAT (default ${d.iptables.masqueradeBit})`,
    )
    .option(
      "--iptables-sync-period <duration>",
      `full resync interval, every mode, e.g. 30s (default ${formatGoDuration(d.iptables.syncPeriodMs)})`,
    )
    .option(
      "--iptables-min-sync-period <duration>",
      `minimum interval between syncs, every mode, e.g. 1s; 0s syncs at once (default ${formatGoDuration(d.iptables.minSyncPeriodMs)})`,
    )
    .option(
      "--iptables-localhost-nodeports <bool>",
      "accept NodePorts on 127.0.0.1 (iptables mode; default true)",
    )
    .option(
      "--nftables-layout <layout>",
      `nftables rule layout: kproxy or upstream (default ${d.nftables.layout})`,
    )
    .option(
      "--ipvs-scheduler <name>",
      "IPVS scheduler: rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, mh (default rr)",
    )
    .option(
      "--userspace-scheduler <name>",
      `scheduler of the userspace relays, e.g. rr, wrr, lc, p2c, mh (default ${d.userspace.scheduler})`,
    )
    .option(
      "--userspace-workers <n>",
      `threads relaying TCP in userspace mode, each with its own epoll loop; 0 relays on the main thread (default ${d.userspace.workers ?? 1})`,
    )
    .option(
      "--udp-timeout <duration>",
      `idle timeout of a userspace UDP session, e.g. 30s (default ${formatGoDuration(d.userspace.udpIdleTimeoutMs)})`,
    )
    .option(
      "--healthz-bind-address <addr:port>",
      `address of /healthz and /livez; "" disables (default ${d.healthzBindAddress})`,
    )
    .option(
      "--metrics-bind-address <addr:port>",
      `address of /metrics; "" disables (default ${d.metricsBindAddress})`,
    )
    .option("--v <n>", "log verbosity: 0 info, 1-3 debug, 4+ trace (default 0)");
}

/** Adds the embedded API server's and the in-process DNS server's flags (`kproxy run`). */
export function addEmbeddedServerOptions(cmd: Command): Command {
  return cmd
    .option(
      "--listen <addr:port>",
      `embedded API server address; port 0 picks one (default ${d.apiserver.listen})`,
    )
    .option("--listen-socket <path>", "also serve the embedded API server on this Unix socket")
    .option("--data-dir <dir>", "SQLite data directory of the embedded API server (default: in memory)")
    .option(
      "--service-cluster-ip-range <cidrs>",
      `ClusterIP range(s), one per family (default ${d.apiserver.serviceClusterIPRange})`,
    )
    .option(
      "--service-node-port-range <a-b>",
      `NodePort range of the embedded API server (default ${d.apiserver.serviceNodePortRange})`,
    )
    .option(
      "--load-balancer-ip-range <cidr>",
      "LoadBalancer ingress IP pool of the embedded API server (default none)",
    )
    .option("--token-file <file>", "bearer tokens of the embedded API server (required beyond loopback)")
    .option("--tls-cert-file <file>", "TLS certificate of the embedded API server")
    .option("--tls-private-key-file <file>", "TLS private key of the embedded API server")
    .option(
      "--manifests <path>",
      "YAML file or folder applied to the embedded API server (repeatable)",
      collectRepeat,
    )
    .option("--dns", "also run the cluster DNS server")
    .option("--dns-bind-address <addr:port>", `DNS server address (default ${d.dns.bindAddress})`)
    .option("--cluster-domain <domain>", `cluster DNS domain (default ${d.dns.clusterDomain})`)
    .option("--dns-ttl <seconds>", `TTL of DNS answers, 0-3600 seconds (default ${d.dns.ttlSeconds})`)
    .option(
      "--dns-upstream <addr[:port]>",
      "resolver for names outside the cluster zone (repeatable; default: /etc/resolv.conf's)",
      collectList,
    )
    .option("--dns-pods <mode>", `pod records: disabled, insecure or verified (default ${d.dns.pods})`)
    .option("--dns-endpoint-pod-names", "name headless endpoints without a hostname after their Pod")
    .option("--dns-external-name-ips", "answer an ExternalName that is an IP address with an A/AAAA record");
}

/**
 * Builds the configuration: defaults, then the `--config` file, then the flags; then validates it.
 * Throws one ValidationError listing every problem (file, flags and semantic checks).
 */
export function configFromFlags(flags: ConfigFlagValues): ProxyConfig {
  let config = defaultProxyConfig;
  const problems: FieldProblem[] = [];
  if (flags.config !== undefined) {
    const file = loadConfigFile(flags.config, config);
    config = file.config;
    problems.push(...file.problems);
  }
  config = applyFlags(config, flags, problems);
  for (const problem of validateConfig(config)) {
    // Name the modes this build has, not only the modes kproxy knows of.
    problems.push(
      problem.field === "mode"
        ? { ...problem, message: `${problem.message}; built here: ${availableModes().join(", ") || "none"}` }
        : problem,
    );
  }
  if (problems.length > 0) {
    const what = flags.config === undefined ? "the configuration" : `the configuration from ${flags.config}`;
    throw new ValidationError(what, problems);
  }
  return config;
}

function applyFlags(base: ProxyConfig, f: ConfigFlagValues, problems: FieldProblem[]): ProxyConfig {
  const duration = (value: string | undefined, flag: string): number | undefined => {
    if (value === undefined) return undefined;
    const ms = parseGoDuration(value);
    if (ms === undefined)
      problems.push({ field: flag, message: `${JSON.stringify(value)} is not a duration`, example: "30s" });
    return ms;
  };
  const integer = (value: string | undefined, flag: string, example: string): number | undefined => {
    if (value === undefined) return undefined;
    if (!/^-?\d+$/.test(value.trim())) {
      problems.push({ field: flag, message: `${JSON.stringify(value)} is not an integer`, example });
      return undefined;
    }
    return Number(value);
  };
  const bool = (value: string | undefined, flag: string): boolean | undefined => {
    if (value === undefined) return undefined;
    if (value === "true" || value === "false") return value === "true";
    problems.push({ field: flag, message: `${JSON.stringify(value)} is not true or false`, example: "true" });
    return undefined;
  };
  const syncPeriod = duration(f.iptablesSyncPeriod, "--iptables-sync-period");
  const minSyncPeriod = duration(f.iptablesMinSyncPeriod, "--iptables-min-sync-period");
  const masqBit = integer(f.iptablesMasqueradeBit, "--iptables-masquerade-bit", "14");
  const localhostNodePorts = bool(f.iptablesLocalhostNodeports, "--iptables-localhost-nodeports");
  const udpTimeout = duration(f.udpTimeout, "--udp-timeout");
  const userspaceWorkers = integer(f.userspaceWorkers, "--userspace-workers", "1");
  const verbosity = integer(f.v, "--v", "2");
  const masqAll = f.masqueradeAll === true ? true : undefined;
  // The sync-period flags keep kube-proxy's iptables names but, as in kube-proxy, drive every mode.
  const sync = <T extends { syncPeriodMs: number; minSyncPeriodMs: number }>(s: T): T => ({
    ...s,
    syncPeriodMs: syncPeriod ?? s.syncPeriodMs,
    minSyncPeriodMs: minSyncPeriod ?? s.minSyncPeriodMs,
  });
  return {
    ...base,
    mode: (f.proxyMode as ProxyMode | undefined) ?? base.mode,
    master: f.master ?? base.master,
    hostnameOverride: f.hostnameOverride ?? base.hostnameOverride,
    nodeIPs: f.nodeIp ?? base.nodeIPs,
    clusterCIDRs: f.clusterCidr ?? base.clusterCIDRs,
    detectLocalMode: (f.detectLocalMode as DetectLocalMode | undefined) ?? base.detectLocalMode,
    nodePortAddresses: f.nodeportAddresses ?? base.nodePortAddresses,
    healthzBindAddress: f.healthzBindAddress ?? base.healthzBindAddress,
    metricsBindAddress: f.metricsBindAddress ?? base.metricsBindAddress,
    verbosity: verbosity ?? base.verbosity,
    clientConnection: {
      ...base.clientConnection,
      kubeconfig: f.kubeconfig ?? base.clientConnection.kubeconfig,
    },
    iptables: {
      ...sync(base.iptables),
      masqueradeAll: masqAll ?? base.iptables.masqueradeAll,
      masqueradeBit: masqBit ?? base.iptables.masqueradeBit,
      localhostNodePorts: localhostNodePorts ?? base.iptables.localhostNodePorts,
    },
    nftables: {
      ...sync(base.nftables),
      masqueradeAll: masqAll ?? base.nftables.masqueradeAll,
      masqueradeBit: masqBit ?? base.nftables.masqueradeBit,
      layout: (f.nftablesLayout as NftablesLayout | undefined) ?? base.nftables.layout,
    },
    ipvs: { ...sync(base.ipvs), scheduler: f.ipvsScheduler ?? base.ipvs.scheduler },
    userspace: {
      ...sync(base.userspace),
      scheduler: f.userspaceScheduler ?? base.userspace.scheduler,
      udpIdleTimeoutMs: udpTimeout ?? base.userspace.udpIdleTimeoutMs,
      workers: userspaceWorkers ?? base.userspace.workers,
    },
    apiserver: {
      ...base.apiserver,
      listen: f.listen ?? base.apiserver.listen,
      dataDir: f.dataDir ?? base.apiserver.dataDir,
      serviceClusterIPRange: f.serviceClusterIpRange ?? base.apiserver.serviceClusterIPRange,
      serviceNodePortRange: f.serviceNodePortRange ?? base.apiserver.serviceNodePortRange,
      loadBalancerIPRange: f.loadBalancerIpRange ?? base.apiserver.loadBalancerIPRange,
      manifests: f.manifests ?? base.apiserver.manifests,
    },
    dns: {
      ...base.dns,
      enabled: f.dns === true ? true : base.dns.enabled,
      bindAddress: f.dnsBindAddress ?? base.dns.bindAddress,
      clusterDomain: f.clusterDomain ?? base.dns.clusterDomain,
      ttlSeconds: f.dnsTtl !== undefined ? Number(f.dnsTtl) : base.dns.ttlSeconds,
      upstreams: f.dnsUpstream ?? base.dns.upstreams,
      pods: (f.dnsPods as ProxyConfig["dns"]["pods"] | undefined) ?? base.dns.pods,
      endpointPodNames: f.dnsEndpointPodNames === true ? true : base.dns.endpointPodNames,
      externalNameIPs: f.dnsExternalNameIps === true ? true : base.dns.externalNameIPs,
    },
  };
}
