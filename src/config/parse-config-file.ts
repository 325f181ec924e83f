import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { errorMessage, type FieldProblem } from "../errors.ts";
import { configFileFields, type FieldKind, type FieldSpec } from "./config-file-fields.ts";
import { parseGoDuration } from "./go-duration.ts";
import type { DetectLocalMode, NftablesLayout, ProxyConfig, ProxyMode } from "./proxy-config.ts";

/** The API group/version and kind a configuration file must declare (when it declares them). */
export const configApiVersion = "kubeproxy.config.k8s.io/v1alpha1";
export const configKind = "KubeProxyConfiguration";

type Values = Record<string, unknown>;

/**
 * Reads a `KubeProxyConfiguration` YAML text over `base`. Returns the merged configuration and every
 * structural problem (unknown fields, values of the wrong kind, bad durations), each with its field
 * path; wrongly-typed values are left out of the merge so that the remaining fields can still be
 * validated and reported in the same run.
 */
export function parseConfigFile(
  text: string,
  options: { readonly source: string; readonly base: ProxyConfig },
): { config: ProxyConfig; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    return {
      config: options.base,
      problems: doc.errors.map((e) => ({
        field: options.source,
        message: `is not valid YAML: ${e.message}`,
      })),
    };
  }
  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) return { config: options.base, problems };
  if (typeof raw !== "object" || Array.isArray(raw)) {
    return {
      config: options.base,
      problems: [{ field: options.source, message: "must be a YAML mapping (a KubeProxyConfiguration)" }],
    };
  }
  const values = readSection(raw as Values, configFileFields, "", problems);
  if (values["apiVersion"] !== undefined && values["apiVersion"] !== configApiVersion) {
    problems.push({
      field: "apiVersion",
      message: `${JSON.stringify(values["apiVersion"])} is not supported`,
      example: configApiVersion,
    });
  }
  if (values["kind"] !== undefined && values["kind"] !== configKind) {
    problems.push({
      field: "kind",
      message: `${JSON.stringify(values["kind"])} is not supported`,
      example: configKind,
    });
  }
  return { config: mergeFileValues(options.base, values), problems };
}

/**
 * Reads and parses a configuration file over `base`. An unreadable file is one problem (field
 * `--config`); the caller decides when to throw, so that flag problems can be listed too.
 */
export function loadConfigFile(
  path: string,
  base: ProxyConfig,
): { config: ProxyConfig; problems: FieldProblem[] } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    return {
      config: base,
      problems: [{ field: "--config", message: `cannot read ${path}: ${errorMessage(err)}` }],
    };
  }
  return parseConfigFile(text, { source: path, base });
}

function readSection(raw: Values, spec: FieldSpec, prefix: string, problems: FieldProblem[]): Values {
  const out: Values = {};
  for (const [key, value] of Object.entries(raw)) {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    const kind = spec[key];
    if (kind === undefined) {
      const closest = closestField(key, spec);
      problems.push({
        field: path,
        message:
          closest === undefined ? "is not a known field" : `is not a known field (did you mean ${closest}?)`,
      });
      continue;
    }
    if (value === null || value === undefined) continue;
    if (typeof kind === "object") {
      if (typeof value !== "object" || Array.isArray(value)) {
        problems.push({ field: path, message: `must be a mapping, not ${describe(value)}` });
        continue;
      }
      out[key] = readSection(value as Values, kind, path, problems);
      continue;
    }
    const parsed = readLeaf(value, kind);
    if (parsed.ok) out[key] = parsed.value;
    else problems.push({ field: path, message: parsed.message, ...exampleFor(kind) });
  }
  return out;
}

type Leaf = { ok: true; value: unknown } | { ok: false; message: string };

function readLeaf(value: unknown, kind: FieldKind): Leaf {
  switch (kind) {
    case "ignored":
      return { ok: true, value: undefined };
    case "string":
      return typeof value === "string"
        ? { ok: true, value }
        : { ok: false, message: `must be a string, not ${describe(value)}` };
    case "bool":
      return typeof value === "boolean"
        ? { ok: true, value }
        : { ok: false, message: `must be true or false, not ${describe(value)}` };
    case "int":
      return typeof value === "number" && Number.isInteger(value)
        ? { ok: true, value }
        : { ok: false, message: `must be an integer, not ${describe(value)}` };
    case "number":
      return typeof value === "number" && Number.isFinite(value)
        ? { ok: true, value }
        : { ok: false, message: `must be a number, not ${describe(value)}` };
    case "duration": {
      const ms = typeof value === "string" ? parseGoDuration(value) : undefined;
      return ms === undefined
        ? { ok: false, message: `must be a duration such as 30s or 1m0s, not ${describe(value)}` }
        : { ok: true, value: ms };
    }
    case "strings":
      return Array.isArray(value) && value.every((v) => typeof v === "string")
        ? { ok: true, value }
        : { ok: false, message: `must be a list of strings, not ${describe(value)}` };
    case "boolMap":
      return typeof value === "object" &&
        value !== null &&
        !Array.isArray(value) &&
        Object.values(value).every((v) => typeof v === "boolean")
        ? { ok: true, value }
        : { ok: false, message: `must map names to true/false, not ${describe(value)}` };
  }
}

function exampleFor(kind: FieldKind): { example?: string } {
  const examples: Partial<Record<FieldKind, string>> = {
    bool: "true",
    int: "1",
    number: "5",
    duration: "30s",
    strings: '["10.0.0.0/8"]',
    boolMap: "{ SomeFeature: true }",
  };
  const example = examples[kind];
  return example === undefined ? {} : { example };
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `a list (${JSON.stringify(value)})`;
  if (typeof value === "object" && value !== null) return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** The known field nearest to a misspelt one (case-insensitive match or shared prefix), as a hint. */
function closestField(key: string, spec: FieldSpec): string | undefined {
  const names = Object.keys(spec);
  const lower = key.toLowerCase();
  return (
    names.find((n) => n.toLowerCase() === lower) ??
    names.find((n) => n.toLowerCase().startsWith(lower.slice(0, 4)) && lower.length >= 4) ??
    undefined
  );
}

function section(values: Values, key: string): Values {
  const v = values[key];
  return typeof v === "object" && v !== null ? (v as Values) : {};
}

function pick<T>(value: unknown, fallback: T): T {
  return value === undefined ? fallback : (value as T);
}

function splitList(value: unknown): string[] | undefined {
  if (typeof value !== "string") return undefined;
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** Maps the file's (upstream-named) values onto ProxyConfig. Only fields present in the file change. */
function mergeFileValues(base: ProxyConfig, v: Values): ProxyConfig {
  const cc = section(v, "clientConnection");
  const logging = section(v, "logging");
  const ipt = section(v, "iptables");
  const nft = section(v, "nftables");
  const ipvs = section(v, "ipvs");
  const us = section(v, "userspace");
  const ct = section(v, "conntrack");
  const dl = section(v, "detectLocal");
  const api = section(v, "apiserver");
  const dns = section(v, "dns");
  const mode = v["mode"] === "" ? undefined : v["mode"];
  return {
    ...base,
    mode: pick<ProxyMode>(mode, base.mode),
    hostnameOverride: pick(v["hostnameOverride"], base.hostnameOverride),
    nodeIPs: pick(v["nodeIPs"], base.nodeIPs),
    bindAddress: pick(v["bindAddress"], base.bindAddress),
    healthzBindAddress: pick(v["healthzBindAddress"], base.healthzBindAddress),
    metricsBindAddress: pick(v["metricsBindAddress"], base.metricsBindAddress),
    bindAddressHardFail: pick(v["bindAddressHardFail"], base.bindAddressHardFail),
    clientConnection: {
      kubeconfig: pick(cc["kubeconfig"], base.clientConnection.kubeconfig),
      qps: pick(cc["qps"], base.clientConnection.qps),
      burst: pick(cc["burst"], base.clientConnection.burst),
    },
    clusterCIDRs: splitList(v["clusterCIDR"]) ?? base.clusterCIDRs,
    detectLocalMode: pick<DetectLocalMode>(v["detectLocalMode"] || undefined, base.detectLocalMode),
    detectLocal: {
      bridgeInterface: pick(dl["bridgeInterface"], base.detectLocal.bridgeInterface),
      interfaceNamePrefix: pick(dl["interfaceNamePrefix"], base.detectLocal.interfaceNamePrefix),
    },
    nodePortAddresses: pick(v["nodePortAddresses"], base.nodePortAddresses),
    configSyncPeriodMs: pick(v["configSyncPeriod"], base.configSyncPeriodMs),
    iptables: {
      masqueradeAll: pick(ipt["masqueradeAll"], base.iptables.masqueradeAll),
      masqueradeBit: pick(ipt["masqueradeBit"], base.iptables.masqueradeBit),
      localhostNodePorts: pick(ipt["localhostNodePorts"], base.iptables.localhostNodePorts),
      syncPeriodMs: pick(ipt["syncPeriod"], base.iptables.syncPeriodMs),
      minSyncPeriodMs: pick(ipt["minSyncPeriod"], base.iptables.minSyncPeriodMs),
    },
    nftables: {
      masqueradeAll: pick(nft["masqueradeAll"], base.nftables.masqueradeAll),
      masqueradeBit: pick(nft["masqueradeBit"], base.nftables.masqueradeBit),
      syncPeriodMs: pick(nft["syncPeriod"], base.nftables.syncPeriodMs),
      minSyncPeriodMs: pick(nft["minSyncPeriod"], base.nftables.minSyncPeriodMs),
      layout: pick<NftablesLayout>(nft["layout"], base.nftables.layout),
    },
    ipvs: {
      scheduler: pick(ipvs["scheduler"], base.ipvs.scheduler),
      syncPeriodMs: pick(ipvs["syncPeriod"], base.ipvs.syncPeriodMs),
      minSyncPeriodMs: pick(ipvs["minSyncPeriod"], base.ipvs.minSyncPeriodMs),
      excludeCIDRs: pick(ipvs["excludeCIDRs"], base.ipvs.excludeCIDRs),
      strictARP: pick(ipvs["strictARP"], base.ipvs.strictARP),
      tcpTimeoutMs: pick(ipvs["tcpTimeout"], base.ipvs.tcpTimeoutMs),
      tcpFinTimeoutMs: pick(ipvs["tcpFinTimeout"], base.ipvs.tcpFinTimeoutMs),
      udpTimeoutMs: pick(ipvs["udpTimeout"], base.ipvs.udpTimeoutMs),
    },
    userspace: {
      udpIdleTimeoutMs: pick(us["udpIdleTimeout"], base.userspace.udpIdleTimeoutMs),
      scheduler: pick(us["scheduler"], base.userspace.scheduler),
      syncPeriodMs: pick(us["syncPeriod"], base.userspace.syncPeriodMs),
      minSyncPeriodMs: pick(us["minSyncPeriod"], base.userspace.minSyncPeriodMs),
      workers: pick(us["workers"], base.userspace.workers),
    },
    conntrack: {
      maxPerCore: pick(ct["maxPerCore"], base.conntrack.maxPerCore),
      min: pick(ct["min"], base.conntrack.min),
      tcpEstablishedTimeoutMs: pick(ct["tcpEstablishedTimeout"], base.conntrack.tcpEstablishedTimeoutMs),
      tcpCloseWaitTimeoutMs: pick(ct["tcpCloseWaitTimeout"], base.conntrack.tcpCloseWaitTimeoutMs),
      tcpBeLiberal: pick(ct["tcpBeLiberal"], base.conntrack.tcpBeLiberal),
      udpTimeoutMs: pick(ct["udpTimeout"], base.conntrack.udpTimeoutMs),
      udpStreamTimeoutMs: pick(ct["udpStreamTimeout"], base.conntrack.udpStreamTimeoutMs),
    },
    oomScoreAdj: pick(v["oomScoreAdj"], base.oomScoreAdj),
    verbosity: pick(logging["verbosity"], base.verbosity),
    apiserver: {
      listen: pick(api["listen"], base.apiserver.listen),
      dataDir: pick(api["dataDir"], base.apiserver.dataDir),
      serviceClusterIPRange: pick(api["serviceClusterIPRange"], base.apiserver.serviceClusterIPRange),
      serviceNodePortRange: pick(api["serviceNodePortRange"], base.apiserver.serviceNodePortRange),
      loadBalancerIPRange: pick(api["loadBalancerIPRange"], base.apiserver.loadBalancerIPRange),
      manifests: pick(api["manifests"], base.apiserver.manifests),
    },
    dns: {
      enabled: pick(dns["enabled"], base.dns.enabled),
      bindAddress: pick(dns["bindAddress"], base.dns.bindAddress),
      clusterDomain: pick(dns["clusterDomain"], base.dns.clusterDomain),
      ttlSeconds: pick(dns["ttl"], base.dns.ttlSeconds),
      upstreams: pick(dns["upstreams"], base.dns.upstreams),
      pods: pick(dns["pods"], base.dns.pods),
      endpointPodNames: pick(dns["endpointPodNames"], base.dns.endpointPodNames),
      externalNameIPs: pick(dns["externalNameIPs"], base.dns.externalNameIPs),
    },
  };
}
