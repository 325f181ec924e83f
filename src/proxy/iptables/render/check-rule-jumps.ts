import { isServiceChainName } from "./chain-names.ts";
import { parseIptablesDump, ruleTarget } from "./iptables-dump.ts";

// Targets that are not chains.
const builtinTargets = new Set(["ACCEPT", "DROP", "REJECT", "RETURN", "DNAT", "SNAT", "MASQUERADE", "MARK"]);

/**
 * Consistency of a full payload, as upstream's `checkIPTablesRuleJumps`: every jump goes to a
 * chain declared in the same table, and every per-service chain is jumped to from somewhere.
 * Returns the problems found (empty when consistent).
 */
export function checkRuleJumps(text: string): string[] {
  const problems: string[] = [];
  for (const table of parseIptablesDump(text)) {
    const jumpedTo = new Set<string>();
    for (const [chain, rules] of table.rules) {
      if (!table.chains.has(chain)) problems.push(`${table.name}: rules in undeclared chain ${chain}`);
      for (const line of rules) {
        const target = ruleTarget(line);
        if (target === undefined || builtinTargets.has(target)) continue;
        jumpedTo.add(target);
        if (!table.chains.has(target)) problems.push(`${table.name}: jump to undeclared chain: ${line}`);
      }
    }
    for (const chain of table.chains.keys()) {
      if (isServiceChainName(chain) && !jumpedTo.has(chain))
        problems.push(`${table.name}: chain ${chain} is declared but never jumped to`);
    }
  }
  return problems;
}
