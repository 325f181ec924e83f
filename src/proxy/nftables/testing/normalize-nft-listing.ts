/**
 * Normalises `nft -j list table …` output so that two tables with the same contents compare
 * equal whatever order their objects were created in: handles dropped, chains and sets sorted by
 * name, set elements sorted, rules kept in chain order.
 */
export function normalizeNftJson(json: string): string {
  const parsed = JSON.parse(json) as { nftables: Record<string, Record<string, unknown>>[] };
  const chains = new Map<string, unknown[]>();
  const other: string[] = [];
  const strip = (o: Record<string, unknown>): Record<string, unknown> => {
    const { handle: _h, ...rest } = o;
    return rest;
  };
  for (const entry of parsed.nftables) {
    const [kind, body] = Object.entries(entry)[0] ?? ["", {}];
    if (kind === "metainfo") continue;
    if (kind === "rule") {
      const r = strip(body);
      const chain = String(r["chain"]);
      const list = chains.get(chain) ?? [];
      list.push(r["expr"]);
      chains.set(chain, list);
      continue;
    }
    const o = strip(body);
    if ((kind === "set" || kind === "map") && Array.isArray(o["elem"])) {
      o["elem"] = (o["elem"] as unknown[]).map((e) => JSON.stringify(e)).sort();
    }
    if (kind === "chain") chains.set(String(o["name"]), chains.get(String(o["name"])) ?? []);
    other.push(`${kind} ${JSON.stringify(o)}`);
  }
  const rules = [...chains]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([c, r]) => `rules ${c} ${JSON.stringify(r)}`);
  return [...other.sort(), ...rules].join("\n") + "\n";
}
