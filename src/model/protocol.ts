/** Layer-4 protocols a Service port may use. */
export type Protocol = "TCP" | "UDP" | "SCTP";

/** IP families, named as Kubernetes names them. */
export type IPFamily = "IPv4" | "IPv6";

export const protocols: readonly Protocol[] = ["TCP", "UDP", "SCTP"];

/** True when `value` is a Protocol. */
export function isProtocol(value: unknown): value is Protocol {
  return value === "TCP" || value === "UDP" || value === "SCTP";
}
