import type { Protocol } from "./protocol.ts";

/**
 * Identifies one port of one Service: namespace, name, the port's *name* (may be empty for a
 * single-port Service) and protocol. Upstream: `proxy.ServicePortName`.
 */
export interface ServicePortName {
  readonly namespace: string;
  readonly name: string;
  /** The Service port's name (`spec.ports[].name`); "" for an unnamed single port. */
  readonly port: string;
  readonly protocol: Protocol;
}

/** `namespace/name`, the key of a Service (upstream: `types.NamespacedName.String()`). */
export function namespacedName(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/**
 * `namespace/name:port` (or `namespace/name` when the port is unnamed), exactly as upstream's
 * `ServicePortName.String()`. It is the key of the ServicePortMap and EndpointsMap and the base of
 * every rule-chain name, so it must not change.
 */
export function servicePortNameString(spn: ServicePortName): string {
  return spn.port === "" ? `${spn.namespace}/${spn.name}` : `${spn.namespace}/${spn.name}:${spn.port}`;
}
