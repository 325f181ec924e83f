import { isIP } from "node:net";
import { ipToBigInt } from "../../../../model/ip.ts";
import { nest } from "./netlink-attributes.ts";
import {
  bitwise,
  byteorderHton,
  cmp,
  CMP_EQ,
  CMP_NEQ,
  dnat,
  dnatRegisters,
  dynsetUpdate,
  fib,
  hostU32,
  immediateValue,
  immediateVerdict,
  lookup,
  lookupMap,
  meta,
  META_L4PROTO,
  numgen,
  payload,
  REG_1,
  REG_2,
  REG32_01,
  RTN_LOCAL,
} from "./nft-expressions.ts";

const UDATA_COMMENT = 0;
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
