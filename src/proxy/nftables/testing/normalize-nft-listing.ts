/**
 * Normalises `nft -j list table …` output so that two tables with the same contents compare
 * equal whatever order their objects were created in: handles dropped, chains and sets sorted by
 * name, set elements sorted, rules kept in chain order.
 *
 * The kproxy layout's endpoint blocks depend on the order chains were created in (a table synced
 * incrementally and one loaded at once give a chain different blocks), so each `numgen … offset
 * K map @M` rule is shown with offset 0, and the elements of M in its block as ranges relative to
 * K, labelled with the chain: two tables then compare equal when every chain has the same
 * endpoints in the same shares.
 */
export function normalizeNftJson(json: string): string {
  const parsed = JSON.parse(json) as { nftables: Record<string, Record<string, unknown>>[] };
  const chains = new Map<string, unknown[]>();
  const maps: Record<string, unknown>[] = [];
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
    if (kind === "chain") chains.set(String(o["name"]), chains.get(String(o["name"])) ?? []);
    if (kind === "map" && Array.isArray(o["elem"])) {
      maps.push(o);
      continue;
    }
    if (kind === "set" && Array.isArray(o["elem"])) {
      o["elem"] = (o["elem"] as unknown[]).map((e) => JSON.stringify(e)).sort();
    }
    other.push(`${kind} ${JSON.stringify(o)}`);
  }

  // Endpoint blocks: the rules' offsets, by map, and which chain owns each.
  const blocks: { map: string; from: number; to: number; chain: string }[] = [];
  const rules = [...chains]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([c, r]) => {
      const text = JSON.stringify(r).replace(
        /"numgen":\{"mode":"random","mod":(\d+),"offset":(\d+)\}\},"data":"@([^"]+)"/g,
        (_all, mod: string, offset: string, map: string) => {
          blocks.push({ map, from: Number(offset), to: Number(offset) + Number(mod) - 1, chain: c });
          return `"numgen":{"mode":"random","mod":${mod},"offset":0}},"data":"@${map}"`;
        },
      );
      return `rules ${c} ${text}`;
    });
  for (const o of maps) {
    const name = String(o["name"]);
    o["elem"] = (o["elem"] as unknown[])
      .map((e) => {
        const range = (e as [{ range?: [number, number] }, unknown])[0]?.range;
        const block =
          range === undefined
            ? undefined
            : blocks.find((b) => b.map === name && range[0] >= b.from && range[1] <= b.to);
        if (range === undefined || block === undefined) return JSON.stringify(e);
        const data = (e as [unknown, unknown])[1];
        return JSON.stringify([
          { chain: block.chain, range: [range[0] - block.from, range[1] - block.from] },
          data,
        ]);
      })
      .sort();
    other.push(`map ${JSON.stringify(o)}`);
  }
  return [...other.sort(), ...rules].join("\n") + "\n";
}
