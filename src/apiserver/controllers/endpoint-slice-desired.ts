import { ipFamilyOf } from "../../model/ip.ts";
import type { IPFamily } from "../../model/protocol.ts";
import type { KubeObject } from "../registry/resource-strategy.ts";
import type { ServicePortSpec, ServiceSpec } from "./service-fields.ts";

/** The controller's name in `endpointslice.kubernetes.io/managed-by`. */
export const managedByKproxy = "endpointslice-controller.kproxy.io";
export const labelManagedBy = "endpointslice.kubernetes.io/managed-by";
export const labelServiceName = "kubernetes.io/service-name";
export const labelHeadless = "service.kubernetes.io/headless";
/** Upstream's limit of endpoints per slice (`--max-endpoints-per-slice` default). */
export const maxEndpointsPerSlice = 100;

/** A port of an EndpointSlice. */
export interface SlicePort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/** An endpoint of an EndpointSlice. */
export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  hostname?: string;
  nodeName?: string;
  zone?: string;
  targetRef: { kind: "Pod"; namespace: string; name: string; uid: string };
}

/** The endpoints of one address type sharing one port mapping, before splitting into slices. */
export interface SliceGroup {
  readonly addressType: IPFamily;
  readonly ports: SlicePort[];
  /** Stable identity of the port mapping, to match existing slices. */
  readonly portsKey: string;
  readonly endpoints: SliceEndpoint[];
}

interface PodFields {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    deletionTimestamp?: string;
  };
  spec?: {
    nodeName?: string;
    hostname?: string;
    subdomain?: string;
    containers?: Array<{ ports?: Array<{ name?: string; containerPort?: number; protocol?: string }> }>;
  };
  status?: {
    phase?: string;
    podIP?: string;
    podIPs?: Array<{ ip?: string }>;
    conditions?: Array<{ type?: string; status?: string }>;
  };
}

/** True when the Pod's Ready condition is True. */
export function podReady(pod: KubeObject): boolean {
  const conditions = (pod as PodFields).status?.conditions ?? [];
  return conditions.some((c) => c.type === "Ready" && c.status === "True");
}

function podIPs(pod: PodFields): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip ?? "").filter((ip) => ip !== "");
  if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
  return ips;
}

/** A Service port's target on a Pod: a number, a named container port, or unresolvable. */
function resolveTargetPort(port: ServicePortSpec, pod: PodFields): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === "number") return target;
  if (typeof target === "string" && /^\d+$/.test(target)) return Number(target);
  const protocol = port.protocol ?? "TCP";
  for (const c of pod.spec?.containers ?? []) {
    for (const cp of c.ports ?? []) {
      if (cp.name === target && (cp.protocol ?? "TCP") === protocol && typeof cp.containerPort === "number") {
        return cp.containerPort;
      }
    }
  }
  return undefined;
}

/** Zone of a node name, from the Node's `topology.kubernetes.io/zone` label. */
export type ZoneOf = (nodeName: string) => string | undefined;

/**
 * What the EndpointSlices of a Service should hold, as upstream's controller computes it: the
 * Pods matched (with an IP, not finished), grouped by address type and by their resolved port
 * mapping — a Pod whose named `targetPort` it does not define lacks that port, so lands in another
 * group — with `ready`/`serving`/`terminating` from its Ready condition and deletion timestamp.
 */
export function desiredSliceGroups(
  svc: KubeObject,
  pods: Iterable<KubeObject>,
  zoneOf: ZoneOf,
): SliceGroup[] {
  const spec = (svc.spec ?? {}) as ServiceSpec;
  const svcName = svc.metadata?.name ?? "";
  const ports = (Array.isArray(spec.ports) ? spec.ports : []).filter(
    (p) => typeof p === "object" && p !== null,
  );
  const families = (Array.isArray(spec.ipFamilies) ? spec.ipFamilies : []).filter(
    (f): f is IPFamily => f === "IPv4" || f === "IPv6",
  );
  const publishNotReady = spec["publishNotReadyAddresses"] === true;
  const groups = new Map<string, SliceGroup>();
  for (const raw of pods) {
    const pod = raw as PodFields;
    if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") continue;
    const ips = podIPs(pod);
    if (ips.length === 0) continue;
    const terminating = pod.metadata?.deletionTimestamp !== undefined;
    const ready = podReady(raw);
    const slicePorts: SlicePort[] = [];
    for (const p of ports) {
      const target = resolveTargetPort(p, pod);
      if (target === undefined) continue;
      const sp: SlicePort = { name: p.name ?? "", port: target, protocol: p.protocol ?? "TCP" };
      if (typeof p["appProtocol"] === "string") sp.appProtocol = p["appProtocol"];
      slicePorts.push(sp);
    }
    const portsKey = JSON.stringify(slicePorts);
    const nodeName = pod.spec?.nodeName;
    const zone = nodeName ? zoneOf(nodeName) : undefined;
    for (const ip of ips) {
      const family = ipFamilyOf(ip);
      if (family === undefined || (families.length > 0 && !families.includes(family))) continue;
      const key = `${family}|${portsKey}`;
      let group = groups.get(key);
      if (group === undefined)
        groups.set(key, (group = { addressType: family, ports: slicePorts, portsKey, endpoints: [] }));
      const endpoint: SliceEndpoint = {
        addresses: [ip],
        conditions: {
          ready: (ready || publishNotReady) && !terminating,
          serving: ready || publishNotReady,
          terminating,
        },
        targetRef: {
          kind: "Pod",
          namespace: pod.metadata?.namespace ?? "",
          name: pod.metadata?.name ?? "",
          uid: pod.metadata?.uid ?? "",
        },
      };
      if (pod.spec?.hostname && pod.spec.subdomain === svcName) endpoint.hostname = pod.spec.hostname;
      if (nodeName) endpoint.nodeName = nodeName;
      if (zone) endpoint.zone = zone;
      group.endpoints.push(endpoint);
    }
  }
  const result = [...groups.values()];
  for (const g of result) g.endpoints.sort((a, b) => compareText(a.addresses[0] ?? "", b.addresses[0] ?? ""));
  result.sort((a, b) => compareText(`${a.addressType}|${a.portsKey}`, `${b.addressType}|${b.portsKey}`));
  return result;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
