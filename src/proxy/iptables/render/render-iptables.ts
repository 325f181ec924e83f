import type { ModeRenderer } from "../../mode-registry.ts";
import { buildIptablesRuleSet } from "./build-iptables-rule-set.ts";
import { kubeProxyCanaryChain } from "./chain-names.ts";
import { ruleLine, type IptablesRuleSet } from "./iptables-rule-set.ts";

/** Extras the applier adds to a full payload; `kproxy render` and the goldens use none. */
export interface FullPayloadOptions {
  /** Declare `KUBE-PROXY-CANARY` in filter and nat (with one `-j RETURN` rule, see apply/). */
  readonly canary?: boolean;
  /** Chains of ours in the kernel that the rule set no longer has: flushed and deleted. */
  readonly staleNatChains?: readonly string[];
}

/**
 * Formats a rule set as one `iptables-restore` payload in upstream's layout: `*filter` (chain
 * declarations, base rules, service rules, KUBE-FORWARD) then `*nat` (declarations of base, service
 * and stale chains; base rules; per service its dispatch rules and chain rules; `-X` of stale
 * chains; the KUBE-NODEPORTS jump last). Meant for `iptables-restore --noflush`: every declared
 * chain is flushed and refilled, chains not mentioned stay as they are.
 */
export function formatFullPayload(rs: IptablesRuleSet, options: FullPayloadOptions = {}): string {
  const out: string[] = ["*filter\n"];
  for (const chain of rs.filterChains) out.push(`:${chain} - [0:0]\n`);
  if (options.canary) out.push(`:${kubeProxyCanaryChain} - [0:0]\n`);
  for (const rule of rs.filterHead) out.push(ruleLine(rule), "\n");
  for (const svc of rs.services.values()) {
    for (const rule of svc.dispatch) if (rule.table === "filter") out.push(ruleLine(rule), "\n");
  }
  for (const rule of rs.filterTail) out.push(ruleLine(rule), "\n");
  if (options.canary) out.push(`-A ${kubeProxyCanaryChain} -j RETURN\n`);
  out.push("COMMIT\n*nat\n");
  for (const chain of rs.natChains) out.push(`:${chain} - [0:0]\n`);
  if (options.canary) out.push(`:${kubeProxyCanaryChain} - [0:0]\n`);
  for (const svc of rs.services.values()) {
    for (const chain of svc.chains.keys()) out.push(`:${chain} - [0:0]\n`);
  }
  const stale = options.staleNatChains ?? [];
  for (const chain of stale) out.push(`:${chain} - [0:0]\n`);
  for (const rule of rs.natHead) out.push(ruleLine(rule), "\n");
  for (const svc of rs.services.values()) {
    for (const rule of svc.dispatch) if (rule.table === "nat") out.push(ruleLine(rule), "\n");
    for (const text of svc.chains.values()) out.push(text);
  }
  for (const chain of stale) out.push(`-X ${chain}\n`);
  for (const rule of rs.natTail) out.push(ruleLine(rule), "\n");
  if (options.canary) out.push(`-A ${kubeProxyCanaryChain} -j RETURN\n`);
  out.push("COMMIT\n");
  return out.join("");
}

/**
 * `kproxy render --proxy-mode iptables`: the complete `iptables-restore` payload for a state, with
 * upstream's chain names, layout and rule text. Pure.
 */
export const renderIptables: ModeRenderer = (state, config, features) =>
  formatFullPayload(buildIptablesRuleSet(state, { config, features }));
