/** One flow of upstream's `TestInternalExternalMasquerade` table. */
export interface PacketFlow {
  readonly name: string;
  readonly src: string;
  readonly dst: string;
  readonly port: number;
  /** Possible DNAT targets (`ip:port`), or `DROP` / `REJECT`. */
  readonly output: readonly string[];
  readonly masq: boolean;
}

/** One sub-case: its settings and its full list of flows (overrides applied). */
export interface PacketFlowCase {
  readonly name: string;
  readonly masqueradeAll: boolean;
  readonly localDetector: boolean;
  readonly flows: readonly PacketFlow[];
}

/**
 * Parses `nftables-internal-external-masquerade.expected.txt`: the base table as rows
 * `name | src | dst | port | outputs | masq`, then each other sub-case as `name => masq X` or
 * `name => output A, B` overrides of the base rows.
 */
export function parsePacketFlowTable(text: string): PacketFlowCase[] {
  const base: PacketFlow[] = [];
  const overrides = new Map<string, Map<string, Partial<PacketFlow>>>();
  let current = "base";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const section = /^# ---- sub-case "([^"]+)"/.exec(line);
    if (section) {
      current = section[1] ?? "";
      if (current !== "base") overrides.set(current, new Map());
      continue;
    }
    if (line === "" || line.startsWith("#")) continue;
    const override = /^(.+?)\s+=>\s+(masq|output)\s+(.+)$/.exec(line);
    if (override) {
      const [, name = "", what, value = ""] = override;
      const map = overrides.get(current);
      if (map === undefined) throw new Error(`override outside a sub-case: ${line}`);
      const entry = map.get(name.trim()) ?? {};
      map.set(
        name.trim(),
        what === "masq"
          ? { ...entry, masq: value.trim() === "true" }
          : { ...entry, output: splitOutputs(value) },
      );
      continue;
    }
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length !== 6) throw new Error(`cannot parse flow row: ${line}`);
    const [name = "", src = "", dst = "", port = "", output = "", masq = ""] = cells;
    base.push({ name, src, dst, port: Number(port), output: splitOutputs(output), masq: masq === "true" });
  }
  const cases: PacketFlowCase[] = [{ name: "base", masqueradeAll: false, localDetector: true, flows: base }];
  for (const [name, map] of overrides) {
    for (const key of map.keys())
      if (!base.some((f) => f.name === key)) throw new Error(`override of unknown flow ${key} in ${name}`);
    cases.push({
      name,
      masqueradeAll: name.includes("masqueradeAll"),
      localDetector: !name.includes("no LocalTrafficDetector"),
      flows: base.map((f) => ({ ...f, ...map.get(f.name) })),
    });
  }
  return cases;
}

function splitOutputs(value: string): string[] {
  return value
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");
}
