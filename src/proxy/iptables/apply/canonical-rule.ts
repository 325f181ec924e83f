import { canonicalIP } from "../../../model/ip.ts";

/**
 * A rule spec in a form that does not depend on how it was written or printed, so that what
 * `iptables-save` prints can be compared with what kproxy renders. Covers the vocabulary kproxy
 * writes (and nothing more): options become sorted `[!]option=value` pairs, `-m` module loads are
 * dropped (the options imply them), and the tools' normalisations are undone:
 * - addresses `-s`/`-d` lose `/32` (`/128`);
 * - `--or-mark M` and `--xor-mark M` are printed as `--set-xmark M/M` and `--set-xmark M/0x0`,
 *   and mark values as plain hex;
 * - `--probability` is stored as a fraction of 2^31 and printed with 11 decimals;
 * - `recent` prints its defaults `--mask 255.255.255.255 --rsource`, REJECT its default
 *   `--reject-with icmp-port-unreachable`;
 * - `--ctstate` lists are printed in a fixed order.
 */
export function canonicalRule(spec: string): string {
  const tokens = tokenize(spec);
  const entries: string[] = [];
  let i = 0;
  while (i < tokens.length) {
    let negated = false;
    let token = tokens[i]?.text ?? "";
    if (token === "!") {
      negated = true;
      i++;
      token = tokens[i]?.text ?? "";
    }
    i++;
    const values: string[] = [];
    while (i < tokens.length && !isOption(tokens[i] as Token)) values.push((tokens[i++] as Token).text);
    if (token === "-m") continue;
    for (const entry of normalise(token, values.join(" "))) entries.push(negated ? `!${entry}` : entry);
  }
  return entries.sort().join(" ");
}

interface Token {
  readonly text: string;
  /** Quoted tokens (comments) are always values, whatever they start with. */
  readonly quoted: boolean;
}

function isOption(token: Token): boolean {
  return !token.quoted && (token.text === "!" || /^--?[a-zA-Z]/.test(token.text));
}

function tokenize(spec: string): Token[] {
  const tokens: Token[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(spec)) !== null) {
    tokens.push(m[1] !== undefined ? { text: m[1], quoted: true } : { text: m[2] ?? "", quoted: false });
  }
  return tokens;
}

/** An address (or CIDR) in canonical form: IPv6 is printed compressed by the tools. */
function address(value: string): string {
  if (!value.includes(":")) return value;
  const [ip = "", prefix] = value.split("/");
  const canonical = canonicalIP(ip) ?? ip;
  return prefix === undefined ? canonical : `${canonical}/${prefix}`;
}

function hex(value: string): string {
  const n = Number(value);
  return Number.isNaN(n) ? value : `0x${n.toString(16)}`;
}

function mark(value: string): string {
  const [v = "", mask] = value.split("/");
  return mask === undefined ? hex(v) : `${hex(v)}/${hex(mask)}`;
}

const ctstateOrder = ["INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT"];

function normalise(option: string, value: string): string[] {
  switch (option) {
    case "-s":
    case "--source":
    case "-d":
    case "--destination": {
      const short = option.startsWith("--") ? (option === "--source" ? "-s" : "-d") : option;
      return [`${short}=${address(value.replace(/\/(32|128)$/, ""))}`];
    }
    case "--or-mark":
      return [`--set-xmark=${mark(`${value}/${value}`)}`];
    case "--xor-mark":
      return [`--set-xmark=${mark(`${value}/0`)}`];
    case "--set-xmark":
    case "--mark":
      return [`${option}=${mark(value)}`];
    case "--probability":
      return [`--probability=${Number(value).toFixed(6)}`];
    case "--mask":
    case "--rsource":
      return [];
    case "--reject-with":
      return value === "icmp-port-unreachable" || value === "icmp6-port-unreachable"
        ? []
        : [`${option}=${value}`];
    case "--ctstate":
    case "--state":
      return [
        `--ctstate=${value
          .split(",")
          .sort((a, b) => ctstateOrder.indexOf(a) - ctstateOrder.indexOf(b))
          .join(",")}`,
      ];
    case "--to-destination": {
      // `[ip6]:port` or `ip4:port`; IPv6 printed in canonical form.
      const m = /^\[(.+)\](:\d+)?$/.exec(value);
      return [`${option}=${m ? `[${address(m[1] ?? "")}]${m[2] ?? ""}` : value}`];
    }
    case "--dst-type":
    case "--src-type":
      return [`${option}=${value}`];
    default:
      return [`${option}=${value}`];
  }
}
