/** One table of an `iptables-save`/`iptables-restore` text: chain declarations and rules per chain. */
export interface DumpTable {
  readonly name: string;
  /** Declaration line per chain (`:KUBE-SERVICES - [0:0]`), in order of appearance. */
  readonly chains: Map<string, string>;
  /** `-A` lines per chain, in order. */
  readonly rules: Map<string, string[]>;
  /** Chains deleted with `-X`. */
  readonly deleted: Set<string>;
}

/**
 * Parses restore/save text into tables (the reverse of what the renderers write), as upstream's
 * `iptablestest.ParseIPTablesDump` does for its tests. Lines other than table headers, chain
 * declarations, `-A`, `-X` and `COMMIT` are ignored.
 */
export function parseIptablesDump(text: string): DumpTable[] {
  const tables: DumpTable[] = [];
  let table: DumpTable | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("*")) {
      table = { name: line.slice(1).trim(), chains: new Map(), rules: new Map(), deleted: new Set() };
      tables.push(table);
    } else if (table === undefined) {
      continue;
    } else if (line.startsWith(":")) {
      const name = line.slice(1).split(" ")[0] ?? "";
      table.chains.set(name, line);
      table.deleted.delete(name);
    } else if (line.startsWith("-A ")) {
      const chain = line.split(" ")[1] ?? "";
      let list = table.rules.get(chain);
      if (list === undefined) table.rules.set(chain, (list = []));
      list.push(line);
    } else if (line.startsWith("-X ")) {
      const chain = line.split(" ")[1] ?? "";
      table.chains.delete(chain);
      table.rules.delete(chain);
      table.deleted.add(chain);
    }
  }
  return tables;
}

/** The value of a rule's `--comment` (unquoted), or undefined. */
export function ruleComment(line: string): string | undefined {
  const at = line.indexOf("--comment ");
  if (at < 0) return undefined;
  const rest = line.slice(at + "--comment ".length);
  if (rest.startsWith('"')) {
    const end = rest.indexOf('"', 1);
    return end < 0 ? rest.slice(1) : rest.slice(1, end);
  }
  return rest.split(" ")[0];
}

/** The jump target of a rule (`-j X`), or undefined. */
export function ruleTarget(line: string): string | undefined {
  const m = / -j (\S+)/.exec(line);
  return m?.[1];
}
