import dnsPacket, { type Answer, type DecodedPacket, type Question } from "dns-packet";

/** Header flag bits (RFC 1035 §4.1.1). */
export const flagQR = 0x8000;
export const flagAA = 0x0400;
export const flagTC = 0x0200;
export const flagRD = 0x0100;
export const flagRA = 0x0080;
export const flagCD = 0x0010;

/** The UDP payload size kproxy advertises with EDNS0: the value DNS flag day 2020 settled on. */
export const advertisedUdpSize = 1232;

/** Response codes kproxy sends. */
export type Rcode = "NOERROR" | "FORMERR" | "SERVFAIL" | "NXDOMAIN" | "NOTIMP" | "REFUSED";

const rcodeValues: Record<Rcode, number> = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
};

/** A standard query with exactly one question, as decoded from the wire. */
export interface DnsQuery {
  readonly id: number;
  /** Raw header flags of the query. */
  readonly flags: number;
  readonly question: Question;
  /** The client's EDNS0 UDP payload size, when it sent an OPT record. */
  readonly ednsUdpSize: number | undefined;
}

/**
 * How a packet reads: a query to answer, a packet to drop (not DNS, or a response — answering those
 * could start a loop between servers), or one to refuse with a ready reply (another opcode, or not
 * exactly one question).
 */
export type ParsedPacket =
  | { readonly kind: "query"; readonly query: DnsQuery }
  | { readonly kind: "malformed" }
  | { readonly kind: "reject"; readonly rcode: Rcode; readonly reply: Buffer };

/**
 * Decodes a packet; never throws. The header is checked before anything else is decoded, so that a
 * packet claiming thousands of records costs no more than a valid one.
 */
export function parsePacket(buf: Buffer): ParsedPacket {
  if (buf.length < 12) return { kind: "malformed" };
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if ((flags & flagQR) !== 0) return { kind: "malformed" };
  const opcode = (flags >> 11) & 0xf;
  if (opcode !== 0) return reject(id, flags, "NOTIMP");
  // A standard query has one question, no answer or authority records, and at most a few
  // additional ones (OPT, maybe a TSIG or cookie-bearing record).
  const counts = [buf.readUInt16BE(4), buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)];
  if (counts[0] !== 1 || counts[1] !== 0 || counts[2] !== 0 || (counts[3] ?? 0) > 4) {
    return reject(id, flags, "FORMERR");
  }
  if (!plainQuestionName(buf)) return { kind: "malformed" };
  let packet: DecodedPacket;
  try {
    packet = dnsPacket.decode(buf);
  } catch {
    return { kind: "malformed" };
  }
  const question = packet.questions?.[0];
  if (question === undefined) return { kind: "malformed" };
  const opt = (packet.additionals ?? []).find((a) => a.type === "OPT");
  const ednsUdpSize = opt !== undefined && "udpPayloadSize" in opt ? opt.udpPayloadSize : undefined;
  return { kind: "query", query: { id, flags, question, ednsUdpSize } };
}

/**
 * True when the first question's name is plain labels of printable ASCII other than `.`, with no
 * compression pointer: only such a name survives dns-packet's decode and re-encode byte for byte,
 * so that the echoed question matches what the client sent (non-ASCII bytes would come back as
 * longer UTF-8 replacement characters, making labels over 63 bytes).
 */
function plainQuestionName(buf: Buffer): boolean {
  let at = 12;
  for (let total = 0; at < buf.length;) {
    const len = buf[at] ?? 0;
    if (len === 0) return true;
    if (len > 63 || at + 1 + len > buf.length) return false;
    total += len + 1;
    if (total > 254) return false;
    for (let i = at + 1; i <= at + len; i++) {
      const c = buf[i] ?? 0;
      if (c < 0x20 || c > 0x7e || c === 0x2e) return false;
    }
    at += 1 + len;
  }
  return false;
}

/** A header-only reply: the question is not echoed, as it may be what was wrong. */
function reject(id: number, flags: number, rcode: Rcode): ParsedPacket {
  const reply = Buffer.alloc(12);
  reply.writeUInt16BE(id, 0);
  reply.writeUInt16BE(flagQR | (flags & (0x7800 | flagRD)) | rcodeValues[rcode], 2);
  return { kind: "reject", rcode, reply };
}

/** Largest reply a client accepts over UDP: 512 bytes, or its EDNS0 size (RFC 6891). */
export function udpLimit(query: DnsQuery): number {
  return query.ednsUdpSize === undefined ? 512 : Math.max(512, query.ednsUdpSize);
}

/** Sections and flags of a reply to build. */
export interface ReplyContent {
  readonly rcode: Rcode;
  readonly authoritative: boolean;
  readonly answers?: Answer[];
  readonly authorities?: Answer[];
  readonly additionals?: Answer[];
}

/**
 * Encodes the reply to `query`. When it would exceed `maxSize`, sends the header and question
 * alone with TC set, so that the client asks again over TCP (RFC 7766).
 */
export function encodeReply(query: DnsQuery, content: ReplyContent, maxSize: number): Buffer {
  const flags =
    (query.flags & (0x7800 | flagRD | flagCD)) |
    flagRA |
    (content.authoritative ? flagAA : 0) |
    rcodeValues[content.rcode];
  const opt = optRecord(query);
  const full = dnsPacket.encode({
    type: "response",
    id: query.id,
    flags,
    questions: [query.question],
    answers: content.answers ?? [],
    authorities: content.authorities ?? [],
    additionals: [...(content.additionals ?? []), ...opt],
  });
  if (full.length <= maxSize) return full;
  return dnsPacket.encode({
    type: "response",
    id: query.id,
    flags: flags | flagTC,
    questions: [query.question],
    additionals: opt,
  });
}

/**
 * Adapts an upstream resolver's reply to the client: the client's ID, and when it exceeds `maxSize`,
 * the upstream's header flags with TC and the question alone.
 */
export function relayReply(query: DnsQuery, upstream: Buffer, maxSize: number): Buffer {
  if (upstream.length <= maxSize) {
    const out = Buffer.from(upstream);
    out.writeUInt16BE(query.id, 0);
    return out;
  }
  return dnsPacket.encode({
    type: "response",
    id: query.id,
    flags: (upstream.readUInt16BE(2) & 0x7fff) | flagTC,
    questions: [query.question],
    additionals: optRecord(query),
  });
}

/** Encodes a new query (for chasing a CNAME upstream). */
export function encodeQuery(id: number, question: Question): Buffer {
  return dnsPacket.encode({ type: "query", id, flags: flagRD, questions: [question] });
}

function optRecord(query: DnsQuery): Answer[] {
  if (query.ednsUdpSize === undefined) return [];
  return [
    {
      name: ".",
      type: "OPT",
      udpPayloadSize: advertisedUdpSize,
      extendedRcode: 0,
      ednsVersion: 0,
      flags: 0,
      flag_do: false,
      options: [],
    },
  ];
}
