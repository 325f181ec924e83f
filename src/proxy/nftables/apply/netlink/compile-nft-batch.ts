import { isIP } from "node:net";
import { addressBytes, commentUserdata, compileNftRule } from "./compile-nft-rule.ts";
import { verdictCodes, verdictData } from "./nft-expressions.ts";
import { attr, be32Attr, nest, nfMessage, strAttr } from "./netlink-attributes.ts";

const NFNL_SUBSYS_NFTABLES = 10;
const BATCH_BEGIN = 0x10;
const BATCH_END = 0x11;
const MSG = {
  newSet: 9,
  delSet: 11,
  newChain: 3,
  delChain: 5,
  newRule: 6,
  delRule: 8,
  newSetElem: 12,
  delSetElem: 14,
} as const;
const F_REQUEST = 0x1;
const F_ACK = 0x4;
const F_CREATE = 0x400;
const F_APPEND = 0x800;
const NFT_SET_ELEM_INTERVAL_END = 1;
const NFT_SET_TIMEOUT = 0x10;
const NFT_SET_EVAL = 0x20;

/** One nf_tables batch: the bytes to send, and the command text of each message by sequence number. */
export interface CompiledBatch {
  readonly bytes: Buffer;
  /** The `nft` command each acknowledged message stands for, by sequence number. */
  readonly commands: ReadonlyMap<number, string>;
}

const protocolNumbers: Readonly<Record<string, number>> = { tcp: 6, udp: 17, sctp: 132 };

/**
 * Compiles a partial-sync transaction (the `nft -f` text `NftTableWriter` plans: chain adds,
 * flushes and deletes, rules, and map/set element adds and deletes) into one nf_tables netlink
 * batch, every message asking for an acknowledgement. Returns undefined when a command is of
 * another kind (e.g. set declarations) or a rule is not one kproxy's compiler knows: the caller
 * then runs the text with `nft -f`.
 */
export function compileNftBatch(text: string, firstSeq: number): CompiledBatch | undefined {
  const messages: Buffer[] = [];
  const commands = new Map<number, string>();
  let seq = firstSeq;
  messages.push(
    nfMessage({
      type: BATCH_BEGIN,
      flags: F_REQUEST,
      seq: seq++,
      family: 0,
      resId: NFNL_SUBSYS_NFTABLES,
      attrs: [],
    }),
  );
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const compiled = compileCommand(line, seq);
    if (compiled === undefined) return undefined;
    commands.set(seq, line);
    messages.push(compiled);
    seq++;
  }
  messages.push(
    nfMessage({
      type: BATCH_END,
      flags: F_REQUEST,
      seq,
      family: 0,
      resId: NFNL_SUBSYS_NFTABLES,
      attrs: [],
    }),
  );
  return { bytes: Buffer.concat(messages), commands };
}

function compileCommand(line: string, seq: number): Buffer | undefined {
  const m = /^(add|flush|delete) (chain|rule|element|set) (ip6?) (\S+) (\S+)(?: (.*))?$/.exec(line);
  if (m === null) return undefined;
  const [, verb, kind, fam = "ip", table = "", name = "", rest = ""] = m;
  const family = fam as "ip" | "ip6";
  const nfproto = family === "ip" ? 2 : 10;
  const msg = (type: number, flags: number, attrs: Buffer[]): Buffer =>
    nfMessage({
      type: (NFNL_SUBSYS_NFTABLES << 8) | type,
      flags: F_REQUEST | F_ACK | flags,
      seq,
      family: nfproto,
      attrs,
    });
  if (kind === "chain") {
    if (rest !== "") return undefined; // base chains and comments go through nft
    // NFTA_CHAIN_TABLE 1, NFTA_CHAIN_NAME 3; NFTA_RULE_TABLE 1, NFTA_RULE_CHAIN 2
    if (verb === "add") return msg(MSG.newChain, F_CREATE, [strAttr(1, table), strAttr(3, name)]);
    if (verb === "delete") return msg(MSG.delChain, 0, [strAttr(1, table), strAttr(3, name)]);
    return msg(MSG.delRule, 0, [strAttr(1, table), strAttr(2, name)]);
  }
  if (kind === "set") {
    // NFTA_SET_TABLE 1, NAME 2, FLAGS 3, KEY_TYPE 4, KEY_LEN 5, ID 10, TIMEOUT 11, USERDATA 13
    if (verb === "delete" && rest === "") return msg(MSG.delSet, 0, [strAttr(1, table), strAttr(2, name)]);
    const decl = verb === "add" ? affinitySetDeclaration(rest, family) : undefined;
    if (decl === undefined) return undefined;
    const timeout = Buffer.alloc(8);
    timeout.writeBigUInt64BE(BigInt(decl.timeoutSeconds) * 1000n, 0);
    return msg(MSG.newSet, F_CREATE, [
      strAttr(1, table),
      strAttr(2, name),
      be32Attr(3, NFT_SET_TIMEOUT | NFT_SET_EVAL),
      be32Attr(4, decl.keyType),
      be32Attr(5, decl.keyLength),
      be32Attr(10, seq),
      attr(11, timeout),
      // nft's user data: the key is in network byte order (NFTNL_UDATA_SET_KEYBYTEORDER).
      attr(13, Buffer.from([0, 4, 2, 0, 0, 0])),
    ]);
  }
  if (kind === "rule" && verb === "add") {
    const rule = compileNftRule(rest, family);
    if (rule === undefined) return undefined;
    const attrs = [strAttr(1, table), strAttr(2, name), rule.expressions];
    if (rule.userdata !== undefined) attrs.push(attr(7 /* NFTA_RULE_USERDATA */, rule.userdata));
    return msg(MSG.newRule, F_CREATE | F_APPEND, attrs);
  }
  if (kind === "element" && (verb === "add" || verb === "delete")) {
    const body = /^\{ (.*) \}$/.exec(rest)?.[1];
    if (body === undefined) return undefined;
    const elements = compileElement(body, family, verb === "add");
    if (elements === undefined) return undefined;
    // NFTA_SET_ELEM_LIST_TABLE 1, _SET 2, _ELEMENTS 3
    const attrs = [strAttr(1, table), strAttr(2, name), nest(3, elements)];
    return verb === "add" ? msg(MSG.newSetElem, F_CREATE, attrs) : msg(MSG.delSetElem, 0, attrs);
  }
  return undefined;
}

/**
 * `KEY [comment "c"] [: DATA]` → its `NFTA_LIST_ELEM`s: one, or two for an interval `FROM-TO`
 * (its start, and its end `TO + 1` flagged as such, as the kernel's interval sets keep them).
 * DATA is a verdict (`goto CHAIN`, `drop`) or a value (`10.0.0.1 . 8080`).
 */
function compileElement(body: string, family: "ip" | "ip6", withData: boolean): Buffer[] | undefined {
  const [keyPart = "", dataText] = body.split(" : ");
  const cm = /^(.*?)(?: comment "([^"]*)")?$/.exec(keyPart);
  const keyText = cm?.[1] ?? "";
  const range = /^(\d+)-(\d+)$/.exec(keyText);
  let key: Buffer | undefined;
  let end: Buffer | undefined;
  if (range !== null) {
    const from = Number(range[1]);
    const to = Number(range[2]);
    // The interval sets kproxy writes are 32-bit numbers; the last number has no end element.
    if (from > to || to >= 0xffffffff) return undefined;
    key = be32(from);
    end = be32(to + 1);
  } else key = keyBytes(keyText.split(" . "), family);
  if (key === undefined) return undefined;
  // NFTA_SET_ELEM_KEY 1, _DATA 2, _FLAGS 3, _USERDATA 6; NFTA_DATA_VALUE 1
  const parts = [nest(1, [attr(1, key)])];
  if (withData && dataText !== undefined) {
    const [kind = "", chain] = dataText.trim().split(" ");
    const data =
      verdictCodes[kind] !== undefined
        ? verdictData(kind, chain)
        : valueData(dataText.trim().split(" . "), family);
    if (data === undefined) return undefined;
    parts.push(nest(2, [data]));
  }
  if (withData && cm?.[2] !== undefined) parts.push(attr(6, commentUserdata(cm[2])));
  const out = [nest(1, parts)];
  if (end !== undefined) out.push(nest(1, [be32Attr(3, NFT_SET_ELEM_INTERVAL_END), nest(1, [attr(1, end)])]));
  return out;
}

/**
 * The one set declaration partial syncs send: a ClientIP-affinity set, `{ type ipv4_addr ; flags
 * dynamic,timeout ; timeout 10800s ; }` (nft's datatype numbers: ipv4_addr 7, ipv6_addr 8).
 */
function affinitySetDeclaration(
  spec: string,
  family: "ip" | "ip6",
): { keyType: number; keyLength: number; timeoutSeconds: number } | undefined {
  const m = /^\{ type (ipv4_addr|ipv6_addr) ; flags dynamic,timeout ; timeout (\d+)s ; \}$/.exec(spec);
  if (m === null || (m[1] === "ipv4_addr") !== (family === "ip")) return undefined;
  return m[1] === "ipv4_addr"
    ? { keyType: 7, keyLength: 4, timeoutSeconds: Number(m[2]) }
    : { keyType: 8, keyLength: 16, timeoutSeconds: Number(m[2]) };
}

/** Map data that is a value: `NFTA_DATA_VALUE` with the fields in register layout. */
function valueData(fields: readonly string[], family: "ip" | "ip6"): Buffer | undefined {
  const bytes = keyBytes(fields, family);
  return bytes === undefined ? undefined : attr(1, bytes);
}

function be32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v, 0);
  return b;
}

/** Key fields in register layout: each field of a concatenation padded to 4 bytes. */
function keyBytes(fields: readonly string[], family: "ip" | "ip6"): Buffer | undefined {
  const out: Buffer[] = [];
  for (const f of fields) {
    let b: Buffer;
    if (isIP(f) !== 0) {
      if (isIP(f) !== (family === "ip" ? 4 : 6)) return undefined;
      b = addressBytes(f, family);
    } else if (protocolNumbers[f] !== undefined) b = Buffer.from([protocolNumbers[f] ?? 0]);
    else if (/^\d+$/.test(f) && Number(f) < 65536) {
      b = Buffer.alloc(2);
      b.writeUInt16BE(Number(f), 0);
    } else return undefined;
    out.push(fields.length > 1 ? Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]) : b);
  }
  return Buffer.concat(out);
}
