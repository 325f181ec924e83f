import type { Answer } from "dns-packet";

const rcodes = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

/** The response code of a raw DNS message, by name (dns-packet's types omit the decoded field). */
export function rcodeName(message: Buffer): string {
  const code = message.readUInt16BE(2) & 0xf;
  return rcodes[code] ?? `RCODE_${code}`;
}

/** The data of any record (OPT pseudo-records have none). */
export function answerData(answer: Answer | undefined): unknown {
  return answer !== undefined && "data" in answer ? answer.data : undefined;
}

/** The TTL of any record (undefined for OPT). */
export function answerTtl(answer: Answer | undefined): number | undefined {
  return answer !== undefined && "ttl" in answer ? answer.ttl : undefined;
}
