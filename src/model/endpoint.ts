/**
 * One endpoint (a Pod's IP and port) of one Service port, as this node sees it.
 * Upstream: `proxy.Endpoint` / `BaseEndpointInfo`.
 */
export interface Endpoint {
  readonly ip: string;
  readonly port: number;
  /** `ip:port` (`[ip]:port` for IPv6): the endpoint's identity in rule names and maps. */
  readonly key: string;
  /** `conditions.ready` (unset means true). */
  readonly ready: boolean;
  /** `conditions.serving` (unset means the value of ready). */
  readonly serving: boolean;
  /** `conditions.terminating` (unset means false). */
  readonly terminating: boolean;
  /** True when the endpoint's `nodeName` is this node's name. */
  readonly isLocal: boolean;
  readonly nodeName: string | undefined;
  readonly zone: string | undefined;
  /** Zones from `hints.forZones`; empty when the slice has no hints. */
  readonly zoneHints: ReadonlySet<string>;
  /** Nodes from `hints.forNodes`; empty when the slice has no hints. */
  readonly nodeHints: ReadonlySet<string>;
  /** `hostname` from the EndpointSlice, if set (used by DNS). */
  readonly hostname: string | undefined;
  /** Namespace/name of the Pod behind the endpoint (`targetRef`), if set. */
  readonly targetRef: string | undefined;
}

/** `ip:port`, with brackets for IPv6, as upstream formats endpoints (`net.JoinHostPort`). */
export function endpointKey(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}
