import {
  isServiceChainName,
  kubeletFirewallChain,
  kubeProxyCanaryChain,
  kubeServicesChain,
} from "../render/chain-names.ts";
import { parseIptablesDump, type DumpTable } from "../render/iptables-dump.ts";
import type { IptablesRuleSet } from "../render/iptables-rule-set.ts";
import { canonicalRule } from "./canonical-rule.ts";
import { firewallJumpRules, jumpRules, type JumpRule } from "./jump-rules.ts";

/** What a repair writes. */
export interface RepairPayload {
  /** "" when the kernel already holds exactly the desired rules. */
  readonly text: string;
  readonly writtenChains: readonly string[];
  readonly deletedChains: readonly string[];
  readonly insertedJumps: readonly JumpRule[];
  /** True when the mangle table exists and holds (or will hold) the canary chain. */
  readonly mangleCanary: boolean;
}

interface DesiredChain {
  readonly specs: readonly string[];
  /** Dispatch chains: rule order among services does not matter (partial syncs insert at the top). */
  readonly unordered: boolean;
  /** Rules that must stay last, in order (the KUBE-NODEPORTS jump of nat KUBE-SERVICES). */
  readonly tail: readonly string[];
}

const tables = ["filter", "nat", "mangle"] as const;
type Table = (typeof tables)[number];

/** The desired content of every chain kproxy owns, per table, with the canary chains. */
export function desiredChains(
  rs: IptablesRuleSet,
  withMangleCanary: boolean,
): Record<Table, Map<string, DesiredChain>> {
  const out: Record<Table, Map<string, DesiredChain>> = {
    filter: new Map(),
    nat: new Map(),
    mangle: new Map(),
  };
  for (const table of ["filter", "nat"] as const) {
    const declared = table === "filter" ? rs.filterChains : rs.natChains;
    const head = table === "filter" ? rs.filterHead : rs.natHead;
    const tail = table === "filter" ? rs.filterTail : rs.natTail;
    const specs = new Map<string, string[]>(declared.map((c) => [c, []]));
    const push = (chain: string, spec: string): void => void specs.get(chain)?.push(spec);
    for (const r of head) push(r.chain, r.spec);
    const dispatchChains = new Set<string>();
    for (const svc of rs.services.values()) {
      for (const r of svc.dispatch) {
        if (r.table !== table) continue;
        push(r.chain, r.spec);
        dispatchChains.add(r.chain);
      }
    }
    for (const r of tail) push(r.chain, r.spec);
    for (const [chain, list] of specs) {
      const chainTail = tail.filter((r) => r.chain === chain).map((r) => r.spec);
      const unordered = dispatchChains.has(chain) || chain === kubeServicesChain;
      out[table].set(chain, { specs: list, unordered, tail: unordered ? chainTail : [] });
    }
    out[table].set(kubeProxyCanaryChain, { specs: ["-j RETURN"], unordered: false, tail: [] });
  }
  for (const svc of rs.services.values()) {
    for (const [chain, text] of svc.chains) {
      const list =
        text === ""
          ? []
          : text
              .slice(0, -1)
              .split("\n")
              .map((l) => l.slice(chain.length + 4));
      out.nat.set(chain, { specs: list, unordered: false, tail: [] });
    }
  }
  // Upstream also keeps a canary in mangle; kproxy does too where that table exists (creating the
  // table for it would leave an empty table behind after cleanup).
  if (withMangleCanary) out.mangle.set(kubeProxyCanaryChain, { specs: [], unordered: false, tail: [] });
  return out;
}

function kernelSpecs(table: DumpTable, chain: string): string[] {
  return (table.rules.get(chain) ?? []).map((l) => l.slice(chain.length + 4));
}

function sameChain(desired: DesiredChain, actual: readonly string[]): boolean {
  if (desired.specs.length !== actual.length) return false;
  const want = desired.specs.map(canonicalRule);
  const have = actual.map(canonicalRule);
  if (!desired.unordered) return want.every((r, i) => r === have[i]);
  const tail = desired.tail.map(canonicalRule);
  if (!tail.every((r, i) => have[have.length - tail.length + i] === r)) return false;
  const sortedWant = [...want].sort();
  const sortedHave = [...have].sort();
  return sortedWant.every((r, i) => r === sortedHave[i]);
}

/**
 * Compares what the kernel holds (`iptables-save` text) with the desired rule set and renders the
 * payload that repairs every difference: chains missing or differing are declared (which flushes
 * them) and rewritten, stale per-service chains are deleted, missing top-level jumps are inserted
 * at the top of their built-in chains, and the canary chains are created. Rules are compared in
 * canonical form (`canonicalRule`), so the tools' own spelling does not count as a difference.
 * On an empty kernel the result is the full payload. Pure.
 */
export function formatRepairPayload(desired: IptablesRuleSet, saved: string): RepairPayload {
  const kernel = new Map(parseIptablesDump(saved).map((t) => [t.name, t]));
  const mangleCanary = kernel.has("mangle");
  const want = desiredChains(desired, mangleCanary);
  const jumps = [
    ...jumpRules,
    ...(desired.filterChains.includes(kubeletFirewallChain) ? firewallJumpRules : []),
  ];
  const written: string[] = [];
  const deleted: string[] = [];
  const inserted: JumpRule[] = [];
  const out: string[] = [];
  for (const table of tables) {
    const k = kernel.get(table);
    const write: [string, DesiredChain][] = [];
    for (const [chain, d] of want[table]) {
      if (k !== undefined && k.chains.has(chain) && sameChain(d, kernelSpecs(k, chain))) continue;
      write.push([chain, d]);
    }
    const remove = [...(k?.chains.keys() ?? [])].filter((c) => isServiceChainName(c) && !want[table].has(c));
    const insert: JumpRule[] = [];
    for (const j of jumps) {
      if (j.table !== table) continue;
      const have = k === undefined ? [] : kernelSpecs(k, j.from).map(canonicalRule);
      if (!have.includes(canonicalRule(j.spec))) insert.push(j);
    }
    if (write.length + remove.length + insert.length === 0) continue;
    out.push(`*${table}\n`);
    for (const [chain] of write) out.push(`:${chain} - [0:0]\n`);
    for (const chain of remove) out.push(`:${chain} - [0:0]\n`);
    for (const [chain, d] of write) for (const spec of d.specs) out.push(`-A ${chain} ${spec}\n`);
    for (const j of insert) out.push(`-I ${j.from} 1 ${j.spec}\n`);
    for (const chain of remove) out.push(`-X ${chain}\n`);
    out.push("COMMIT\n");
    // (No spread: a first sync writes 200,000+ chains, more than a call's arguments may be.)
    for (const [c] of write) written.push(c);
    for (const c of remove) deleted.push(c);
    for (const j of insert) inserted.push(j);
  }
  return {
    text: out.join(""),
    writtenChains: written,
    deletedChains: deleted,
    insertedJumps: inserted,
    mangleCanary,
  };
}
