import { cidrContains } from "../../../model/ip.ts";
import { parseNftText, type BaseChain, type NftTextElement } from "./parse-nft-text.ts";

/** A packet to trace: a new connection from `src` to `dst:port`. */
export interface TracedPacket {
  readonly src: string;
  readonly dst: string;
  readonly port: number;
  readonly protocol: "tcp" | "udp" | "sctp";
}

/** One possible fate of a traced packet (numgen makes several possible). */
export interface TraceOutcome {
  readonly verdict: "accept" | "drop" | "reject";
  /** `ip:port` the packet was DNATed to, if it was. */
  readonly dnat: string | undefined;
  /** True when nat-postrouting masqueraded the packet. */
  readonly masqueraded: boolean;
}

interface PacketState {
  readonly src: string;
  readonly dst: string;
  readonly port: number;
  readonly protocol: string;
  readonly mark: number;
  readonly dnat: string | undefined;
  readonly masqueraded: boolean;
}

type Action =
  { kind: "next" | "return" | "accept" | "drop" | "reject" } | { kind: "jump" | "goto"; chain: string };
interface Branch {
  readonly pkt: PacketState;
  readonly action: Action;
}
interface HookState {
  readonly pkt: PacketState;
  readonly verdict?: "drop" | "reject";
}
type Ending = { readonly pkt: PacketState; readonly verdict: "return" | "accept" | "drop" | "reject" };

/**
 * A small interpreter of the rules kproxy writes (both layouts), in the spirit of upstream's
 * `nftables/helpers_test.go`: it follows hooks by priority, jumps, gotos and verdict maps, takes
 * every `numgen` branch, applies DNAT and the masquerade mark, and reports each possible outcome.
 * It understands exactly the statements kproxy renders and throws on anything else, so that a
 * rule it does not know cannot pass silently.
 */
export class NftPacketTracer {
  readonly #chains: ReadonlyMap<string, readonly (readonly string[])[]>;
  readonly #baseChains: readonly BaseChain[];
  readonly #elements: ReadonlyMap<string, readonly NftTextElement[]>;
  readonly #localIPs: readonly string[];

  /** `text`: `nft -f` input for one table; `localIPs`: the node's addresses (for `fib … type local`). */
  constructor(text: string, localIPs: readonly string[]) {
    this.#localIPs = localIPs;
    const parsed = parseNftText(text);
    this.#chains = parsed.chains;
    this.#baseChains = parsed.baseChains;
    this.#elements = parsed.elements;
  }

  /** Every possible outcome of a new connection, deduplicated. */
  trace(packet: TracedPacket): TraceOutcome[] {
    const local = this.#isLocal(packet.src);
    let states: HookState[] = [{ pkt: { ...packet, mark: 0, dnat: undefined, masqueraded: false } }];
    // Sent by the node: output hooks. Received: prerouting, then (after DNAT) input when the new
    // destination is local, forward when it is routed on.
    if (local) states = this.#runHook("output", states);
    else {
      states = this.#runHook("prerouting", states).flatMap((s) =>
        this.#runHook(this.#isLocal(s.pkt.dst) ? "input" : "forward", [s]),
      );
    }
    states = this.#runHook("postrouting", states);
    const seen = new Map<string, TraceOutcome>();
    for (const s of states) {
      const outcome: TraceOutcome = {
        verdict: s.verdict ?? "accept",
        dnat: s.pkt.dnat,
        masqueraded: s.pkt.masqueraded,
      };
      seen.set(JSON.stringify(outcome), outcome);
    }
    return [...seen.values()];
  }

  /** Runs the base chains of `hook` in priority order; a dropped or rejected packet stops. */
  #runHook(hook: string, states: readonly HookState[]): HookState[] {
    const chains = this.#baseChains.filter((b) => b.hook === hook).sort((a, b) => a.priority - b.priority);
    let out = [...states];
    for (const chain of chains) {
      out = out.flatMap((s): HookState[] => {
        if (s.verdict !== undefined) return [s];
        return this.#runChain(chain.name, s.pkt).map((e) =>
          e.verdict === "return" || e.verdict === "accept"
            ? { pkt: e.pkt }
            : { pkt: e.pkt, verdict: e.verdict },
        );
      });
    }
    return out;
  }

  #isLocal(ip: string): boolean {
    return this.#localIPs.includes(ip) || cidrContains("127.0.0.0/8", ip) || ip === "::1";
  }

  #runChain(name: string, pkt: PacketState, depth = 0): Ending[] {
    if (depth > 32) throw new Error(`chain recursion too deep at ${name}`);
    const rules = this.#chains.get(name);
    if (rules === undefined) throw new Error(`jump to unknown chain ${name}`);
    const run = (index: number, p: PacketState): Ending[] => {
      const rule = rules[index];
      if (rule === undefined) return [{ pkt: p, verdict: "return" }];
      return this.#evalRule(rule, p).flatMap((b): Ending[] => {
        const a = b.action;
        switch (a.kind) {
          case "next":
            return run(index + 1, b.pkt);
          case "return":
            return [{ pkt: b.pkt, verdict: "return" }];
          case "accept":
          case "drop":
          case "reject":
            return [{ pkt: b.pkt, verdict: a.kind }];
          case "goto":
            return this.#runChain(a.chain, b.pkt, depth + 1);
          case "jump":
            return this.#runChain(a.chain, b.pkt, depth + 1).flatMap((e) =>
              e.verdict === "return" ? run(index + 1, e.pkt) : [e],
            );
        }
      });
    };
    return run(0, pkt);
  }

  /** Evaluates one rule; several branches when it draws a random number. */
  #evalRule(tokens: readonly string[], start: PacketState): Branch[] {
    const step = (i: number, p: PacketState): Branch[] => {
      const t = tokens[i];
      if (t === undefined) return [{ pkt: p, action: { kind: "next" } }];
      const no: Branch[] = [{ pkt: p, action: { kind: "next" } }];
      const at = (k: number): string => tokens[i + k] ?? "";
      if (t === "comment") return step(i + 2, p);
      if (t === "ct" && at(1) === "state" && at(2) === "new") return step(i + 3, p);
      if (t === "ct" && at(1) === "status" && at(2) === "dnat")
        return p.dnat !== undefined ? step(i + 3, p) : no;
      if ((t === "ip" || t === "ip6") && at(1) === "saddr" && at(2) === "." && at(4) === "daddr") {
        // ip saddr . ip daddr @set
        const set = at(5);
        if (at(3) !== t || !set.startsWith("@"))
          throw new Error(`unsupported concatenation in ${tokens.join(" ")}`);
        const key = `${p.src} . ${p.dst}`;
        const hit = (this.#elements.get(set.slice(1)) ?? []).some((e) => e.key === key);
        return hit ? step(i + 6, p) : no;
      }
      if ((t === "ip" || t === "ip6") && (at(1) === "saddr" || at(1) === "daddr")) {
        if (at(2) === ".") {
          // ip daddr . meta l4proto . th dport vmap @map
          if (
            at(3) !== "meta" ||
            at(4) !== "l4proto" ||
            at(6) !== "th" ||
            at(7) !== "dport" ||
            at(8) !== "vmap"
          )
            throw new Error(`unsupported concatenation in ${tokens.join(" ")}`);
          return this.#vmap(at(9), `${p.dst} . ${p.protocol} . ${p.port}`, p);
        }
        const addr = at(1) === "saddr" ? p.src : p.dst;
        const { matched, next } = this.#matchValue(tokens, i + 2, addr);
        return matched ? step(next, p) : no;
      }
      if (t === "meta" && at(1) === "l4proto") {
        if (at(2) === ".") return this.#vmap(at(6), `${p.protocol} . ${p.port}`, p);
        return at(2) === p.protocol ? step(i + 3, p) : no;
      }
      if (t === "fib" && at(2) === "type" && at(3) === "local") {
        return this.#isLocal(at(1) === "saddr" ? p.src : p.dst) ? step(i + 4, p) : no;
      }
      if (t === "numgen" && at(1) === "random" && at(2) === "mod") {
        const n = Number(at(3));
        if (at(4) === "vmap") {
          const close = tokens.indexOf("}", i);
          const entries = tokens
            .slice(i + 6, close)
            .join(" ")
            .split(" , ");
          return entries.map((e) => {
            const [, verdict = ""] = e.split(" : ");
            return { pkt: p, action: verdictAction(verdict) };
          });
        }
        // `numgen random mod n 0`: taken with probability 1/n, so both branches are possible
        // (with n = 1 only the taken one).
        const taken = step(i + 5, p);
        return n === 1 ? taken : [...taken, ...no];
      }
      if (t === "mark") {
        if (at(1) === "set" && at(2) === "mark" && (at(3) === "or" || at(3) === "xor")) {
          const m = Number(at(4));
          return step(i + 5, { ...p, mark: at(3) === "or" ? p.mark | m : p.mark ^ m });
        }
        if (at(1) === "and" && at(3) === "==") {
          return (p.mark & Number(at(2))) === Number(at(4)) ? step(i + 5, p) : no;
        }
      }
      if (t === "update") return step(tokens.indexOf("}", i) + 1, p);
      if (t === "masquerade") return [{ pkt: { ...p, masqueraded: true }, action: { kind: "accept" } }];
      if (t === "dnat" && (at(1) === "ip" || at(1) === "ip6") && at(2) === "to" && at(3) === "numgen") {
        // dnat ip to numgen random mod M offset K map @S: every element of S in [K, K+M-1] is possible.
        if (at(4) !== "random" || at(5) !== "mod" || at(7) !== "offset" || at(9) !== "map")
          throw new Error(`unsupported dnat map in ${tokens.join(" ")}`);
        return this.#dnatByMap(Number(at(8)), Number(at(8)) + Number(at(6)) - 1, at(10), p);
      }
      if (t === "dnat" && at(1) === "to") {
        const target = at(2);
        const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
        if (!m) throw new Error(`unsupported dnat target ${target}`);
        return [
          { pkt: { ...p, dst: m[1] ?? "", port: Number(m[2]), dnat: target }, action: { kind: "accept" } },
        ];
      }
      if (["jump", "goto", "return", "drop", "reject", "accept"].includes(t)) {
        return [{ pkt: p, action: verdictAction(`${t} ${at(1)}`.trim()) }];
      }
      throw new Error(`the tracer does not understand "${tokens.slice(i).join(" ")}"`);
    };
    return step(0, start);
  }

  /** The DNATs an interval map offers for numbers in [from, to]; none: the rule does not match. */
  #dnatByMap(from: number, to: number, setRef: string, p: PacketState): Branch[] {
    const out: Branch[] = [];
    for (const e of this.#elements.get(setRef.replace(/^@/, "")) ?? []) {
      const [lo = NaN, hi = lo] = e.key.split("-").map(Number);
      if (hi < from || lo > to) continue;
      const [ip = "", port = ""] = e.value.split(" . ");
      const target = ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
      out.push({ pkt: { ...p, dst: ip, port: Number(port), dnat: target }, action: { kind: "accept" } });
    }
    return out.length > 0 ? out : [{ pkt: p, action: { kind: "next" } }];
  }

  #vmap(setRef: string, key: string, p: PacketState): Branch[] {
    const element = (this.#elements.get(setRef.replace(/^@/, "")) ?? []).find((e) => e.key === key);
    return [{ pkt: p, action: element === undefined ? { kind: "next" } : verdictAction(element.value) }];
  }

  /** Matches `[!=] value` at `i`: an address, a CIDR, `@set` or `{ a , b }`. */
  #matchValue(tokens: readonly string[], i: number, addr: string): { matched: boolean; next: number } {
    let negate = false;
    if (tokens[i] === "!=") {
      negate = true;
      i++;
    }
    let values: string[];
    let next: number;
    const t = tokens[i] ?? "";
    if (t === "{") {
      const close = tokens.indexOf("}", i);
      values = tokens
        .slice(i + 1, close)
        .filter((v) => v !== ",")
        .flatMap((v) => v.split(","));
      next = close + 1;
    } else if (t.startsWith("@")) {
      values = (this.#elements.get(t.slice(1)) ?? []).map((e) => e.key);
      next = i + 1;
    } else {
      values = [t];
      next = i + 1;
    }
    const hit = values.some((v) => (v.includes("/") ? cidrContains(v, addr) : v === addr));
    return { matched: hit !== negate, next };
  }
}

function verdictAction(verdict: string): Action {
  const [kind = "", chain = ""] = verdict.split(" ");
  if (kind === "jump" || kind === "goto") return { kind, chain };
  if (kind === "return" || kind === "accept" || kind === "drop" || kind === "reject") return { kind };
  throw new Error(`unknown verdict ${verdict}`);
}
