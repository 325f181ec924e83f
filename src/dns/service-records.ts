import { isIP } from "node:net";
import type { V1EndpointSlice, V1Service } from "@kubernetes/client-node";
import { canonicalIP } from "../model/ip.ts";
import { endpointHostname, normalizeName, reverseName } from "./dns-name.ts";
import {
  finishNameRecords,
  newNameRecords,
  type NameRecords,
  type NameRecordsBuilder,
} from "./name-records.ts";

/** Options that change which records a Service gets. */
export interface ServiceRecordOptions {
  /** Normalised cluster zone, e.g. `cluster.local`. */
  readonly zone: string;
  /** Name endpoints after their Pod when the slice gives no hostname (CoreDNS `endpoint_pod_names`). */
  readonly endpointPodNames: boolean;
  /** Answer an ExternalName that is an IP address with A/AAAA (CoreDNS gives no answer). */
  readonly externalNameIPs: boolean;
}

/** The records one Service contributes: names under `<svc>.<ns>.svc.<zone>`, and PTR targets. */
export interface ServiceRecords {
  readonly names: ReadonlyMap<string, NameRecords>;
  /** Reverse name (`…in-addr.arpa`) → the names it points to. */
  readonly reverse: ReadonlyMap<string, readonly string[]>;
}

interface ServedEndpoint {
  readonly ip: string;
  readonly hostname: string | undefined;
  readonly ports: readonly ServedPort[];
}

interface ServedPort {
  readonly name: string;
  readonly protocol: string;
  readonly port: number;
}

/**
 * Computes every record of one Service from the Service and its EndpointSlices, following the
 * Kubernetes DNS specification 1.1.0 and CoreDNS's reading of it: ClusterIP Services answer their
 * ClusterIPs with SRV per port; headless ones their ready endpoints (all of them with
 * `publishNotReadyAddresses`) and nothing at all without any; ExternalName a CNAME. Endpoints of any
 * non-ExternalName Service get `<hostname>.<svc>.<ns>.svc.<zone>` and a PTR, as in CoreDNS.
 * Pure: the index calls it again whenever the Service or one of its slices changes.
 */
export function serviceRecords(
  service: V1Service,
  slices: Iterable<V1EndpointSlice>,
  options: ServiceRecordOptions,
): ServiceRecords {
  const names = new Map<string, NameRecordsBuilder>();
  const reverse = new Map<string, Set<string>>();
  const ns = service.metadata?.namespace ?? "";
  const svcName = service.metadata?.name ?? "";
  const base = `${svcName}.${ns}.svc.${options.zone}`.toLowerCase();
  const at = (name: string): NameRecordsBuilder => {
    let b = names.get(name);
    if (b === undefined) names.set(name, (b = newNameRecords()));
    return b;
  };
  const addIP = (b: NameRecordsBuilder, ip: string): void => {
    (isIP(ip) === 4 ? b.a : b.aaaa).add(ip);
  };
  const addReverse = (ip: string, target: string): void => {
    const r = reverseName(ip);
    if (r === undefined) return;
    let set = reverse.get(r);
    if (set === undefined) reverse.set(r, (set = new Set()));
    set.add(target);
  };
  const spec = service.spec ?? {};

  if (spec.type === "ExternalName") {
    const target = normalizeName(spec.externalName ?? "");
    if (target === "" || target === ".") return finish(names, reverse);
    const ip = canonicalIP(target);
    if (ip === undefined) at(base).cname = target;
    else if (options.externalNameIPs) addIP(at(base), ip);
    return finish(names, reverse);
  }

  const endpoints = servedEndpoints(service, slices, options);
  const headless = spec.clusterIP === "None";
  if (!headless) {
    const ips = (spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])).flatMap(
      (ip) => canonicalIP(ip) ?? [],
    );
    const ports = (spec.ports ?? []).flatMap((p) =>
      validPort(p.port) ? [{ name: p.name ?? "", protocol: p.protocol ?? "TCP", port: p.port }] : [],
    );
    // CoreDNS only publishes a ClusterIP Service through its ports: with none, the name does not exist.
    if (ports.length > 0) {
      const b = at(base);
      for (const ip of ips) addIP(b, ip);
      for (const p of ports) {
        b.srv.set(`${p.port}/${base}`, { port: p.port, target: base });
        if (p.name === "") continue;
        const pb = at(portName(p, base));
        for (const ip of ips) addIP(pb, ip);
        pb.srv.set(`${p.port}/${base}`, { port: p.port, target: base });
      }
      for (const ip of ips) addReverse(ip, base);
    }
  } else if (endpoints.length > 0) {
    const b = at(base);
    for (const ep of endpoints) {
      addIP(b, ep.ip);
      const target = ep.hostname === undefined ? undefined : `${ep.hostname}.${base}`;
      for (const p of ep.ports) {
        if (target !== undefined) b.srv.set(`${p.port}/${target}`, { port: p.port, target });
        if (p.name === "") continue;
        const pb = at(portName(p, base));
        addIP(pb, ep.ip);
        if (target !== undefined) pb.srv.set(`${p.port}/${target}`, { port: p.port, target });
      }
    }
  }

  for (const ep of endpoints) {
    if (ep.hostname === undefined) continue;
    const target = `${ep.hostname}.${base}`;
    const hb = at(target);
    addIP(hb, ep.ip);
    for (const p of ep.ports) hb.srv.set(`${p.port}/${target}`, { port: p.port, target });
    addReverse(ep.ip, target);
  }
  return finish(names, reverse);
}

function portName(p: ServedPort, base: string): string {
  return `_${p.name}._${p.protocol}.${base}`.toLowerCase();
}

function validPort(port: number | undefined): port is number {
  return port !== undefined && Number.isInteger(port) && port >= 1 && port <= 65535;
}

function servedEndpoints(
  service: V1Service,
  slices: Iterable<V1EndpointSlice>,
  options: ServiceRecordOptions,
): ServedEndpoint[] {
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const out: ServedEndpoint[] = [];
  for (const slice of slices) {
    const ports = (slice.ports ?? []).flatMap((p) =>
      validPort(p.port) ? [{ name: p.name ?? "", protocol: p.protocol ?? "TCP", port: p.port }] : [],
    );
    for (const ep of slice.endpoints ?? []) {
      // A missing `ready` means ready (EndpointSlice API); consumers must treat it so.
      const ready = ep.conditions?.ready ?? true;
      if (!ready && !publishNotReady) continue;
      for (const address of ep.addresses) {
        const ip = canonicalIP(address);
        if (ip === undefined) continue;
        const hostname = endpointHostname(ip, {
          hostname: ep.hostname,
          podName:
            ep.targetRef?.kind === "Pod" || ep.targetRef?.kind === undefined ? ep.targetRef?.name : undefined,
          endpointPodNames: options.endpointPodNames,
        });
        out.push({ ip, hostname, ports });
      }
    }
  }
  return out;
}

function finish(names: Map<string, NameRecordsBuilder>, reverse: Map<string, Set<string>>): ServiceRecords {
  return {
    names: new Map([...names].map(([n, b]) => [n, finishNameRecords(b)])),
    reverse: new Map([...reverse].map(([r, s]) => [r, [...s].sort()])),
  };
}
