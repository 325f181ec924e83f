/** A base chain of a parsed table: where and when it runs. */
export interface BaseChain {
  readonly name: string;
  readonly type: string;
  readonly hook: string;
  readonly priority: number;
}

/** One set or map element as written: key (without comment) and the data after ` : `. */
export interface NftTextElement {
  readonly key: string;
  readonly value: string;
}

/** A table read from `nft -f` text: rules as words per chain, base chains, elements per set. */
export interface ParsedNftText {
  readonly chains: Map<string, string[][]>;
  readonly baseChains: BaseChain[];
  readonly elements: Map<string, NftTextElement[]>;
}

/**
 * Reads the `add chain|rule|element` commands of one table's `nft -f` text (what the renderers
 * print), for the packet tracer. Sets' declarations are not needed: elements name their set.
 */
export function parseNftText(text: string): ParsedNftText {
  const chains = new Map<string, string[][]>();
  const baseChains: BaseChain[] = [];
  const elements = new Map<string, NftTextElement[]>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const words = line.split(/\s+/);
    const [, kind, , , name = ""] = words;
    const rest = words.slice(5).join(" ");
    if (kind === "chain") {
      chains.set(name, chains.get(name) ?? []);
      const hook = /type (\w+) hook (\w+) priority (-?\d+)/.exec(rest);
      if (hook)
        baseChains.push({ name, type: hook[1] ?? "", hook: hook[2] ?? "", priority: Number(hook[3]) });
    } else if (kind === "rule") {
      const rules = chains.get(name);
      if (rules === undefined) throw new Error(`rule for undeclared chain ${name}: ${line}`);
      rules.push(tokenize(rest));
    } else if (kind === "element") {
      const body = /^\{ (.*) \}$/.exec(rest)?.[1] ?? "";
      const list = elements.get(name) ?? [];
      // One element, or a list of them (interval maps get all theirs in one command).
      for (const element of body.split(" , ")) {
        const [keyPart = "", value = ""] = element.split(" : ");
        list.push({ key: keyPart.replace(/ comment ".*"$/, "").trim(), value: value.trim() });
      }
      elements.set(name, list);
    }
  }
  return { chains, baseChains, elements };
}

/** Splits a rule into words, keeping quoted strings whole. */
function tokenize(rule: string): string[] {
  return rule.match(/"[^"]*"|\S+/g) ?? [];
}
