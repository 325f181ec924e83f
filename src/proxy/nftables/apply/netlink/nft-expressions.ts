import { attr, be32Attr, nest, strAttr } from "./netlink-attributes.ts";

/**
 * nf_tables expressions as netlink attributes, as `nft` encodes them (`nft --debug=netlink`), for
 * the rule shapes kproxy writes. Constants from linux/netfilter/nf_tables.h.
 */
const NFTA_LIST_ELEM = 1;
const NFTA_EXPR_NAME = 1;
const NFTA_EXPR_DATA = 2;
const NFTA_DATA_VALUE = 1;
const NFTA_DATA_VERDICT = 2;
const NFTA_VERDICT_CODE = 1;
const NFTA_VERDICT_CHAIN = 2;
const REG_VERDICT = 0;
export const REG_1 = 1;
export const REG_2 = 2;
/** 32-bit register 1: the second word of register 1 (where a map puts the port after an IPv4 address). */
export const REG32_01 = 9;
const PAYLOAD_NETWORK = 1;
export const CMP_EQ = 0;
export const CMP_NEQ = 1;
export const META_L4PROTO = 16;
const FIB_RESULT_ADDRTYPE = 3;
const FIB_F_SADDR = 1;
export const RTN_LOCAL = 2;
const NG_RANDOM = 1;
const NAT_DNAT = 1;
const NAT_RANGE_PROTO_SPECIFIED = 2;
const DYNSET_OP_UPDATE = 1;
const BYTEORDER_HTON = 1;

/** Verdict codes. */
export const verdictCodes: Readonly<Record<string, number>> = {
  drop: 0,
  accept: 1,
  jump: -3,
  goto: -4,
  return: -5,
};

/** A verdict as nested `NFTA_DATA_VERDICT` (for immediates and verdict-map elements). */
export function verdictData(kind: string, chain?: string): Buffer | undefined {
  const code = verdictCodes[kind];
  if (code === undefined) return undefined;
  const parts = [be32Attr(NFTA_VERDICT_CODE, code)];
  if (chain !== undefined) parts.push(strAttr(NFTA_VERDICT_CHAIN, chain));
  return nest(NFTA_DATA_VERDICT, parts);
}

export function expr(name: string, data: readonly Buffer[]): Buffer {
  return nest(NFTA_LIST_ELEM, [strAttr(NFTA_EXPR_NAME, name), nest(NFTA_EXPR_DATA, data)]);
}

export function dataValue(type: number, value: Buffer): Buffer {
  return nest(type, [attr(NFTA_DATA_VALUE, value)]);
}

export function hostU32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v, 0);
  return b;
}

export function payload(offset: number, len: number): Buffer {
  // NFTA_PAYLOAD_DREG 1, BASE 2, OFFSET 3, LEN 4
  return expr("payload", [
    be32Attr(1, REG_1),
    be32Attr(2, PAYLOAD_NETWORK),
    be32Attr(3, offset),
    be32Attr(4, len),
  ]);
}

export function cmp(op: number, value: Buffer): Buffer {
  // NFTA_CMP_SREG 1, OP 2, DATA 3
  return expr("cmp", [be32Attr(1, REG_1), be32Attr(2, op), dataValue(3, value)]);
}

export function bitwise(len: number, mask: Buffer): Buffer {
  // NFTA_BITWISE_SREG 1, DREG 2, LEN 3, MASK 4, XOR 5
  return expr("bitwise", [
    be32Attr(1, REG_1),
    be32Attr(2, REG_1),
    be32Attr(3, len),
    dataValue(4, mask),
    dataValue(5, Buffer.alloc(len)),
  ]);
}

export function lookup(set: string): Buffer {
  // NFTA_LOOKUP_SET 1, SREG 2
  return expr("lookup", [strAttr(1, set), be32Attr(2, REG_1)]);
}

export function meta(key: number): Buffer {
  // NFTA_META_DREG 1, KEY 2
  return expr("meta", [be32Attr(2, key), be32Attr(1, REG_1)]);
}

export function fib(): Buffer {
  // NFTA_FIB_DREG 1, RESULT 2, FLAGS 3
  return expr("fib", [be32Attr(1, REG_1), be32Attr(2, FIB_RESULT_ADDRTYPE), be32Attr(3, FIB_F_SADDR)]);
}

export function numgen(modulus: number, offset: number): Buffer {
  // NFTA_NG_DREG 1, MODULUS 2, TYPE 3, OFFSET 4
  return expr("numgen", [
    be32Attr(1, REG_1),
    be32Attr(2, modulus),
    be32Attr(3, NG_RANDOM),
    be32Attr(4, offset),
  ]);
}

export function byteorderHton(size: number): Buffer {
  // NFTA_BYTEORDER_SREG 1, DREG 2, OP 3, LEN 4, SIZE 5
  return expr("byteorder", [
    be32Attr(1, REG_1),
    be32Attr(2, REG_1),
    be32Attr(3, BYTEORDER_HTON),
    be32Attr(4, size),
    be32Attr(5, size),
  ]);
}

export function lookupMap(set: string): Buffer {
  // NFTA_LOOKUP_SET 1, SREG 2, DREG 3: the map's data replaces the key in register 1.
  return expr("lookup", [strAttr(1, set), be32Attr(2, REG_1), be32Attr(3, REG_1)]);
}

export function dnatRegisters(family: "ip" | "ip6", addrReg: number, protoReg: number): Buffer {
  // NFTA_NAT_TYPE 1, FAMILY 2, REG_ADDR_MIN 3, REG_PROTO_MIN 5, FLAGS 7 (the kernel adds MAP_IPS)
  return expr("nat", [
    be32Attr(1, NAT_DNAT),
    be32Attr(2, family === "ip" ? 2 : 10),
    be32Attr(3, addrReg),
    be32Attr(5, protoReg),
    be32Attr(7, NAT_RANGE_PROTO_SPECIFIED),
  ]);
}

export function dynsetUpdate(set: string): Buffer {
  // NFTA_DYNSET_SET_NAME 1, OP 3, SREG_KEY 4
  return expr("dynset", [strAttr(1, set), be32Attr(3, DYNSET_OP_UPDATE), be32Attr(4, REG_1)]);
}

export function immediateValue(reg: number, value: Buffer): Buffer {
  // NFTA_IMMEDIATE_DREG 1, DATA 2
  return expr("immediate", [be32Attr(1, reg), dataValue(2, value)]);
}

export function immediateVerdict(kind: string, chain?: string): Buffer {
  const data = verdictData(kind, chain);
  return expr("immediate", [be32Attr(1, REG_VERDICT), nest(2, data === undefined ? [] : [data])]);
}

export function dnat(family: "ip" | "ip6"): Buffer {
  return dnatRegisters(family, REG_1, REG_2);
}
