import { kubeProxyCanaryChain, kubeServicesChain } from "./chain-names.ts";
import type { DispatchRule, IptablesRuleSet, IptablesTable, ServicePortRules } from "./iptables-rule-set.ts";

/** A partial `iptables-restore --noflush` payload and what it changes. */
export interface PartialPayload {
  /** The payload; "" when nothing changed (and no canary probe was asked for). */
  readonly text: string;
  /** Service ports whose rules changed (added, changed or removed), sorted. */
  readonly servicePorts: readonly string[];
  /** Chains (re)written with all their rules. */
  readonly writtenChains: readonly string[];
  /** Chains flushed and deleted (`-X`). */
  readonly deletedChains: readonly string[];
  /** Single-rule edits (`-D`, `-A`, `-I`) in shared dispatch chains. */
  readonly dispatchEdits: number;
}

export interface PartialPayloadOptions {
  /**
   * Start every table with `-D`/`-A` of the canary's rule: the restore then fails at that line when
   * someone flushed or deleted kproxy's chains, which the applier turns into a full resync.
   */
  readonly canaryProbe?: boolean;
}

/** True when `next` can be written as a partial change of `previous` (same family and context). */
export function partialSyncPossible(previous: IptablesRuleSet, next: IptablesRuleSet): boolean {
  return previous.family === next.family && previous.contextKey === next.contextKey;
}

function groupDispatch(rules: readonly DispatchRule[]): Map<string, DispatchRule[]> {
  const groups = new Map<string, DispatchRule[]>();
  for (const rule of rules) {
    const key = `${rule.table} ${rule.chain}`;
    let list = groups.get(key);
    if (list === undefined) groups.set(key, (list = []));
    list.push(rule);
  }
  return groups;
}

function sameSpecs(a: readonly DispatchRule[] | undefined, b: readonly DispatchRule[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((r, i) => r.spec === b[i]?.spec);
}

// Full syncs rebuild every service: compare without allocating, since nearly all are equal.
function sameRules(a: ServicePortRules, b: ServicePortRules): boolean {
  if (a.dispatch.length !== b.dispatch.length || a.chains.size !== b.chains.size) return false;
  for (let i = 0; i < a.dispatch.length; i++) {
    const x = a.dispatch[i] as DispatchRule;
    const y = b.dispatch[i] as DispatchRule;
    if (x.spec !== y.spec || x.chain !== y.chain || x.table !== y.table) return false;
  }
  for (const [chain, text] of a.chains) if (b.chains.get(chain) !== text) return false;
  return true;
}

interface TableEdits {
  deletes: string[];
  adds: string[];
}

/**
 * The change from `previous` (what the kernel holds) to `next` as single-rule edits and whole
 * chains, for `iptables-restore --noflush`. Unlike upstream's partial sync, which rewrites
 * KUBE-SERVICES in full, the shared dispatch chains only get `-D` of the changed services' old
 * rules and `-A` (or `-I … 1` in nat KUBE-SERVICES, whose last rule must stay last) of their new
 * ones. A service port's own chains are rewritten only when their text changed, and chains it no
 * longer has are flushed and deleted. Services are compared by reference first (unchanged ones
 * are reused by `buildIptablesRuleSet`), then by value, so a full rebuild diffs correctly too.
 * Requires `partialSyncPossible(previous, next)`. Pure.
 */
export function formatPartialPayload(
  previous: IptablesRuleSet,
  next: IptablesRuleSet,
  options: PartialPayloadOptions = {},
): PartialPayload {
  if (!partialSyncPossible(previous, next)) {
    throw new Error(
      "Cannot render a partial iptables payload: the rule context changed; a full sync is needed",
    );
  }
  const edits: Record<IptablesTable, TableEdits> = {
    filter: { deletes: [], adds: [] },
    nat: { deletes: [], adds: [] },
  };
  const written = new Map<string, string>();
  const deleted: string[] = [];
  const servicePorts: string[] = [];
  let dispatchEdits = 0;

  const diff = (old: ServicePortRules | undefined, cur: ServicePortRules | undefined): void => {
    if (old !== undefined && cur !== undefined && sameRules(old, cur)) return;
    const oldGroups = groupDispatch(old?.dispatch ?? []);
    const curGroups = groupDispatch(cur?.dispatch ?? []);
    let changed = false;
    for (const key of new Set([...oldGroups.keys(), ...curGroups.keys()])) {
      const before = oldGroups.get(key);
      const after = curGroups.get(key);
      if (sameSpecs(before, after)) continue;
      changed = true;
      // Replace the service's rules in this chain as a block, so that their order stays right.
      for (const rule of before ?? []) edits[rule.table].deletes.push(`-D ${rule.chain} ${rule.spec}\n`);
      const adds = after ?? [];
      const first = adds[0];
      if (first !== undefined && first.table === "nat" && first.chain === kubeServicesChain) {
        for (let i = adds.length - 1; i >= 0; i--) {
          const rule = adds[i] as DispatchRule;
          edits.nat.adds.push(`-I ${rule.chain} 1 ${rule.spec}\n`);
        }
      } else {
        for (const rule of adds) edits[rule.table].adds.push(`-A ${rule.chain} ${rule.spec}\n`);
      }
      dispatchEdits += (before?.length ?? 0) + adds.length;
    }
    for (const [chain, text] of cur?.chains ?? []) {
      if (old?.chains.get(chain) === text) continue;
      written.set(chain, text);
      changed = true;
    }
    for (const chain of old?.chains.keys() ?? []) {
      if (cur?.chains.has(chain)) continue;
      deleted.push(chain);
      changed = true;
    }
    if (changed) servicePorts.push((cur ?? old)?.servicePortKey ?? "");
  };

  for (const [key, cur] of next.services) {
    const old = previous.services.get(key);
    if (old !== cur) diff(old, cur);
  }
  for (const [key, old] of previous.services) {
    if (!next.services.has(key)) diff(old, undefined);
  }

  const probe = options.canaryProbe === true;
  const filterBody = edits.filter.deletes.length + edits.filter.adds.length > 0;
  const natBody = edits.nat.deletes.length + edits.nat.adds.length + written.size + deleted.length > 0;
  const out: string[] = [];
  const canaryLines = `-D ${kubeProxyCanaryChain} -j RETURN\n-A ${kubeProxyCanaryChain} -j RETURN\n`;
  if (filterBody || probe) {
    out.push("*filter\n");
    if (probe) out.push(canaryLines);
    // Loops, not spreads: a sync may carry more lines than a call's arguments may be.
    for (const line of edits.filter.deletes) out.push(line);
    for (const line of edits.filter.adds) out.push(line);
    out.push("COMMIT\n");
  }
  if (natBody || probe) {
    out.push("*nat\n");
    for (const chain of written.keys()) out.push(`:${chain} - [0:0]\n`);
    for (const chain of deleted) out.push(`:${chain} - [0:0]\n`);
    if (probe) out.push(canaryLines);
    // Old dispatch rules go first: they may jump to chains deleted below.
    for (const line of edits.nat.deletes) out.push(line);
    for (const text of written.values()) out.push(text);
    for (const line of edits.nat.adds) out.push(line);
    for (const chain of deleted) out.push(`-X ${chain}\n`);
    out.push("COMMIT\n");
  }
  return {
    text: out.join(""),
    servicePorts: servicePorts.sort(),
    writtenChains: [...written.keys()],
    deletedChains: deleted,
    dispatchEdits,
  };
}
