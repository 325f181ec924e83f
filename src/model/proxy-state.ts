import type { Endpoint } from "./endpoint.ts";
import type { NodeInfo } from "./node-info.ts";
import type { IPFamily } from "./protocol.ts";
import type { ServicePort } from "./service-port.ts";

/** Every service port this node proxies, by `servicePortNameString` (upstream `ServicePortMap`). */
export type ServicePortMap = ReadonlyMap<string, ServicePort>;

/** Endpoints of every service port, by `servicePortNameString` (upstream `EndpointsMap`). */
export type EndpointsMap = ReadonlyMap<string, readonly Endpoint[]>;

/**
 * The complete input of a renderer for one IP family: services, endpoints and the node. Renderers
 * are pure functions of a ProxyState and the ProxyConfig.
 */
export interface ProxyState {
  readonly family: IPFamily;
  readonly services: ServicePortMap;
  readonly endpoints: EndpointsMap;
  readonly node: NodeInfo;
  /** The cluster's service IP ranges of this family (for "drop traffic to unallocated ClusterIPs"). */
  readonly serviceCIDRs: readonly string[];
}
