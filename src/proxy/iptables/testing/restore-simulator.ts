/**
 * A tiny in-memory model of `iptables-restore --noflush`, for pure tests of partial payloads:
 * applies chain declarations (create or flush), `-A`, `-I <chain> <n>`, `-D <chain> <spec>`
 * (exact text), `-F` and `-X` to tables of rule specs, failing like the real tool on a missing
 * chain or rule. It does not model matches; rules are compared as text.
 */
export class RestoreSimulator {
  readonly #tables = new Map<string, Map<string, string[]>>();

  /** Applies one payload; throws `Error("line N failed: ...")` like iptables-restore (nothing applied then). */
  apply(payload: string): void {
    const staged = new Map(
      [...this.#tables].map(([t, chains]) => [t, new Map([...chains].map(([c, r]) => [c, [...r]]))]),
    );
    let table: Map<string, string[]> | undefined;
    const lines = payload.split("\n");
    lines.forEach((line, i) => {
      const fail = (why: string): never => {
        throw new Error(`line ${i + 1} failed: ${why}: ${line}`);
      };
      if (line === "" || line.startsWith("#") || line === "COMMIT") return;
      if (line.startsWith("*")) {
        const name = line.slice(1);
        table = staged.get(name);
        if (table === undefined) staged.set(name, (table = new Map()));
        return;
      }
      if (table === undefined) fail("no table");
      const t = table as Map<string, string[]>;
      if (line.startsWith(":")) {
        t.set(line.slice(1).split(" ")[0] ?? "", []);
        return;
      }
      const [op, chain = "", ...rest] = line.split(" ");
      const rules = t.get(chain);
      if (rules === undefined) fail(`no chain ${chain}`);
      const list = rules as string[];
      switch (op) {
        case "-A":
          list.push(rest.join(" "));
          break;
        case "-I": {
          const pos = Number(rest[0]);
          if (!(pos >= 1 && pos <= list.length + 1)) fail("bad position");
          list.splice(pos - 1, 0, rest.slice(1).join(" "));
          break;
        }
        case "-D": {
          const at = list.indexOf(rest.join(" "));
          if (at < 0) fail("no such rule");
          list.splice(at, 1);
          break;
        }
        case "-F":
          list.length = 0;
          break;
        case "-X":
          if (list.length > 0) fail("chain not empty");
          t.delete(chain);
          break;
        default:
          fail("unknown command");
      }
    });
    this.#tables.clear();
    for (const [k, v] of staged) this.#tables.set(k, v);
  }

  /** The state as restore text (chains sorted), for comparison with `sortIptablesRules` output. */
  dump(): string {
    const out: string[] = [];
    for (const [name, chains] of [...this.#tables].sort(([a], [b]) => (a < b ? -1 : 1))) {
      out.push(`*${name}`);
      const names = [...chains.keys()].sort();
      for (const c of names) out.push(`:${c} - [0:0]`);
      for (const c of names) for (const r of chains.get(c) ?? []) out.push(`-A ${c} ${r}`);
      out.push("COMMIT");
    }
    return out.join("\n") + "\n";
  }

  /** Rules of one chain, in order. */
  rules(table: string, chain: string): readonly string[] | undefined {
    return this.#tables.get(table)?.get(chain);
  }
}
