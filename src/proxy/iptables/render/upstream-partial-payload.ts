import { ruleLine, type IptablesRuleSet, type ServicePortRules } from "./iptables-rule-set.ts";

/**
 * The partial-sync payload as upstream's iptables proxier writes it (KEP-3453), for comparison
 * in benchmarks: the whole filter table and nat's shared chains (KUBE-SERVICES, KUBE-NODEPORTS,
 * KUBE-POSTROUTING, KUBE-MARK-MASQ) re-declared with all their rules, plus every chain of the
 * changed services, and `-X` of the chains they no longer have. Pure.
 */
export function formatUpstreamPartialPayload(previous: IptablesRuleSet, next: IptablesRuleSet): string {
  const changed: ServicePortRules[] = [];
  const stale: string[] = [];
  for (const [key, cur] of next.services) {
    const old = previous.services.get(key);
    if (old === cur) continue;
    changed.push(cur);
    for (const chain of old?.chains.keys() ?? []) if (!cur.chains.has(chain)) stale.push(chain);
  }
  for (const [key, old] of previous.services) {
    if (!next.services.has(key)) for (const chain of old.chains.keys()) stale.push(chain);
  }
  const out: string[] = ["*filter\n"];
  for (const chain of next.filterChains) out.push(`:${chain} - [0:0]\n`);
  for (const rule of next.filterHead) out.push(ruleLine(rule), "\n");
  for (const svc of next.services.values()) {
    for (const rule of svc.dispatch) if (rule.table === "filter") out.push(ruleLine(rule), "\n");
  }
  for (const rule of next.filterTail) out.push(ruleLine(rule), "\n");
  out.push("COMMIT\n*nat\n");
  for (const chain of next.natChains) out.push(`:${chain} - [0:0]\n`);
  for (const svc of changed) for (const chain of svc.chains.keys()) out.push(`:${chain} - [0:0]\n`);
  for (const chain of stale) out.push(`:${chain} - [0:0]\n`);
  for (const rule of next.natHead) out.push(ruleLine(rule), "\n");
  for (const svc of next.services.values()) {
    for (const rule of svc.dispatch) if (rule.table === "nat") out.push(ruleLine(rule), "\n");
  }
  for (const svc of changed) for (const text of svc.chains.values()) out.push(text);
  for (const chain of stale) out.push(`-X ${chain}\n`);
  for (const rule of next.natTail) out.push(ruleLine(rule), "\n");
  out.push("COMMIT\n");
  return out.join("");
}
