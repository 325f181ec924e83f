/**
 * kproxy's configuration: upstream's `KubeProxyConfiguration` (kubeproxy.config.k8s.io/v1alpha1),
 * field for field where upstream has the field, plus kproxy's own sections (`userspace`,
 * `apiserver`, `dns`, `nftables.layout`), which upstream lacks. Durations are milliseconds here;
 * the YAML file uses Go duration strings (`30s`, `1m0s`) as upstream does.
 */

/** Proxy modes kproxy knows of. Which are built is decided by the mode registry. */
export type ProxyMode = "userspace" | "iptables" | "ipvs" | "nftables";

/** How the proxy tells cluster-internal (pod) traffic from other traffic. */
export type DetectLocalMode = "ClusterCIDR" | "NodeCIDR" | "BridgeInterface" | "InterfaceNamePrefix" | "None";

/** nftables rule layouts: kproxy's scalable default, or upstream's exact one (for comparison). */
export type NftablesLayout = "kproxy" | "upstream";

export interface IptablesConfig {
  /** Masquerade every packet sent to a Service IP (upstream `--masquerade-all`). */
  readonly masqueradeAll: boolean;
  /** Bit of the fwmark that marks packets for SNAT, 0-31 (default 14 → 0x4000). */
  readonly masqueradeBit: number;
  /** Allow NodePorts on 127.0.0.1 (upstream default true for iptables mode). */
  readonly localhostNodePorts: boolean;
  readonly syncPeriodMs: number;
  readonly minSyncPeriodMs: number;
}

export interface NftablesConfig {
  readonly masqueradeAll: boolean;
  readonly masqueradeBit: number;
  readonly syncPeriodMs: number;
  readonly minSyncPeriodMs: number;
  /** kproxy extension: rule layout (see proxy/nftables/README.md). */
  readonly layout: NftablesLayout;
}

export interface IpvsConfig {
  /** IPVS scheduler (rr, wrr, lc, wlc, sed, nq, sh, dh, mh, ...); "" means rr. */
  readonly scheduler: string;
  readonly syncPeriodMs: number;
  readonly minSyncPeriodMs: number;
  readonly excludeCIDRs: readonly string[];
  readonly strictARP: boolean;
  readonly tcpTimeoutMs: number;
  readonly tcpFinTimeoutMs: number;
  readonly udpTimeoutMs: number;
}

/** kproxy extension: the userspace relays. */
export interface UserspaceConfig {
  /** Idle timeout of a UDP client session (default 30 s; upstream's 250 ms broke slow DNS answers). */
  readonly udpIdleTimeoutMs: number;
  /** Default scheduler of the relays (`rr`, ...); a Service may override it with `kproxy.io/scheduler`. */
  readonly scheduler: string;
  readonly syncPeriodMs: number;
  readonly minSyncPeriodMs: number;
  /**
   * Threads that relay TCP (`--userspace-workers`), each with its own io_uring or epoll loop; a Service's ports
   * stay on one of them. 0 relays TCP on the main thread instead. Unset: the default (1).
   */
  readonly workers?: number | undefined;
}

export interface ConntrackConfig {
  readonly maxPerCore: number;
  readonly min: number;
  readonly tcpEstablishedTimeoutMs: number;
  readonly tcpCloseWaitTimeoutMs: number;
  readonly tcpBeLiberal: boolean;
  readonly udpTimeoutMs: number;
  readonly udpStreamTimeoutMs: number;
}

export interface DetectLocalConfig {
  readonly bridgeInterface: string;
  readonly interfaceNamePrefix: string;
}

export interface ClientConnectionConfig {
  /** Path of a kubeconfig; "" means in-cluster credentials, or the embedded API server. */
  readonly kubeconfig: string;
  readonly qps: number;
  readonly burst: number;
}

/** kproxy extension: the embedded API server, used when no kubeconfig or master is given. */
export interface EmbeddedApiServerConfig {
  /** `host:port`; port 0 picks a free port. */
  readonly listen: string;
  /** SQLite data directory; "" keeps the store in memory. */
  readonly dataDir: string;
  readonly serviceClusterIPRange: string;
  readonly serviceNodePortRange: string;
  readonly loadBalancerIPRange: string;
  /** Files or folders of YAML applied to the server, and re-applied when they change. */
  readonly manifests: readonly string[];
}

/** kproxy extension: the in-process cluster DNS server (`kproxy run --dns`). */
export interface DnsConfig {
  readonly enabled: boolean;
  readonly bindAddress: string;
  readonly clusterDomain: string;
  readonly ttlSeconds: number;
  readonly upstreams: readonly string[];
  /** Pod records `a-b-c-d.<ns>.pod.<zone>`: disabled, insecure (any such name) or verified (a Pod has the IP). */
  readonly pods: "disabled" | "insecure" | "verified";
  /** Name headless endpoints without a hostname after their Pod rather than their IP. */
  readonly endpointPodNames: boolean;
  /** Answer an ExternalName that is an IP address with an A/AAAA record (CoreDNS gives no answer). */
  readonly externalNameIPs: boolean;
}

export interface ProxyConfig {
  readonly mode: ProxyMode;
  /** Node name; "" means the hostname. */
  readonly hostnameOverride: string;
  /** The node's IPs, when not read from the Node object (`--node-ip`, kproxy extension). */
  readonly nodeIPs: readonly string[];
  readonly bindAddress: string;
  /** `host:port` of /healthz and /livez; "" disables (default `0.0.0.0:10256`). */
  readonly healthzBindAddress: string;
  /** `host:port` of /metrics; "" disables (default `127.0.0.1:10249`). */
  readonly metricsBindAddress: string;
  readonly bindAddressHardFail: boolean;
  /** `--master`: URL of the API server, overriding the kubeconfig's. */
  readonly master: string;
  readonly clientConnection: ClientConnectionConfig;
  /** Pod CIDRs of the cluster, comma-separated in flags (for `detectLocalMode: ClusterCIDR`). */
  readonly clusterCIDRs: readonly string[];
  readonly detectLocalMode: DetectLocalMode;
  readonly detectLocal: DetectLocalConfig;
  /** CIDRs (or the word `primary`) of the addresses that accept NodePorts; empty means all local addresses. */
  readonly nodePortAddresses: readonly string[];
  readonly configSyncPeriodMs: number;
  readonly iptables: IptablesConfig;
  readonly nftables: NftablesConfig;
  readonly ipvs: IpvsConfig;
  readonly userspace: UserspaceConfig;
  readonly conntrack: ConntrackConfig;
  readonly oomScoreAdj: number;
  /** Log verbosity (`--v`): 0 info, 2 debug, 4+ trace. */
  readonly verbosity: number;
  readonly apiserver: EmbeddedApiServerConfig;
  readonly dns: DnsConfig;
}
