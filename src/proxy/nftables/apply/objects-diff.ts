import type { NftChain, NftElement, NftObjects, NftSet } from "../render/nft-ruleset.ts";

/** What must change in the kernel to turn `old` objects into `next` ones. */
export interface ObjectsDiff {
  /** Chains to create (with their rules). */
  readonly addChains: readonly NftChain[];
  /** Existing chains whose rules must be replaced (flush, then add these rules). */
  readonly rewriteChains: readonly NftChain[];
  /** Chains no longer wanted: flushed now, deleted later. */
  readonly staleChains: readonly string[];
  readonly deleteElements: readonly NftElement[];
  readonly addElements: readonly NftElement[];
  /** Sets to delete: no longer wanted, or declared differently (then also in `addSets`). */
  readonly deleteSets: readonly NftSet[];
  readonly addSets: readonly NftSet[];
}

/**
 * Compares two groups of objects (e.g. one service's before and after) and returns the smallest
 * change: only chains whose rules differ, only elements that differ, only sets that differ.
 * Pure; the applier turns it into one nft transaction.
 */
export function diffObjects(old: readonly NftObjects[], next: readonly NftObjects[]): ObjectsDiff {
  const oldSets = byName(old.flatMap((g) => g.sets));
  const nextSets = byName(next.flatMap((g) => g.sets));
  const deleteSets: NftSet[] = [];
  const addSets: NftSet[] = [];
  for (const [name, set] of nextSets) {
    const before = oldSets.get(name);
    if (before === undefined) addSets.push(set);
    else if (before.spec !== set.spec || before.kind !== set.kind) {
      // nft ignores a changed declaration of an existing set (e.g. a new timeout): replace it.
      deleteSets.push(before);
      addSets.push(set);
    }
  }
  for (const [name, set] of oldSets) if (!nextSets.has(name)) deleteSets.push(set);
  const replacedSets = new Set(deleteSets.map((s) => s.name));

  const oldChains = byName(old.flatMap((g) => g.chains));
  const nextChains = byName(next.flatMap((g) => g.chains));
  const addChains: NftChain[] = [];
  const rewriteChains: NftChain[] = [];
  for (const [name, chain] of nextChains) {
    const before = oldChains.get(name);
    if (before === undefined) addChains.push(chain);
    // A set can only be deleted once no rule refers to it, so chains using a replaced set are
    // rewritten too.
    else if (!sameRules(before.rules, chain.rules) || refersTo(chain.rules, replacedSets))
      rewriteChains.push(chain);
  }
  const staleChains = [...oldChains.keys()].filter((name) => !nextChains.has(name));

  const oldElements = elementsByKey(old);
  const nextElements = elementsByKey(next);
  const deleteElements: NftElement[] = [];
  const addElements: NftElement[] = [];
  for (const [id, e] of nextElements) {
    const before = oldElements.get(id);
    if (before === undefined) addElements.push(e);
    else if (before.rest !== e.rest) {
      deleteElements.push(before);
      addElements.push(e);
    }
  }
  for (const [id, e] of oldElements) if (!nextElements.has(id)) deleteElements.push(e);
  return { addChains, rewriteChains, staleChains, deleteElements, addElements, deleteSets, addSets };
}

/** True when the diff changes nothing. */
export function isEmptyDiff(d: ObjectsDiff): boolean {
  return (
    d.addChains.length +
      d.rewriteChains.length +
      d.staleChains.length +
      d.deleteElements.length +
      d.addElements.length +
      d.deleteSets.length +
      d.addSets.length ===
    0
  );
}

function byName<T extends { readonly name: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((i) => [i.name, i]));
}

function elementsByKey(groups: readonly NftObjects[]): Map<string, NftElement> {
  const out = new Map<string, NftElement>();
  for (const g of groups) for (const e of g.elements) out.set(`${e.set}\u0000${e.key}`, e);
  return out;
}

function sameRules(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((r, i) => r === b[i]);
}

function refersTo(rules: readonly string[], sets: ReadonlySet<string>): boolean {
  if (sets.size === 0) return false;
  return rules.some((r) => [...sets].some((s) => r.includes(`@${s} `) || r.endsWith(`@${s}`)));
}
