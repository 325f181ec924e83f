import type { KubernetesObject } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import type { DetectLocalMode, ProxyConfig, ProxyMode } from "../config/proxy-config.ts";
import { ValidationError, type FieldProblem } from "../errors.ts";
import type { NodeInfo } from "../model/node-info.ts";
import type { IPFamily } from "../model/protocol.ts";
import { baselineKernelFeatures, type KernelFeatures } from "./kernel-features.ts";

/** Everything `kproxy render` (and the golden tests) read from input files. */
export interface RenderInput {
  readonly objects: KubernetesObject[];
  /** Settings from a conformance file's `proxier:` section, applied over the configuration. */
  readonly settings: ConformanceSettings;
}

/** The `proxier:` section of an upstream conformance input file, as kproxy understands it. */
export interface ConformanceSettings {
  readonly mode?: ProxyMode;
  readonly family?: IPFamily;
  readonly nodeName?: string;
  readonly nodeIPs?: readonly string[];
  readonly masqueradeBit?: number;
  readonly masqueradeAll?: boolean;
  readonly detectLocalMode?: DetectLocalMode;
  readonly clusterCIDRs?: readonly string[];
  readonly nodePortAddresses?: readonly string[];
  readonly localhostNodePorts?: boolean;
  readonly conntrackTCPLiberal?: boolean;
  readonly serviceCIDRs?: readonly string[];
  readonly localAddresses?: readonly string[];
  readonly features?: Partial<KernelFeatures>;
}

/**
 * Parses YAML text: either plain manifests (one or more documents, `kind: List` allowed) or an
 * upstream conformance input (`proxier:` settings and `objects:`). Throws ValidationError naming
 * the file and document for malformed input.
 */
export function parseRenderInput(text: string, source: string): RenderInput {
  const objects: KubernetesObject[] = [];
  let settings: ConformanceSettings = {};
  const problems: FieldProblem[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    if (doc.errors.length > 0) {
      problems.push({
        field: `${source}[document ${i}]`,
        message: doc.errors.map((e) => e.message).join("; "),
      });
      return;
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return;
    if (typeof value !== "object") {
      problems.push({ field: `${source}[document ${i}]`, message: "is not a YAML mapping" });
      return;
    }
    const record = value as Record<string, unknown>;
    if (record["proxier"] !== undefined || Array.isArray(record["objects"])) {
      settings = conformanceSettings(record["proxier"], `${source}.proxier`, problems);
      for (const obj of (record["objects"] as unknown[] | undefined) ?? []) objects.push(...flatten(obj));
      return;
    }
    objects.push(...flatten(record));
  });
  if (problems.length > 0) throw new ValidationError(`input ${source}`, problems);
  return { objects, settings };
}

function flatten(obj: unknown): KubernetesObject[] {
  if (obj === null || typeof obj !== "object") return [];
  const o = obj as KubernetesObject & { items?: unknown[] };
  if (typeof o.kind === "string" && o.kind.endsWith("List") && Array.isArray(o.items))
    return o.items.flatMap(flatten);
  return [o];
}

function conformanceSettings(raw: unknown, field: string, problems: FieldProblem[]): ConformanceSettings {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== "object") {
    problems.push({ field, message: "must be a mapping" });
    return {};
  }
  const p = raw as Record<string, unknown>;
  const out: { -readonly [K in keyof ConformanceSettings]: ConformanceSettings[K] } = {};
  const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
  const strs = (v: unknown): string[] | undefined =>
    typeof v === "string"
      ? [v]
      : Array.isArray(v)
        ? v.filter((x): x is string => typeof x === "string")
        : undefined;
  const bool = (v: unknown): boolean | undefined => (typeof v === "boolean" ? v : undefined);

  const mode = str(p["mode"]);
  if (mode !== undefined) out.mode = mode as ProxyMode;
  const family = str(p["ipFamily"]);
  if (family === "IPv4" || family === "IPv6") out.family = family;
  else if (family !== undefined)
    problems.push({ field: `${field}.ipFamily`, message: `${family} is not IPv4 or IPv6`, example: "IPv4" });
  const nodeName = str(p["nodeName"]);
  if (nodeName !== undefined) out.nodeName = nodeName;
  const nodeIPs = strs(p["nodeIP"]) ?? strs(p["nodeIPs"]);
  if (nodeIPs !== undefined) out.nodeIPs = nodeIPs;
  const mark = str(p["masqueradeMark"]);
  if (mark !== undefined) {
    const value = Number(mark);
    const bit = Math.log2(value);
    if (!Number.isInteger(bit))
      problems.push({
        field: `${field}.masqueradeMark`,
        message: `${mark} is not a single bit`,
        example: "0x4000",
      });
    else out.masqueradeBit = bit;
  }
  const masqueradeAll = bool(p["masqueradeAll"]);
  if (masqueradeAll !== undefined) out.masqueradeAll = masqueradeAll;
  const detector = p["localDetector"] as { mode?: unknown; cidr?: unknown } | undefined;
  if (detector !== undefined && detector !== null) {
    const m = str(detector.mode);
    if (m === "NoOp" || m === "None") out.detectLocalMode = "None";
    else if (m !== undefined) out.detectLocalMode = m as DetectLocalMode;
    const cidrs = strs(detector.cidr);
    if (cidrs !== undefined) out.clusterCIDRs = cidrs;
  }
  const npa = strs(p["nodePortAddresses"]);
  if (npa !== undefined) out.nodePortAddresses = npa;
  const lnp = bool(p["localhostNodePorts"]);
  if (lnp !== undefined) out.localhostNodePorts = lnp;
  const liberal = bool(p["conntrackTCPLiberal"]);
  if (liberal !== undefined) out.conntrackTCPLiberal = liberal;
  const serviceCIDRs = strs(p["serviceCIDRs"]);
  if (serviceCIDRs !== undefined) out.serviceCIDRs = serviceCIDRs;
  const interfaces = p["interfaces"];
  if (interfaces !== null && typeof interfaces === "object") {
    out.localAddresses = Object.values(interfaces as Record<string, unknown>).flatMap((v) => strs(v) ?? []);
  }
  const nfacct = p["nfAcctCounters"];
  if (nfacct !== null && typeof nfacct === "object") {
    out.features = { nfacct: Object.values(nfacct as Record<string, unknown>).some((v) => v === true) };
  }
  return out;
}

/** Applies conformance settings over a configuration, node and features. */
export function applyConformanceSettings(
  settings: ConformanceSettings,
  base: { config: ProxyConfig; node: NodeInfo; features?: KernelFeatures },
): {
  config: ProxyConfig;
  node: NodeInfo;
  features: KernelFeatures;
  family: IPFamily;
  serviceCIDRs: readonly string[];
} {
  const c = base.config;
  const config: ProxyConfig = {
    ...c,
    mode: settings.mode ?? c.mode,
    clusterCIDRs: settings.clusterCIDRs ?? c.clusterCIDRs,
    detectLocalMode: settings.detectLocalMode ?? c.detectLocalMode,
    nodePortAddresses: settings.nodePortAddresses ?? c.nodePortAddresses,
    iptables: {
      ...c.iptables,
      masqueradeBit: settings.masqueradeBit ?? c.iptables.masqueradeBit,
      masqueradeAll: settings.masqueradeAll ?? c.iptables.masqueradeAll,
      localhostNodePorts: settings.localhostNodePorts ?? c.iptables.localhostNodePorts,
    },
    nftables: {
      ...c.nftables,
      masqueradeBit: settings.masqueradeBit ?? c.nftables.masqueradeBit,
      masqueradeAll: settings.masqueradeAll ?? c.nftables.masqueradeAll,
    },
    conntrack: { ...c.conntrack, tcpBeLiberal: settings.conntrackTCPLiberal ?? c.conntrack.tcpBeLiberal },
  };
  const node: NodeInfo = {
    ...base.node,
    name: settings.nodeName ?? base.node.name,
    nodeIPs: settings.nodeIPs ?? base.node.nodeIPs,
    localAddresses: settings.localAddresses ?? base.node.localAddresses,
  };
  const features: KernelFeatures = { ...(base.features ?? baselineKernelFeatures), ...settings.features };
  return {
    config,
    node,
    features,
    family: settings.family ?? "IPv4",
    serviceCIDRs: settings.serviceCIDRs ?? [],
  };
}
