import type { Backend } from "../../lb/scheduler.ts";
import type { Endpoint } from "../../model/endpoint.ts";

/**
 * One endpoint as the relays see it: the scheduler's view (weight, availability, load) plus
 * counters read by the metrics collector. Plain mutable fields, because the relays update them on
 * every connection and the hot path must not allocate or look anything up.
 */
export interface RelayEndpoint extends Backend {
  readonly key: string;
  readonly ip: string;
  readonly port: number;
  readonly servicePortKey: string;
  isLocal: boolean;
  weight: number;
  /** False while ejected. */
  available: boolean;
  activeConnections: number;
  inactiveConnections: number;
  /** True once the endpoint left the service's endpoint set: no new connections, old ones drain. */
  removed: boolean;
  /** Connect failures since the last success (outlier ejection). */
  consecutiveFailures: number;
  /** How many times in a row it was ejected: the next ejection lasts this many base intervals. */
  ejectionLevel: number;
  totalConnections: number;
  bytesToEndpoint: number;
  bytesFromEndpoint: number;
  connectFailures: number;
  ejections: number;
}

/** A fresh RelayEndpoint for `endpoint` of service port `servicePortKey` (weight 1: Kubernetes has no weights). */
export function newRelayEndpoint(endpoint: Endpoint, servicePortKey: string): RelayEndpoint {
  return {
    key: endpoint.key,
    ip: endpoint.ip,
    port: endpoint.port,
    servicePortKey,
    isLocal: endpoint.isLocal,
    weight: 1,
    available: true,
    activeConnections: 0,
    inactiveConnections: 0,
    removed: false,
    consecutiveFailures: 0,
    ejectionLevel: 0,
    totalConnections: 0,
    bytesToEndpoint: 0,
    bytesFromEndpoint: 0,
    connectFailures: 0,
    ejections: 0,
  };
}

/** One endpoint's counters, as the metrics export them (copied, so they can cross threads). */
export interface EndpointCounters {
  readonly servicePortKey: string;
  readonly key: string;
  readonly active: number;
  readonly total: number;
  readonly toEndpoint: number;
  readonly fromEndpoint: number;
  readonly connectFailures: number;
  readonly ejections: number;
  readonly ejected: boolean;
}

export function countersOf(ep: RelayEndpoint): EndpointCounters {
  return {
    servicePortKey: ep.servicePortKey,
    key: ep.key,
    active: ep.activeConnections,
    total: ep.totalConnections,
    toEndpoint: ep.bytesToEndpoint,
    fromEndpoint: ep.bytesFromEndpoint,
    connectFailures: ep.connectFailures,
    ejections: ep.ejections,
    ejected: !ep.available,
  };
}
