import { isIP } from "node:net";
import { ipToBigInt } from "../../../../model/ip.ts";
import { attr, be32Attr, nest, strAttr } from "./netlink-attributes.ts";

/** Netlink constants of nf_tables (linux/netfilter/nf_tables.h), only those kproxy uses. */
const NFTA_LIST_ELEM = 1;
const NFTA_EXPR_NAME = 1;
const NFTA_EXPR_DATA = 2;
const NFTA_DATA_VALUE = 1;
const NFTA_DATA_VERDICT = 2;
const NFTA_VERDICT_CODE = 1;
const NFTA_VERDICT_CHAIN = 2;
const REG_VERDICT = 0;
const REG_1 = 1;
const REG_2 = 2;
const PAYLOAD_NETWORK = 1;
const CMP_EQ = 0;
const CMP_NEQ = 1;
const META_L4PROTO = 16;
const FIB_RESULT_ADDRTYPE = 3;
const FIB_F_SADDR = 1;
const RTN_LOCAL = 2;
const NG_RANDOM = 1;
const NAT_DNAT = 1;
const NAT_RANGE_PROTO_SPECIFIED = 2;
const DYNSET_OP_UPDATE = 1;
const BYTEORDER_HTON = 1;
/** 32-bit register 1: the second word of register 1 (where a map puts the port after an IPv4 address). */
const REG32_01 = 9;
const UDATA_COMMENT = 0;

/** Verdict codes. */
export const verdictCodes: Readonly<Record<string, number>> = {
  drop: 0,
  accept: 1,
  jump: -3,
  goto: -4,
  return: -5,
};

const l4protos: Readonly<Record<string, number>> = { tcp: 6, udp: 17, sctp: 132 };

/** A compiled rule: its expressions and its user data (the comment), as nf_tables attributes. */
export interface CompiledRule {
  readonly expressions: Buffer;
  readonly userdata: Buffer | undefined;
}

/**
 * Compiles one rule body of the forms kproxy's renderers write into nf_tables expressions, the
 * same bytecode `nft` generates for it (`nft --debug=netlink`). Returns undefined for anything
 * else, so that the caller falls back to `nft -f`.
 */
export function compileNftRule(rule: string, family: "ip" | "ip6"): CompiledRule | undefined {
  const tokens = rule.match(/"[^"]*"|\S+/g) ?? [];
  const exprs: Buffer[] = [];
  let userdata: Buffer | undefined;
  let protocol: string | undefined;
  let i = 0;
  const at = (k: number): string => tokens[i + k] ?? "";
  while (i < tokens.length) {
    const t = at(0);
    if ((t === "ip" || t === "ip6") && t === family && (at(1) === "saddr" || at(1) === "daddr")) {
      const source = at(1) === "saddr";
      const addrLen = family === "ip" ? 4 : 16;
      const offset = family === "ip" ? (source ? 12 : 16) : source ? 8 : 24;
      if (at(2).startsWith("@")) {
        exprs.push(payload(offset, addrLen), lookup(at(2).slice(1)));
        i += 3;
        continue;
      }
      const negate = at(2) === "!=";
      const value = at(negate ? 3 : 2);
      const match = addressMatch(value, family, offset, addrLen, negate);
      if (match === undefined) return undefined;
      exprs.push(...match);
      i += negate ? 4 : 3;
      continue;
    }
    if (t === "meta" && at(1) === "l4proto" && l4protos[at(2)] !== undefined) {
      protocol = at(2);
      exprs.push(meta(META_L4PROTO), cmp(CMP_EQ, Buffer.from([l4protos[at(2)] ?? 0])));
      i += 3;
      continue;
    }
    if (t === "fib" && at(1) === "saddr" && at(2) === "type" && at(3) === "local") {
      exprs.push(fib(), cmp(CMP_EQ, hostU32(RTN_LOCAL)));
      i += 4;
      continue;
    }
    if (t === "numgen" && at(1) === "random" && at(2) === "mod" && /^\d+$/.test(at(3)) && at(4) === "0") {
      exprs.push(numgen(Number(at(3)), 0), cmp(CMP_EQ, hostU32(0)));
      i += 5;
      continue;
    }
    // dnat ip to numgen random mod M offset K map @S: the endpoint maps of the kproxy layout.
    if (
      t === "dnat" &&
      at(1) === family &&
      at(2) === "to" &&
      at(3) === "numgen" &&
      at(4) === "random" &&
      at(5) === "mod" &&
      /^\d+$/.test(at(6)) &&
      at(7) === "offset" &&
      /^\d+$/.test(at(8)) &&
      at(9) === "map" &&
      at(10).startsWith("@") &&
      protocol !== undefined
    ) {
      // The number is drawn in host order; interval keys compare in network order.
      exprs.push(
        numgen(Number(at(6)), Number(at(8))),
        byteorderHton(4),
        lookupMap(at(10).slice(1)),
        dnatRegisters(family, REG_1, family === "ip" ? REG32_01 : REG_2),
      );
      i += 11;
      continue;
    }
    if (
      t === "update" &&
      at(1).startsWith("@") &&
      at(2) === "{" &&
      at(3) === family &&
      at(4) === "saddr" &&
      at(5) === "}"
    ) {
      exprs.push(payload(family === "ip" ? 12 : 8, family === "ip" ? 4 : 16), dynsetUpdate(at(1).slice(1)));
      i += 6;
      continue;
    }
    if (t === "dnat" && at(1) === "to" && protocol !== undefined) {
      const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(at(2));
      const ip = m?.[1] ?? "";
      if (m === null || isIP(ip) !== (family === "ip" ? 4 : 6)) return undefined;
      const port = Buffer.alloc(2);
      port.writeUInt16BE(Number(m[2]), 0);
      exprs.push(immediateValue(REG_1, addressBytes(ip, family)), immediateValue(REG_2, port), dnat(family));
      i += 3;
      continue;
    }
    if ((t === "jump" || t === "goto") && at(1) !== "") {
      exprs.push(immediateVerdict(t, at(1)));
      i += 2;
      continue;
    }
    if (t === "return" || t === "drop" || t === "accept") {
      exprs.push(immediateVerdict(t));
      i += 1;
      continue;
    }
    if (t === "comment" && /^".*"$/.test(at(1)) && i + 2 === tokens.length) {
      userdata = commentUserdata(at(1).slice(1, -1));
      i += 2;
      continue;
    }
    return undefined;
  }
  return { expressions: nest(4 /* NFTA_RULE_EXPRESSIONS */, exprs), userdata };
}

/** nft's user data TLV holding a comment (rules and set elements use the same layout). */
export function commentUserdata(comment: string): Buffer {
  const text = Buffer.concat([Buffer.from(comment, "utf8"), Buffer.alloc(1)]);
  return Buffer.concat([Buffer.from([UDATA_COMMENT, text.length]), text]);
}

/** The bytes of an address in network order. */
export function addressBytes(ip: string, family: "ip" | "ip6"): Buffer {
  const width = family === "ip" ? 4 : 16;
  const out = Buffer.alloc(width);
  let v = ipToBigInt(ip);
  for (let k = width - 1; k >= 0; k--) {
    out[k] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** A verdict as nested `NFTA_DATA_VERDICT` (for immediates and verdict-map elements). */
export function verdictData(kind: string, chain?: string): Buffer | undefined {
  const code = verdictCodes[kind];
  if (code === undefined) return undefined;
  const parts = [be32Attr(NFTA_VERDICT_CODE, code)];
  if (chain !== undefined) parts.push(strAttr(NFTA_VERDICT_CHAIN, chain));
  return nest(NFTA_DATA_VERDICT, parts);
}

function addressMatch(
  value: string,
  family: "ip" | "ip6",
  offset: number,
  addrLen: number,
  negate: boolean,
): Buffer[] | undefined {
  const [ip = "", prefixText] = value.split("/");
  if (isIP(ip) !== (family === "ip" ? 4 : 6)) return undefined;
  const prefix = prefixText === undefined ? addrLen * 8 : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 1 || prefix > addrLen * 8) return undefined;
  const bytes = addressBytes(ip, family);
  const op = negate ? CMP_NEQ : CMP_EQ;
  // Like nft: a whole-byte prefix loads only those bytes; another prefix is masked.
  if (prefix % 8 === 0) return [payload(offset, prefix / 8), cmp(op, bytes.subarray(0, prefix / 8))];
  const mask = Buffer.alloc(addrLen);
  for (let b = 0; b < prefix; b++) mask[b >> 3] = (mask[b >> 3] ?? 0) | (0x80 >> (b & 7));
  const masked = Buffer.from(bytes.map((x, k) => x & (mask[k] ?? 0)));
  return [payload(offset, addrLen), bitwise(addrLen, mask), cmp(op, masked)];
}

function expr(name: string, data: readonly Buffer[]): Buffer {
  return nest(NFTA_LIST_ELEM, [strAttr(NFTA_EXPR_NAME, name), nest(NFTA_EXPR_DATA, data)]);
}

function dataValue(type: number, value: Buffer): Buffer {
  return nest(type, [attr(NFTA_DATA_VALUE, value)]);
}

function hostU32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v, 0);
  return b;
}

function payload(offset: number, len: number): Buffer {
  // NFTA_PAYLOAD_DREG 1, BASE 2, OFFSET 3, LEN 4
  return expr("payload", [
    be32Attr(1, REG_1),
    be32Attr(2, PAYLOAD_NETWORK),
    be32Attr(3, offset),
    be32Attr(4, len),
  ]);
}

function cmp(op: number, value: Buffer): Buffer {
  // NFTA_CMP_SREG 1, OP 2, DATA 3
  return expr("cmp", [be32Attr(1, REG_1), be32Attr(2, op), dataValue(3, value)]);
}

function bitwise(len: number, mask: Buffer): Buffer {
  // NFTA_BITWISE_SREG 1, DREG 2, LEN 3, MASK 4, XOR 5
  return expr("bitwise", [
    be32Attr(1, REG_1),
    be32Attr(2, REG_1),
    be32Attr(3, len),
    dataValue(4, mask),
    dataValue(5, Buffer.alloc(len)),
  ]);
}

function lookup(set: string): Buffer {
  // NFTA_LOOKUP_SET 1, SREG 2
  return expr("lookup", [strAttr(1, set), be32Attr(2, REG_1)]);
}

function meta(key: number): Buffer {
  // NFTA_META_DREG 1, KEY 2
  return expr("meta", [be32Attr(2, key), be32Attr(1, REG_1)]);
}

function fib(): Buffer {
  // NFTA_FIB_DREG 1, RESULT 2, FLAGS 3
  return expr("fib", [be32Attr(1, REG_1), be32Attr(2, FIB_RESULT_ADDRTYPE), be32Attr(3, FIB_F_SADDR)]);
}

function numgen(modulus: number, offset: number): Buffer {
  // NFTA_NG_DREG 1, MODULUS 2, TYPE 3, OFFSET 4
  return expr("numgen", [
    be32Attr(1, REG_1),
    be32Attr(2, modulus),
    be32Attr(3, NG_RANDOM),
    be32Attr(4, offset),
  ]);
}

function byteorderHton(size: number): Buffer {
  // NFTA_BYTEORDER_SREG 1, DREG 2, OP 3, LEN 4, SIZE 5
  return expr("byteorder", [
    be32Attr(1, REG_1),
    be32Attr(2, REG_1),
    be32Attr(3, BYTEORDER_HTON),
    be32Attr(4, size),
    be32Attr(5, size),
  ]);
}

function lookupMap(set: string): Buffer {
  // NFTA_LOOKUP_SET 1, SREG 2, DREG 3: the map's data replaces the key in register 1.
  return expr("lookup", [strAttr(1, set), be32Attr(2, REG_1), be32Attr(3, REG_1)]);
}

function dnatRegisters(family: "ip" | "ip6", addrReg: number, protoReg: number): Buffer {
  // NFTA_NAT_TYPE 1, FAMILY 2, REG_ADDR_MIN 3, REG_PROTO_MIN 5, FLAGS 7 (the kernel adds MAP_IPS)
  return expr("nat", [
    be32Attr(1, NAT_DNAT),
    be32Attr(2, family === "ip" ? 2 : 10),
    be32Attr(3, addrReg),
    be32Attr(5, protoReg),
    be32Attr(7, NAT_RANGE_PROTO_SPECIFIED),
  ]);
}

function dynsetUpdate(set: string): Buffer {
  // NFTA_DYNSET_SET_NAME 1, OP 3, SREG_KEY 4
  return expr("dynset", [strAttr(1, set), be32Attr(3, DYNSET_OP_UPDATE), be32Attr(4, REG_1)]);
}

function immediateValue(reg: number, value: Buffer): Buffer {
  // NFTA_IMMEDIATE_DREG 1, DATA 2
  return expr("immediate", [be32Attr(1, reg), dataValue(2, value)]);
}

function immediateVerdict(kind: string, chain?: string): Buffer {
  const data = verdictData(kind, chain);
  return expr("immediate", [be32Attr(1, REG_VERDICT), nest(2, data === undefined ? [] : [data])]);
}

function dnat(family: "ip" | "ip6"): Buffer {
  return dnatRegisters(family, REG_1, REG_2);
}
