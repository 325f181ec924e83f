/** Netlink attribute encoding (`struct nlattr`: u16 length, u16 type, payload padded to 4 bytes). */

/** Marks an attribute whose payload is more attributes. */
const NLA_F_NESTED = 0x8000;

/** One attribute with a raw payload. */
export function attr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const out = Buffer.alloc(align4(len));
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}

/** A NUL-terminated string attribute. */
export function strAttr(type: number, value: string): Buffer {
  return attr(type, Buffer.concat([Buffer.from(value, "utf8"), Buffer.alloc(1)]));
}

/** A big-endian 32-bit attribute (nf_tables sends its integers in network order). */
export function be32Attr(type: number, value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(value | 0, 0);
  return attr(type, b);
}

/** A nested attribute. */
export function nest(type: number, children: readonly Buffer[]): Buffer {
  return attr(type | NLA_F_NESTED, Buffer.concat(children));
}

export function align4(n: number): number {
  return (n + 3) & ~3;
}

/** nlmsghdr + nfgenmsg + attributes. */
export function nfMessage(options: {
  type: number;
  flags: number;
  seq: number;
  family: number;
  resId?: number;
  attrs: readonly Buffer[];
}): Buffer {
  const body = Buffer.concat(options.attrs);
  const out = Buffer.alloc(16 + 4 + body.length);
  out.writeUInt32LE(out.length, 0);
  out.writeUInt16LE(options.type, 4);
  out.writeUInt16LE(options.flags, 6);
  out.writeUInt32LE(options.seq, 8);
  out.writeUInt32LE(0, 12);
  out.writeUInt8(options.family, 16);
  out.writeUInt8(0, 17);
  out.writeUInt16BE(options.resId ?? 0, 18);
  body.copy(out, 20);
  return out;
}
