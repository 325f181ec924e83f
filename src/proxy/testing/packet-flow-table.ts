import { readFileSync } from "node:fs";

/**
 * Upstream's packet-flow table (`TestInternalExternalMasquerade`, kept as data in
 * `test/conformance/upstream/nftables-internal-external-masquerade.expected.txt`), parsed. Read
 * from the file rather than retyped, so that every row of it is replayed and none is forgotten.
 */

/** One flow: from a source address to a destination, and what upstream expects of it. */
export interface PacketFlowRow {
  readonly name: string;
  readonly sourceIP: string;
  readonly destIP: string;
  readonly destPort: number;
  /** The endpoints (`ip:port`) the flow may be DNATed to. */
  readonly output: readonly string[];
  /** Whether the packet is masqueraded. */
  readonly masq: boolean;
}

/** One settings sub-case: its name and its rows (the base table with the sub-case's overrides applied). */
export interface PacketFlowSubcase {
  /** `base`, `no LocalTrafficDetector`, `masqueradeAll`, `masqueradeAll, no LocalTrafficDetector`. */
  readonly name: string;
  readonly masqueradeAll: boolean;
  readonly localDetector: boolean;
  readonly rows: readonly PacketFlowRow[];
  /** Names of the rows whose expectation differs from the base table. */
  readonly overridden: readonly string[];
}

/** Where the table lives in the repository. */
export const packetFlowTableFile = new URL(
  "../../../test/conformance/upstream/nftables-internal-external-masquerade.expected.txt",
  import.meta.url,
);

/** Reads and parses the table file. */
export function readPacketFlowTable(): PacketFlowSubcase[] {
  return parsePacketFlowTable(readFileSync(packetFlowTableFile, "utf8"));
}

/**
 * Parses the table: `name | src | dst | port | ip:port, ... | masq` rows under the
 * `---- sub-case "base" ...` header, and `name => masq B` / `name => output ip:port, ...`
 * overrides under each other sub-case's header. Throws on a line it does not understand, or an
 * override naming a row that does not exist.
 */
export function parsePacketFlowTable(text: string): PacketFlowSubcase[] {
  const subcases: { name: string; base: boolean; lines: string[] }[] = [];
  for (const raw of text.split("\n")) {
    const header = /^# ---- sub-case "([^"]+)"/.exec(raw);
    if (header?.[1] !== undefined) {
      subcases.push({ name: header[1], base: header[1] === "base", lines: [] });
      continue;
    }
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const current = subcases.at(-1);
    if (current === undefined) throw new Error(`Cannot parse packet-flow line before any sub-case: ${line}`);
    current.lines.push(line);
  }
  const baseCase = subcases.find((s) => s.base);
  if (baseCase === undefined) throw new Error('Cannot parse packet-flow table: no sub-case "base"');
  const base = baseCase.lines.map(parseRow);
  return subcases.map((s) => {
    if (s.base)
      return { name: s.name, masqueradeAll: false, localDetector: true, rows: base, overridden: [] };
    const rows = new Map(base.map((r) => [r.name, r]));
    const overridden: string[] = [];
    for (const line of s.lines) {
      const m = /^(.+?)\s*=>\s*(masq|output)\s+(.+)$/.exec(line);
      const [name, what, value] = [m?.[1], m?.[2], m?.[3]];
      const row = name === undefined ? undefined : rows.get(name);
      if (row === undefined || value === undefined || name === undefined)
        throw new Error(`Cannot apply packet-flow override in sub-case "${s.name}": ${line}`);
      rows.set(
        name,
        what === "masq" ? { ...row, masq: parseBool(value, line) } : { ...row, output: list(value) },
      );
      overridden.push(name);
    }
    return {
      name: s.name,
      masqueradeAll: s.name.startsWith("masqueradeAll"),
      localDetector: !s.name.includes("no LocalTrafficDetector"),
      rows: [...rows.values()],
      overridden,
    };
  });
}

function parseRow(line: string): PacketFlowRow {
  const cells = line.split("|").map((c) => c.trim());
  const [name, sourceIP, destIP, port, output, masq] = cells;
  if (cells.length !== 6 || name === undefined || sourceIP === undefined || destIP === undefined)
    throw new Error(`Cannot parse packet-flow row (want 6 cells separated by "|"): ${line}`);
  return {
    name,
    sourceIP,
    destIP,
    destPort: Number(port),
    output: list(output ?? ""),
    masq: parseBool(masq ?? "", line),
  };
}

function list(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function parseBool(text: string, line: string): boolean {
  if (text === "true" || text === "false") return text === "true";
  throw new Error(
    `Cannot parse packet-flow masq value ${JSON.stringify(text)} (want true or false): ${line}`,
  );
}
