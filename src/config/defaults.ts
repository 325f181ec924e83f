import type { ProxyConfig } from "./proxy-config.ts";

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;

/**
 * Upstream kube-proxy's defaults (pkg/proxy/apis/config/v1alpha1/defaults.go), and kproxy's for
 * its own sections. The one place defaults live.
 */
export const defaultProxyConfig: ProxyConfig = {
  mode: "iptables",
  hostnameOverride: "",
  nodeIPs: [],
  bindAddress: "0.0.0.0",
  healthzBindAddress: "0.0.0.0:10256",
  metricsBindAddress: "127.0.0.1:10249",
  bindAddressHardFail: false,
  master: "",
  clientConnection: { kubeconfig: "", qps: 5, burst: 10 },
  clusterCIDRs: [],
  detectLocalMode: "ClusterCIDR",
  detectLocal: { bridgeInterface: "", interfaceNamePrefix: "" },
  nodePortAddresses: [],
  configSyncPeriodMs: 15 * minute,
  iptables: {
    masqueradeAll: false,
    masqueradeBit: 14,
    localhostNodePorts: true,
    syncPeriodMs: 30 * second,
    minSyncPeriodMs: 1 * second,
  },
  nftables: {
    masqueradeAll: false,
    masqueradeBit: 14,
    syncPeriodMs: 30 * second,
    minSyncPeriodMs: 1 * second,
    layout: "kproxy",
  },
  ipvs: {
    scheduler: "",
    syncPeriodMs: 30 * second,
    minSyncPeriodMs: 0,
    excludeCIDRs: [],
    strictARP: false,
    tcpTimeoutMs: 0,
    tcpFinTimeoutMs: 0,
    udpTimeoutMs: 0,
  },
  userspace: {
    udpIdleTimeoutMs: 30 * second,
    scheduler: "rr",
    syncPeriodMs: 30 * second,
    minSyncPeriodMs: 1 * second,
    // One relay thread: measured on a 2-core node, a second one does not raise the request rates
    // (see src/proxy/userspace/README.md); more help many busy Services on nodes with cores to spare.
    workers: 1,
  },
  conntrack: {
    maxPerCore: 32768,
    min: 131072,
    tcpEstablishedTimeoutMs: 24 * hour,
    tcpCloseWaitTimeoutMs: 1 * hour,
    tcpBeLiberal: false,
    udpTimeoutMs: 0,
    udpStreamTimeoutMs: 0,
  },
  oomScoreAdj: -999,
  verbosity: 0,
  apiserver: {
    listen: "127.0.0.1:6443",
    dataDir: "",
    serviceClusterIPRange: "10.96.0.0/12",
    serviceNodePortRange: "30000-32767",
    loadBalancerIPRange: "",
    manifests: [],
  },
  dns: {
    enabled: false,
    bindAddress: "0.0.0.0:53",
    clusterDomain: "cluster.local",
    ttlSeconds: 5,
    upstreams: [],
    pods: "disabled",
    endpointPodNames: false,
    externalNameIPs: false,
  },
};

/** The masquerade mark for a bit, as upstream prints it: bit 14 → `0x4000`. */
export function masqueradeMark(bit: number): string {
  return `0x${((1 << bit) >>> 0).toString(16)}`;
}
