/**
 * What the kernel and its tools support, detected once at start-up by the appliers and handed to
 * the pure renderers, so that rendering stays a function of its inputs.
 */
export interface KernelFeatures {
  /** iptables can `MASQUERADE --random-fully` (iptables >= 1.6.2 and a kernel with NF_NAT_RANGE_PROTO_RANDOM_FULLY). */
  readonly randomFully: boolean;
  /** nfacct objects exist for upstream's counters (`-m nfacct --nfacct-name ...`). */
  readonly nfacct: boolean;
}

/** Conservative features: what every supported kernel has. */
export const baselineKernelFeatures: KernelFeatures = { randomFully: false, nfacct: false };
