const typeOrder = ["table", "chain", "rule", "set", "map", "element"];

/**
 * Normalises nft commands the way upstream's tests compare them (`sortNFTablesTransaction`):
 * blank and `#` lines dropped; lines sorted by object type (table, chain, rule, set, map,
 * element), then object name (the fifth word); rules of one chain keep their order, other lines
 * with the same type and name are sorted by their text.
 */
export function sortNftTransaction(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((line, index) => {
      const words = line.split(/\s+/);
      const type = words[1] ?? "";
      const rank = typeOrder.indexOf(type);
      return { line, index, type, rank: rank < 0 ? typeOrder.length : rank, name: words[4] ?? "" };
    });
  lines.sort((a, b) => {
    if (a.rank !== b.rank) return a.rank - b.rank;
    if (a.name !== b.name) return a.name < b.name ? -1 : 1;
    if (a.type === "rule") return a.index - b.index;
    return a.line < b.line ? -1 : a.line > b.line ? 1 : 0;
  });
  return lines.map((l) => l.line).join("\n") + "\n";
}
