import type { IPFamily } from "../../../model/protocol.ts";

/** The two tables kproxy writes service rules into. */
export type IptablesTable = "filter" | "nat";

/** One rule in a chain: `-A <chain> <spec>`. */
export interface ChainRule {
  readonly chain: string;
  /** Everything after `-A <chain> `. */
  readonly spec: string;
}

/** A rule one service port contributes to a shared dispatch chain (KUBE-SERVICES, KUBE-NODEPORTS, ...). */
export interface DispatchRule extends ChainRule {
  readonly table: IptablesTable;
}

/**
 * Everything one service port programs: its rules in the shared dispatch chains and the nat chains
 * it owns (KUBE-SVC/SVL/EXT/FW/SEP). The unit of partial syncs: a service whose objects did not
 * change keeps the very same object, so comparing references finds the changes.
 */
export interface ServicePortRules {
  /** `namespace/name:port`. */
  readonly servicePortKey: string;
  /** `namespace/name` (what `SyncRequest.changedServices` lists). */
  readonly serviceKey: string;
  /** Rules in shared chains, in the order upstream writes them. */
  readonly dispatch: readonly DispatchRule[];
  /**
   * Owned nat chains in declaration order, each with the text of its rules: complete `-A` lines,
   * each ending in a newline ("" for an empty chain).
   */
  readonly chains: ReadonlyMap<string, string>;
  /** Number of endpoints of the port (for large-cluster mode). */
  readonly endpointCount: number;
}

/**
 * The complete desired iptables state of one IP family, structured so that full payloads, partial
 * payloads and the applier's bookkeeping all derive from it. Built by `buildIptablesRuleSet`.
 */
export interface IptablesRuleSet {
  readonly family: IPFamily;
  /**
   * Fingerprint of everything outside the services that shapes the rules (configuration, kernel
   * features, node addresses, large-cluster mode). When it changes, a partial sync is not enough.
   */
  readonly contextKey: string;
  readonly largeClusterMode: boolean;
  /** Base chains declared in each table, in upstream's order. */
  readonly filterChains: readonly string[];
  readonly natChains: readonly string[];
  /** Base rules written before the services' rules (KUBE-FIREWALL; KUBE-POSTROUTING, KUBE-MARK-MASQ). */
  readonly filterHead: readonly ChainRule[];
  readonly natHead: readonly ChainRule[];
  /** Base rules written after the services' rules (KUBE-FORWARD; the KUBE-SERVICES → KUBE-NODEPORTS jump that must stay last). */
  readonly filterTail: readonly ChainRule[];
  readonly natTail: readonly ChainRule[];
  /** Per service port, sorted by `servicePortKey`. */
  readonly services: ReadonlyMap<string, ServicePortRules>;
}

/** `-A <chain> <spec>`. */
export function ruleLine(rule: ChainRule): string {
  return `-A ${rule.chain} ${rule.spec}`;
}
