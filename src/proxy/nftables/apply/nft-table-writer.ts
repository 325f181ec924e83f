import type { NftChain, NftElement, NftFamily, NftLines, NftObjects, NftSet } from "../render/nft-ruleset.ts";
import { elementLines, nftLines, objectLines } from "../render/nft-ruleset.ts";
import { diffObjects, isEmptyDiff } from "./objects-diff.ts";
import { SharedElements } from "./shared-elements.ts";

/** The desired table for one sync: the fixed objects and the service ports rendered for it. */
export interface DesiredTable {
  readonly tableComment: string;
  readonly base: NftObjects;
  /** Partial syncs: only the re-rendered service ports; full syncs: every one. */
  readonly services: ReadonlyMap<string, NftObjects>;
}

/** One transaction, ready to run; `commit()` records it as written once nft accepted it. */
export interface TablePlan {
  /** `rebuild`: the table is deleted and re-created; `full`: flushed and refilled; `partial`: only changes. */
  readonly kind: "rebuild" | "full" | "partial" | "none";
  /** `nft -f` input ("" for `none`). */
  readonly text: string;
  /** Chains that are no longer wanted once this plan is committed (flushed now, deleted later). */
  readonly removedChains: readonly string[];
  commit(): void;
}

/**
 * Keeps what kproxy wrote to one nftables table, so that a sync never reads the table back, and
 * plans each sync's single transaction:
 *
 * - `rebuild` (first sync, and after a failed sync, when what the kernel holds is not known):
 *   delete and re-create the table in one transaction;
 * - `full` (every syncPeriod): flush every chain and the dispatch maps and write them again;
 *   affinity sets keep their entries;
 * - `partial`: only the changed service ports' chains, sets and map elements. Its size depends on
 *   what changed, never on the number of services.
 *
 * Chains that are no longer used are flushed at once and deleted `staleChainDelayMs` later: with
 * kernels before 6.2 a chain that a just-deleted map element pointed to still counts as in use
 * for a short while (upstream does the same).
 */
export class NftTableWriter {
  readonly #lines: NftLines;
  readonly #staleChainDelayMs: number;
  #base: NftObjects | undefined;
  #services = new Map<string, NftObjects>();
  /** Chain name → when it went stale. */
  #stale = new Map<string, number>();
  #rebuild = true;
  /** Users of each element of `shared` sets. */
  #shared = new SharedElements();

  constructor(family: NftFamily, table: string, options: { staleChainDelayMs: number }) {
    this.#lines = nftLines(family, table);
    this.#staleChainDelayMs = options.staleChainDelayMs;
  }

  /**
   * True when the next sync must render every service: nothing written yet, a rebuild pending,
   * or the fixed objects changed (node addresses, service CIDRs, configuration).
   */
  needsFullSync(base: NftObjects): boolean {
    return this.#rebuild || this.#base === undefined || !sameObjects(this.#base, base);
  }

  /** After a failed transaction: the next plan rebuilds the table. */
  invalidate(): void {
    this.#rebuild = true;
  }

  /** Number of chains flushed but not yet deleted. */
  get staleChainCount(): number {
    return this.#stale.size;
  }

  /**
   * Plans a sync. `full` rewrites everything; otherwise `desired.services` holds only the
   * re-rendered ports and `removed` the port keys that no longer exist. A partial sync whose
   * fixed objects changed (node addresses, service CIDRs) becomes a full one.
   */
  plan(
    desired: DesiredTable,
    options: { full: boolean; removed?: Iterable<string>; now: number },
  ): TablePlan {
    if (this.#rebuild) return this.#planRebuild(desired);
    if (options.full || this.#base === undefined || !sameObjects(this.#base, desired.base))
      return this.#planFull(desired, options.now);
    return this.#planPartial(desired, [...(options.removed ?? [])], options.now);
  }

  #planRebuild(desired: DesiredTable): TablePlan {
    const l = this.#lines;
    // `add` first so that `delete` cannot fail on a missing table.
    const out = [`add table ${l.prefix}`, `delete table ${l.prefix}`, l.table(desired.tableComment)];
    const groups = [desired.base, ...desired.services.values()];
    objectLines(l, groups, out);
    return {
      kind: "rebuild",
      text: out.join("\n") + "\n",
      removedChains: [],
      commit: () => {
        this.#base = desired.base;
        this.#services = new Map(desired.services);
        this.#stale.clear();
        this.#shared = SharedElements.count(groups);
        this.#rebuild = false;
      },
    };
  }

  #planFull(desired: DesiredTable, now: number): TablePlan {
    const l = this.#lines;
    const out = [l.table(desired.tableComment), `flush table ${l.prefix}`];
    const next = [desired.base, ...desired.services.values()];
    const before = this.#writtenSets();
    const wanted = new Map<string, NftSet>();
    for (const g of next) for (const s of g.sets) wanted.set(s.name, s);
    for (const s of before.values())
      if (!wanted.has(s.name)) out.push(`delete ${s.kind} ${l.prefix} ${s.name}`);
    for (const s of wanted.values()) {
      const old = before.get(s.name);
      if (old !== undefined && (old.spec !== s.spec || old.kind !== s.kind))
        out.push(`delete ${old.kind} ${l.prefix} ${s.name}`);
      out.push(l.set(s));
    }
    // The dispatch maps are refilled from scratch; affinity sets keep their clients.
    for (const s of desired.base.sets) out.push(`flush ${s.kind} ${l.prefix} ${s.name}`);
    const chains = next.flatMap((g) => g.chains);
    for (const c of chains) out.push(l.chain(c));
    for (const c of chains) for (const r of c.rules) out.push(l.rule(c.name, r));
    elementLines(
      l,
      [...wanted.values()],
      next.flatMap((g) => g.elements),
      out,
    );

    const wantedChains = new Set(chains.map((c) => c.name));
    const stale = new Map([...this.#stale].filter(([name]) => !wantedChains.has(name)));
    const removedChains: string[] = [];
    for (const g of this.#writtenGroups())
      for (const c of g.chains)
        if (!wantedChains.has(c.name) && !stale.has(c.name)) {
          stale.set(c.name, now);
          removedChains.push(c.name);
        }
    const expired = this.#expired(stale, now);
    for (const name of expired) out.push(`delete chain ${l.prefix} ${name}`);
    return {
      kind: "full",
      text: out.join("\n") + "\n",
      removedChains,
      commit: () => {
        this.#base = desired.base;
        this.#services = new Map(desired.services);
        this.#shared = SharedElements.count(next);
        for (const name of expired) stale.delete(name);
        this.#stale = stale;
      },
    };
  }

  #planPartial(desired: DesiredTable, removed: readonly string[], now: number): TablePlan {
    const l = this.#lines;
    const keys = new Set([...desired.services.keys(), ...removed]);
    const old = [...keys].flatMap((k) => this.#services.get(k) ?? []);
    const next = [...desired.services.values()];
    // Elements of shared sets are counted, not diffed: another service may still use them.
    const sharedSets = new Set((this.#base?.sets ?? []).filter((s) => s.shared === true).map((s) => s.name));
    const unshared = (g: NftObjects): NftObjects =>
      sharedSets.size === 0 ? g : { ...g, elements: g.elements.filter((e) => !sharedSets.has(e.set)) };
    const diff = diffObjects(old.map(unshared), next.map(unshared));
    const shared = this.#shared.change(old, next, sharedSets);
    const wantedChains = new Set(next.flatMap((g) => g.chains.map((c) => c.name)));
    const stale = new Map([...this.#stale].filter(([name]) => !wantedChains.has(name)));
    for (const name of diff.staleChains) stale.set(name, now);
    const expired = this.#expired(stale, now).filter((name) => !diff.staleChains.includes(name));
    const commit = (): void => {
      for (const k of removed) this.#services.delete(k);
      for (const [k, g] of desired.services) this.#services.set(k, g);
      for (const name of expired) stale.delete(name);
      this.#stale = stale;
      shared.commit();
    };
    const removedChains = diff.staleChains;
    if (isEmptyDiff(diff) && expired.length === 0 && shared.add.length + shared.delete.length === 0)
      return { kind: "none", text: "", removedChains, commit };

    const out: string[] = [];
    for (const c of diff.addChains) out.push(l.chain(c));
    for (const c of diff.rewriteChains) out.push(`flush chain ${l.prefix} ${c.name}`);
    for (const name of diff.staleChains) out.push(`flush chain ${l.prefix} ${name}`);
    for (const e of [...diff.deleteElements, ...shared.delete]) out.push(deleteElementLine(l, e));
    for (const s of diff.deleteSets) out.push(`delete ${s.kind} ${l.prefix} ${s.name}`);
    for (const s of diff.addSets) out.push(l.set(s));
    const withRules: NftChain[] = [...diff.addChains, ...diff.rewriteChains];
    for (const c of withRules) for (const r of c.rules) out.push(l.rule(c.name, r));
    for (const e of [...diff.addElements, ...shared.add]) out.push(l.element(e));
    for (const name of expired) out.push(`delete chain ${l.prefix} ${name}`);
    return { kind: "partial", text: out.join("\n") + "\n", removedChains, commit };
  }

  #expired(stale: ReadonlyMap<string, number>, now: number): string[] {
    return [...stale].filter(([, since]) => now - since >= this.#staleChainDelayMs).map(([name]) => name);
  }

  #writtenGroups(): NftObjects[] {
    return this.#base === undefined ? [...this.#services.values()] : [this.#base, ...this.#services.values()];
  }

  #writtenSets(): Map<string, NftSet> {
    const out = new Map<string, NftSet>();
    for (const g of this.#writtenGroups()) for (const s of g.sets) out.set(s.name, s);
    return out;
  }
}

function deleteElementLine(l: NftLines, e: NftElement): string {
  return `delete element ${l.prefix} ${e.set} { ${e.key} }`;
}

function sameObjects(a: NftObjects, b: NftObjects): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
