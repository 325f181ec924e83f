/**
 * The desired contents of kproxy's nftables table as data: what the renderers produce, what
 * `kproxy render` prints, and what the applier diffs against what it wrote before.
 */

/** nftables address families kproxy uses: one table per IP family. */
export type NftFamily = "ip" | "ip6";

/** A named set or map: `add set|map FAMILY TABLE NAME SPEC`. */
export interface NftSet {
  readonly name: string;
  readonly kind: "set" | "map";
  /** The declaration, e.g. `{ type ipv4_addr ; comment "Active ClusterIPs" ; }`. */
  readonly spec: string;
  /**
   * Elements may come from several service ports at once (the same endpoint behind two
   * services): each is written once and deleted when its last user goes.
   */
  readonly shared?: boolean;
}

/** A chain and its rules, in order. */
export interface NftChain {
  readonly name: string;
  /** Base-chain hook or comment, e.g. `{ type nat hook output priority -100 ; }`; absent for plain chains. */
  readonly spec?: string;
  /** Rule bodies (what follows `add rule FAMILY TABLE CHAIN`). */
  readonly rules: readonly string[];
}

/** One element of a named set or map. */
export interface NftElement {
  readonly set: string;
  /** The key as nft prints it (`172.30.0.41 . tcp . 80`): identifies the element. */
  readonly key: string;
  /** What follows the key: ` comment "..."` and/or ` : verdict`, or "". */
  readonly rest: string;
}

/** A group of objects: the fixed part of the table, or everything of one service port. */
export interface NftObjects {
  readonly sets: readonly NftSet[];
  readonly chains: readonly NftChain[];
  readonly elements: readonly NftElement[];
}

/** The whole table: the fixed objects and, per service port key, that port's objects. */
export interface NftRuleset {
  readonly family: NftFamily;
  readonly table: string;
  readonly tableComment: string;
  readonly base: NftObjects;
  readonly services: ReadonlyMap<string, NftObjects>;
}

/** Text of commands against one table; knows the `FAMILY TABLE` prefix. */
export interface NftLines {
  table(comment: string): string;
  set(set: NftSet): string;
  chain(chain: NftChain): string;
  rule(chain: string, rule: string): string;
  element(element: NftElement): string;
  prefix: string;
}

/** Command formatters for table `table` of `family`. */
export function nftLines(family: NftFamily, table: string): NftLines {
  const prefix = `${family} ${table}`;
  return {
    prefix,
    table: (comment) => `add table ${prefix} { comment ${quote(comment)} ; }`,
    set: (s) => `add ${s.kind} ${prefix} ${s.name} ${s.spec}`,
    chain: (c) => `add chain ${prefix} ${c.name}${c.spec === undefined ? "" : ` ${c.spec}`}`,
    rule: (chain, rule) => `add rule ${prefix} ${chain} ${rule}`,
    element: (e) => `add element ${prefix} ${e.set} { ${e.key}${e.rest} }`,
  };
}

/** A double-quoted nft string (the comments kproxy writes never contain quotes). */
export function quote(text: string): string {
  return `"${text.replaceAll('"', "'")}"`;
}

/**
 * Appends the lines that create `groups` of objects. nft resolves names while it reads, so every
 * set and chain is declared before any rule or element refers to it: declarations first, then
 * the rules of each chain, then the elements.
 */
export function objectLines(lines: NftLines, groups: readonly NftObjects[], out: string[]): void {
  for (const g of groups) for (const s of g.sets) out.push(lines.set(s));
  for (const g of groups) for (const c of g.chains) out.push(lines.chain(c));
  for (const g of groups) for (const c of g.chains) for (const r of c.rules) out.push(lines.rule(c.name, r));
  elementLines(
    lines,
    groups.flatMap((g) => g.sets),
    groups.flatMap((g) => g.elements),
    out,
  );
}

/**
 * Appends the `add element` lines of `elements`: one line per element, except for interval sets,
 * whose elements all go in one command per set (nft 1.0.6 re-checks a whole interval set for
 * overlaps on every command, which makes one command per element quadratic). Elements of
 * `shared` sets are written once however many service ports carry them.
 */
export function elementLines(
  lines: NftLines,
  sets: readonly NftSet[],
  elements: readonly NftElement[],
  out: string[],
): void {
  const interval = new Set(sets.filter((s) => s.spec.includes("flags interval")).map((s) => s.name));
  const shared = new Set(sets.filter((s) => s.shared === true).map((s) => s.name));
  const grouped = new Map<string, string[]>();
  const seen = new Set<string>();
  for (const e of elements) {
    if (interval.has(e.set)) {
      let list = grouped.get(e.set);
      if (list === undefined) grouped.set(e.set, (list = []));
      list.push(`${e.key}${e.rest}`);
      continue;
    }
    if (shared.has(e.set)) {
      const id = `${e.set}\u0000${e.key}`;
      if (seen.has(id)) continue;
      seen.add(id);
    }
    out.push(lines.element(e));
  }
  for (const [set, list] of grouped) out.push(`add element ${lines.prefix} ${set} { ${list.join(" , ")} }`);
}

/**
 * The whole table as `nft -f` input that creates it from nothing (what `kproxy render` prints),
 * services in key order so that the output is stable.
 */
export function rulesetText(ruleset: NftRuleset): string {
  const lines = nftLines(ruleset.family, ruleset.table);
  const out = [lines.table(ruleset.tableComment)];
  const services = [...ruleset.services.keys()].sort().map((k) => ruleset.services.get(k));
  objectLines(lines, [ruleset.base, ...services.filter((s): s is NftObjects => s !== undefined)], out);
  return out.join("\n") + "\n";
}
