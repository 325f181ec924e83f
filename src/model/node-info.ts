/**
 * What the proxy knows about the node it runs on: from the Node object (name, labels, pod CIDRs,
 * addresses) and from the node's network interfaces (every local address with its prefix).
 */
export interface NodeInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The node's primary IPs (InternalIP addresses, or the `--node-ip`s); one per family at most. */
  readonly nodeIPs: readonly string[];
  /** `spec.podCIDRs` (for `detectLocalMode: NodeCIDR`). */
  readonly podCIDRs: readonly string[];
  /** Every address on the node's interfaces, as CIDRs (e.g. `192.168.0.2/24`, `127.0.0.1/8`). */
  readonly localAddresses: readonly string[];
  /** True while the Node is being deleted (health checks then report unhealthy). */
  readonly deleting: boolean;
}

/** The `topology.kubernetes.io/zone` label of the node, or "". */
export function nodeZone(node: NodeInfo): string {
  return node.labels["topology.kubernetes.io/zone"] ?? "";
}
