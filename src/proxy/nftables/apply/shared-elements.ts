import type { NftElement, NftObjects } from "../render/nft-ruleset.ts";

/** What a partial sync does to shared elements: lines to send, and the counts to keep once sent. */
export interface SharedElementsChange {
  readonly add: readonly NftElement[];
  readonly delete: readonly NftElement[];
  commit(): void;
}

/**
 * Counts the service ports that carry each element of a `shared` set (e.g. one endpoint behind
 * two Services puts the same hairpin pair in both): the element is added with its first user and
 * deleted with its last, whatever order the services change in.
 */
export class SharedElements {
  readonly #users = new Map<string, { element: NftElement; users: number }>();

  /** Counts every shared element of `groups` (after a full sync or rebuild wrote them all). */
  static count(groups: readonly NftObjects[]): SharedElements {
    const out = new SharedElements();
    const sharedSets = new Set(
      groups.flatMap((g) => g.sets.filter((s) => s.shared === true).map((s) => s.name)),
    );
    for (const g of groups)
      for (const [id, e] of distinct(g, sharedSets)) {
        const entry = out.#users.get(id);
        if (entry === undefined) out.#users.set(id, { element: e, users: 1 });
        else entry.users++;
      }
    return out;
  }

  /** The elements of `sharedSets` to add and delete when `old` groups are replaced by `next` ones. */
  change(
    old: readonly NftObjects[],
    next: readonly NftObjects[],
    sharedSets: ReadonlySet<string>,
  ): SharedElementsChange {
    const delta = new Map<string, { element: NftElement; by: number }>();
    const count = (groups: readonly NftObjects[], by: number): void => {
      for (const g of groups)
        for (const [id, e] of distinct(g, sharedSets)) {
          const d = delta.get(id);
          if (d === undefined) delta.set(id, { element: e, by });
          else d.by += by;
        }
    };
    if (sharedSets.size > 0) {
      count(old, -1);
      count(next, 1);
    }
    const add: NftElement[] = [];
    const del: NftElement[] = [];
    for (const [id, d] of delta) {
      if (d.by === 0) continue;
      const before = this.#users.get(id)?.users ?? 0;
      const after = before + d.by;
      if (before <= 0 && after > 0) add.push(d.element);
      if (before > 0 && after <= 0) del.push(d.element);
    }
    return {
      add,
      delete: del,
      commit: () => {
        for (const [id, d] of delta) {
          const users = (this.#users.get(id)?.users ?? 0) + d.by;
          if (users > 0) this.#users.set(id, { element: d.element, users });
          else this.#users.delete(id);
        }
      },
    };
  }
}

/** The shared elements of one group, each once. */
function distinct(group: NftObjects, sharedSets: ReadonlySet<string>): Map<string, NftElement> {
  const out = new Map<string, NftElement>();
  for (const e of group.elements) if (sharedSets.has(e.set)) out.set(`${e.set}\u0000${e.key}`, e);
  return out;
}
