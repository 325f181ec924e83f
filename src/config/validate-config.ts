import { isIP } from "node:net";
import type { FieldProblem } from "../errors.ts";
import { cidrFamilyOf, ipFamilyOf } from "../model/ip.ts";
import { formatGoDuration } from "./go-duration.ts";
import type { ProxyConfig } from "./proxy-config.ts";

/** Proxy modes kproxy knows of (whether built or not; the mode registry says which are built). */
export const knownProxyModes = ["userspace", "iptables", "ipvs", "nftables"] as const;
/** `detectLocalMode` values, as upstream spells them. */
export const detectLocalModes = ["ClusterCIDR", "NodeCIDR", "BridgeInterface", "InterfaceNamePrefix", "None"];
/** IPVS schedulers the kernel offers (upstream accepts these names). */
export const ipvsSchedulers = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh"];
/** Schedulers of kproxy's userspace relays. */
export const userspaceSchedulers = ["rr", "wrr", "lc", "wlc", "sed", "nq", "sh", "dh", "mh", "random", "p2c"];
/** Words `nodePortAddresses` accepts besides CIDRs (upstream's keywords). */
export const nodePortAddressKeywords = ["primary", "localhost", "all"];

/**
 * Checks a whole configuration and returns every problem, each with the field path as the
 * configuration file names it and an example of a valid value. Pure: no I/O. An empty list means
 * the configuration is usable.
 */
export function validateConfig(config: ProxyConfig): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const add = (field: string, message: string, example?: string): void => {
    problems.push(example === undefined ? { field, message } : { field, message, example });
  };

  if (!(knownProxyModes as readonly string[]).includes(config.mode)) {
    add(
      "mode",
      `${JSON.stringify(config.mode)} is not a proxy mode (${knownProxyModes.join(", ")})`,
      "iptables",
    );
  }
  if (config.hostnameOverride !== "" && !isDnsSubdomain(config.hostnameOverride)) {
    add(
      "hostnameOverride",
      `${JSON.stringify(config.hostnameOverride)} is not a valid node name (lower-case DNS subdomain)`,
      "node-1",
    );
  }
  checkIPs(config.nodeIPs, "nodeIPs", add);
  if (config.bindAddress !== "" && isIP(config.bindAddress) === 0) {
    add("bindAddress", `${JSON.stringify(config.bindAddress)} is not an IP address`, "0.0.0.0");
  }
  checkHostPort(config.healthzBindAddress, "healthzBindAddress", "0.0.0.0:10256", add, true);
  checkHostPort(config.metricsBindAddress, "metricsBindAddress", "127.0.0.1:10249", add, true);
  if (config.clientConnection.qps < 0)
    add("clientConnection.qps", `${config.clientConnection.qps} is negative`, "5");
  if (config.clientConnection.burst < 0)
    add("clientConnection.burst", `${config.clientConnection.burst} is negative`, "10");

  checkCIDRs(config.clusterCIDRs, "clusterCIDR", "10.244.0.0/16", add);
  if (!detectLocalModes.includes(config.detectLocalMode)) {
    add(
      "detectLocalMode",
      `${JSON.stringify(config.detectLocalMode)} is not one of ${detectLocalModes.join(", ")}`,
      "ClusterCIDR",
    );
  }
  if (config.detectLocalMode === "BridgeInterface" && config.detectLocal.bridgeInterface === "") {
    add("detectLocal.bridgeInterface", "is required with detectLocalMode BridgeInterface", "cbr0");
  }
  if (config.detectLocalMode === "InterfaceNamePrefix" && config.detectLocal.interfaceNamePrefix === "") {
    add("detectLocal.interfaceNamePrefix", "is required with detectLocalMode InterfaceNamePrefix", "veth");
  }
  config.nodePortAddresses.forEach((entry, i) => {
    if (!nodePortAddressKeywords.includes(entry) && cidrFamilyOf(entry) === undefined) {
      add(
        `nodePortAddresses[${i}]`,
        `${JSON.stringify(entry)} is not a CIDR or one of ${nodePortAddressKeywords.join(", ")}`,
        "192.168.0.0/16",
      );
    }
  });
  checkPositive(config.configSyncPeriodMs, "configSyncPeriod", add);

  for (const section of ["iptables", "nftables"] as const) {
    const s = config[section];
    checkBit(s.masqueradeBit, `${section}.masqueradeBit`, add);
    checkPositive(s.syncPeriodMs, `${section}.syncPeriod`, add);
    checkNonNegative(s.minSyncPeriodMs, `${section}.minSyncPeriod`, add);
  }
  if (config.nftables.layout !== "kproxy" && config.nftables.layout !== "upstream") {
    add("nftables.layout", `${JSON.stringify(config.nftables.layout)} is not kproxy or upstream`, "kproxy");
  }
  if (config.ipvs.scheduler !== "" && !ipvsSchedulers.includes(config.ipvs.scheduler)) {
    add(
      "ipvs.scheduler",
      `${JSON.stringify(config.ipvs.scheduler)} is not an IPVS scheduler (${ipvsSchedulers.join(", ")})`,
      "rr",
    );
  }
  checkPositive(config.ipvs.syncPeriodMs, "ipvs.syncPeriod", add);
  checkNonNegative(config.ipvs.minSyncPeriodMs, "ipvs.minSyncPeriod", add);
  checkCIDRs(config.ipvs.excludeCIDRs, "ipvs.excludeCIDRs", "10.0.0.0/8", add, false);
  checkNonNegative(config.ipvs.tcpTimeoutMs, "ipvs.tcpTimeout", add);
  checkNonNegative(config.ipvs.tcpFinTimeoutMs, "ipvs.tcpFinTimeout", add);
  checkNonNegative(config.ipvs.udpTimeoutMs, "ipvs.udpTimeout", add);

  if (!userspaceSchedulers.includes(config.userspace.scheduler)) {
    add(
      "userspace.scheduler",
      `${JSON.stringify(config.userspace.scheduler)} is not a scheduler (${userspaceSchedulers.join(", ")})`,
      "rr",
    );
  }
  checkPositive(config.userspace.udpIdleTimeoutMs, "userspace.udpIdleTimeout", add);
  checkPositive(config.userspace.syncPeriodMs, "userspace.syncPeriod", add);
  checkNonNegative(config.userspace.minSyncPeriodMs, "userspace.minSyncPeriod", add);
  const workers = config.userspace.workers;
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 0 || workers > 64))
    add("userspace.workers", `${workers} is not in 0..64`, "1");

  const ct = config.conntrack;
  if (!Number.isInteger(ct.maxPerCore) || ct.maxPerCore < 0)
    add("conntrack.maxPerCore", `${ct.maxPerCore} must be an integer >= 0`, "32768");
  if (!Number.isInteger(ct.min) || ct.min < 0)
    add("conntrack.min", `${ct.min} must be an integer >= 0`, "131072");
  checkNonNegative(ct.tcpEstablishedTimeoutMs, "conntrack.tcpEstablishedTimeout", add);
  checkNonNegative(ct.tcpCloseWaitTimeoutMs, "conntrack.tcpCloseWaitTimeout", add);
  checkNonNegative(ct.udpTimeoutMs, "conntrack.udpTimeout", add);
  checkNonNegative(ct.udpStreamTimeoutMs, "conntrack.udpStreamTimeout", add);

  if (!Number.isInteger(config.oomScoreAdj) || config.oomScoreAdj < -1000 || config.oomScoreAdj > 1000) {
    add("oomScoreAdj", `${config.oomScoreAdj} is not in -1000..1000`, "-999");
  }
  if (!Number.isInteger(config.verbosity) || config.verbosity < 0) {
    add("logging.verbosity", `${config.verbosity} must be an integer >= 0`, "2");
  }

  const api = config.apiserver;
  checkHostPort(api.listen, "apiserver.listen", "127.0.0.1:6443", add, false);
  const ranges = api.serviceClusterIPRange.split(",").map((s) => s.trim());
  checkCIDRs(ranges, "apiserver.serviceClusterIPRange", "10.96.0.0/12", add);
  if (ranges.length === 0 || ranges[0] === "") {
    add("apiserver.serviceClusterIPRange", "is required", "10.96.0.0/12");
  }
  const nodePorts = /^(\d+)-(\d+)$/.exec(api.serviceNodePortRange);
  if (
    nodePorts === null ||
    Number(nodePorts[1]) < 1 ||
    Number(nodePorts[2]) > 65535 ||
    Number(nodePorts[1]) > Number(nodePorts[2])
  ) {
    add(
      "apiserver.serviceNodePortRange",
      `${JSON.stringify(api.serviceNodePortRange)} is not a port range A-B within 1-65535`,
      "30000-32767",
    );
  }
  if (api.loadBalancerIPRange !== "") {
    checkCIDRs(api.loadBalancerIPRange.split(","), "apiserver.loadBalancerIPRange", "192.0.2.0/24", add);
  }

  const dns = config.dns;
  checkHostPort(dns.bindAddress, "dns.bindAddress", "0.0.0.0:53", add, false);
  if (dns.clusterDomain === "" || !isDnsSubdomain(dns.clusterDomain.replace(/\.$/, ""))) {
    add("dns.clusterDomain", `${JSON.stringify(dns.clusterDomain)} is not a DNS domain`, "cluster.local");
  }
  if (!Number.isInteger(dns.ttlSeconds) || dns.ttlSeconds < 0 || dns.ttlSeconds > 3600) {
    add("dns.ttl", `${dns.ttlSeconds} must be an integer number of seconds from 0 to 3600`, "5");
  }
  if (!["disabled", "insecure", "verified"].includes(dns.pods)) {
    add("dns.pods", `${JSON.stringify(dns.pods)} is not disabled, insecure or verified`, "disabled");
  }
  dns.upstreams.forEach((u, i) => {
    if (!isHostWithOptionalPort(u))
      add(`dns.upstreams[${i}]`, `${JSON.stringify(u)} is not ADDR[:PORT]`, "8.8.8.8:53");
  });
  return problems;
}

type Add = (field: string, message: string, example?: string) => void;

function checkPositive(ms: number, field: string, add: Add): void {
  if (!Number.isFinite(ms) || ms <= 0) add(field, `${formatGoDuration(ms)} must be greater than 0`, "30s");
}

function checkNonNegative(ms: number, field: string, add: Add): void {
  if (!Number.isFinite(ms) || ms < 0) add(field, `${formatGoDuration(ms)} must not be negative`, "1s");
}

function checkBit(bit: number, field: string, add: Add): void {
  if (!Number.isInteger(bit) || bit < 0 || bit > 31) add(field, `${bit} is not in 0..31`, "14");
}

function checkIPs(ips: readonly string[], field: string, add: Add): void {
  const families = new Set<string>();
  ips.forEach((ip, i) => {
    const family = ipFamilyOf(ip);
    if (family === undefined)
      add(`${field}[${i}]`, `${JSON.stringify(ip)} is not an IP address`, "192.168.0.2");
    else if (families.has(family))
      add(`${field}[${i}]`, `more than one ${family} address`, "192.168.0.2,fd00::2");
    else families.add(family);
  });
}

/** CIDRs, at most one per family when `onePerFamily` (clusterCIDR, serviceClusterIPRange). */
function checkCIDRs(
  cidrs: readonly string[],
  field: string,
  example: string,
  add: Add,
  onePerFamily = true,
): void {
  const families = new Set<string>();
  cidrs.forEach((cidr, i) => {
    const path = cidrs.length > 1 ? `${field}[${i}]` : field;
    const family = cidrFamilyOf(cidr.trim());
    if (cidr.trim() === "") return;
    if (family === undefined) add(path, `${JSON.stringify(cidr)} is not a CIDR`, example);
    else if (onePerFamily && families.has(family))
      add(path, `more than one ${family} CIDR (at most one per IP family)`, example);
    else families.add(family);
  });
}

/** `host:port` (IPv6 hosts in brackets); `allowEmpty` for servers that "" disables. */
function checkHostPort(value: string, field: string, example: string, add: Add, allowEmpty: boolean): void {
  if (value === "" && allowEmpty) return;
  const parsed = splitHostPort(value);
  if (parsed === undefined || isIP(parsed.host) === 0) {
    add(field, `${JSON.stringify(value)} is not IP:PORT (IPv6 in brackets)`, example);
  } else if (parsed.port > 65535) {
    add(field, `port ${parsed.port} is not in 0-65535`, example);
  }
}

/** Splits `1.2.3.4:80` or `[::1]:80`; undefined when malformed. */
export function splitHostPort(value: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  if (m === null) return undefined;
  return { host: m[1] ?? m[2] ?? "", port: Number(m[3]) };
}

function isHostWithOptionalPort(value: string): boolean {
  if (isIP(value) !== 0) return true;
  const parsed = splitHostPort(value);
  return parsed !== undefined && isIP(parsed.host) !== 0 && parsed.port > 0 && parsed.port <= 65535;
}

function isDnsSubdomain(name: string): boolean {
  return (
    name.length <= 253 && name.split(".").every((label) => /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(label))
  );
}
