import { parseIptablesDump, ruleComment } from "./iptables-dump.ts";

const lastRuleMarker = "this must be the last rule in this chain";

// Upstream's getServiceName: the comment up to its first space, then up to its first colon.
function serviceNameOf(line: string): string {
  const comment = ruleComment(line) ?? "";
  return (comment.split(" ")[0] ?? "").split(":")[0] ?? "";
}

function chainOrder(a: string, b: string): number {
  const rank = (c: string): number =>
    c === "KUBE-NODEPORTS" ? 0 : c === "KUBE-SERVICES" ? 1 : c.startsWith("KUBE-") ? 2 : 3;
  const d = rank(a) - rank(b);
  return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Normalises an `iptables-restore` payload as upstream's test helper `sortIPTablesRules` does, so
 * that two payloads compare regardless of map iteration order: tables by name; chains
 * KUBE-NODEPORTS, KUBE-SERVICES, other KUBE-* by name, then the rest; rules grouped by chain, with
 * KUBE-NODEPORTS and KUBE-SERVICES stably sorted by the service name in their comments (the
 * "must be the last rule" jump kept last); every other chain keeps its order.
 */
export function sortIptablesRules(text: string): string {
  const tables = parseIptablesDump(text).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const table of tables) {
    out.push(`*${table.name}`);
    const chains = [...table.chains.keys()].sort(chainOrder);
    for (const chain of chains) out.push(table.chains.get(chain) ?? "");
    for (const chain of chains) {
      let rules = table.rules.get(chain) ?? [];
      if (chain === "KUBE-NODEPORTS" || chain === "KUBE-SERVICES") {
        rules = rules
          .map((line, i) => ({ line, i, last: line.includes(lastRuleMarker), name: serviceNameOf(line) }))
          .sort((a, b) => {
            if (a.last !== b.last) return a.last ? 1 : -1;
            if (a.name !== b.name) return a.name < b.name ? -1 : 1;
            return a.i - b.i;
          })
          .map((r) => r.line);
      }
      for (const rule of rules) out.push(rule);
    }
    out.push("COMMIT");
  }
  return out.join("\n") + "\n";
}
