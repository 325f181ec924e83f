import {
  isServiceChainName,
  kubeExternalServicesChain,
  kubeForwardChain,
  kubeletFirewallChain,
  kubeMarkMasqChain,
  kubeNodePortsChain,
  kubePostroutingChain,
  kubeProxyCanaryChain,
  kubeProxyFirewallChain,
  kubeServicesChain,
} from "../render/chain-names.ts";
import { parseIptablesDump, ruleTarget } from "../render/iptables-dump.ts";
import { canonicalRule } from "./canonical-rule.ts";
import { firewallJumpRules, jumpRules } from "./jump-rules.ts";

const baseChains = new Set([
  kubeServicesChain,
  kubeExternalServicesChain,
  kubeForwardChain,
  kubeNodePortsChain,
  kubeProxyFirewallChain,
  kubePostroutingChain,
  kubeMarkMasqChain,
  kubeProxyCanaryChain,
]);

/** kubelet's own canary chain: where it exists, kubelet owns KUBE-FIREWALL and its jumps. */
const kubeletCanaryChain = "KUBE-KUBELET-CANARY";

/**
 * The payload that removes everything kproxy installs, given `iptables-save` output: its
 * top-level jumps (recognised in canonical form and deleted by their saved text), its base chains,
 * every per-service chain, and the canaries. KUBE-FIREWALL and its jumps go only when kubelet does
 * not manage iptables on this node (no `KUBE-KUBELET-CANARY`), since kubelet keeps an identical
 * copy. A chain some other rule still jumps to is flushed but kept, so that the restore cannot fail
 * on it. Empty when nothing of kproxy's is installed. Pure.
 */
export function formatCleanupPayload(saved: string): string {
  const dump = parseIptablesDump(saved);
  const kubeletPresent = dump.some((t) => t.chains.has(kubeletCanaryChain));
  const ours = (chain: string): boolean =>
    baseChains.has(chain) || isServiceChainName(chain) || (chain === kubeletFirewallChain && !kubeletPresent);
  const jumps = [...jumpRules, ...(kubeletPresent ? [] : firewallJumpRules)];
  const out: string[] = [];
  for (const table of dump) {
    if (!["filter", "nat", "mangle"].includes(table.name)) continue;
    const wanted = new Set(
      jumps.filter((j) => j.table === table.name).map((j) => `${j.from} ${canonicalRule(j.spec)}`),
    );
    const deletes: string[] = [];
    const referenced = new Set<string>();
    for (const [chain, rules] of table.rules) {
      if (ours(chain)) continue;
      for (const line of rules) {
        const spec = line.slice(chain.length + 4);
        if (wanted.has(`${chain} ${canonicalRule(spec)}`)) deletes.push(`-D ${chain} ${spec}\n`);
        else {
          const target = ruleTarget(line);
          if (target !== undefined) referenced.add(target);
        }
      }
    }
    const chains = [...table.chains.keys()].filter(ours);
    if (deletes.length + chains.length === 0) continue;
    out.push(`*${table.name}\n`);
    for (const chain of chains) out.push(`:${chain} - [0:0]\n`);
    for (const line of deletes) out.push(line);
    for (const chain of chains) if (!referenced.has(chain)) out.push(`-X ${chain}\n`);
    out.push("COMMIT\n");
  }
  return out.join("");
}
