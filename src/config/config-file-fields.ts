/**
 * The fields a `KubeProxyConfiguration` file may hold: upstream's v1alpha1 fields (with the kinds
 * their values must have) plus kproxy's documented extensions. Anything else is reported as an
 * unknown field, with its path, so that typos do not pass silently.
 */

/** How a leaf value must look. `ignored` fields are accepted for compatibility and have no effect. */
export type FieldKind = "string" | "bool" | "int" | "number" | "duration" | "strings" | "boolMap" | "ignored";

/** A section (nested fields) or a leaf kind. */
export interface FieldSpec {
  readonly [field: string]: FieldKind | FieldSpec;
}

/** Every field of a configuration file, by its YAML name. */
export const configFileFields: FieldSpec = {
  apiVersion: "string",
  kind: "string",
  featureGates: "boolMap",
  clientConnection: {
    kubeconfig: "string",
    acceptContentTypes: "ignored",
    contentType: "ignored",
    qps: "number",
    burst: "int",
  },
  logging: {
    format: "ignored",
    flushFrequency: "ignored",
    verbosity: "int",
    vmodule: "ignored",
    options: "ignored",
  },
  hostnameOverride: "string",
  bindAddress: "string",
  healthzBindAddress: "string",
  metricsBindAddress: "string",
  bindAddressHardFail: "bool",
  enableProfiling: "ignored",
  showHiddenMetricsForVersion: "ignored",
  mode: "string",
  iptables: {
    masqueradeBit: "int",
    masqueradeAll: "bool",
    localhostNodePorts: "bool",
    snatNodeInternalIP: "ignored",
    syncPeriod: "duration",
    minSyncPeriod: "duration",
  },
  ipvs: {
    syncPeriod: "duration",
    minSyncPeriod: "duration",
    scheduler: "string",
    excludeCIDRs: "strings",
    strictARP: "bool",
    tcpTimeout: "duration",
    tcpFinTimeout: "duration",
    udpTimeout: "duration",
  },
  nftables: {
    masqueradeBit: "int",
    masqueradeAll: "bool",
    syncPeriod: "duration",
    minSyncPeriod: "duration",
    // kproxy extension.
    layout: "string",
  },
  winkernel: "ignored",
  detectLocalMode: "string",
  detectLocal: { bridgeInterface: "string", interfaceNamePrefix: "string" },
  clusterCIDR: "string",
  nodePortAddresses: "strings",
  oomScoreAdj: "int",
  conntrack: {
    maxPerCore: "int",
    min: "int",
    tcpEstablishedTimeout: "duration",
    tcpCloseWaitTimeout: "duration",
    tcpBeLiberal: "bool",
    udpTimeout: "duration",
    udpStreamTimeout: "duration",
  },
  configSyncPeriod: "duration",
  portRange: "ignored",
  windowsRunAsService: "ignored",
  // kproxy extensions.
  nodeIPs: "strings",
  userspace: {
    udpIdleTimeout: "duration",
    scheduler: "string",
    syncPeriod: "duration",
    minSyncPeriod: "duration",
    workers: "int",
  },
  apiserver: {
    listen: "string",
    dataDir: "string",
    serviceClusterIPRange: "string",
    serviceNodePortRange: "string",
    loadBalancerIPRange: "string",
    manifests: "strings",
  },
  dns: {
    enabled: "bool",
    bindAddress: "string",
    clusterDomain: "string",
    ttl: "int",
    upstreams: "strings",
    pods: "string",
    endpointPodNames: "bool",
    externalNameIPs: "bool",
  },
};
