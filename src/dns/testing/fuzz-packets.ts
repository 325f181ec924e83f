import dnsPacket, { type RecordType } from "dns-packet";
import { seededRandom } from "../../sys/seeded-random.ts";

const names = [
  "web.default.svc.cluster.local",
  "_http._tcp.web.default.svc.cluster.local",
  "db.apps.svc.cluster.local",
  "10-1-0-1.apps.pod.cluster.local",
  "10.0.96.10.in-addr.arpa",
  "cluster.local",
  "example.test",
];
const types: RecordType[] = ["A", "AAAA", "SRV", "PTR", "TXT", "SOA", "NS", "CNAME", "OPT"];

/** A well-formed query to mutate. */
function baseQuery(rand: () => number): Buffer {
  const name = names[Math.floor(rand() * names.length)] ?? "cluster.local";
  const type = types[Math.floor(rand() * types.length)] ?? "A";
  const edns = rand() < 0.5;
  return dnsPacket.encode({
    type: "query",
    id: Math.floor(rand() * 0x10000),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type }],
    ...(edns
      ? {
          additionals: [
            {
              name: ".",
              type: "OPT",
              udpPayloadSize: Math.floor(rand() * 0x10000),
              extendedRcode: 0,
              ednsVersion: Math.floor(rand() * 3),
              flags: 0,
              flag_do: false,
              options: [],
            },
          ],
        }
      : {}),
  });
}

/**
 * `count` hostile packets: truncations of valid queries at every length, bit flips, random bytes,
 * forged section counts, self-referencing compression pointers, responses, other opcodes, and
 * oversized labels. Deterministic for a seed.
 */
export function fuzzPackets(count: number, seed = 1): Buffer[] {
  const rand = seededRandom(seed);
  const out: Buffer[] = [];
  while (out.length < count) {
    const q = baseQuery(rand);
    switch (Math.floor(rand() * 8)) {
      case 0:
        out.push(q.subarray(0, Math.floor(rand() * q.length)));
        break;
      case 1: {
        const m = Buffer.from(q);
        for (let i = 0; i < 1 + rand() * 6; i++) {
          const at = Math.floor(rand() * m.length);
          m[at] = (m[at] ?? 0) ^ (1 << Math.floor(rand() * 8));
        }
        out.push(m);
        break;
      }
      case 2:
        out.push(
          Buffer.from(Array.from({ length: Math.floor(rand() * 600) }, () => Math.floor(rand() * 256))),
        );
        break;
      case 3: {
        const m = Buffer.from(q);
        // Claim up to 65535 records in a section that holds none.
        m.writeUInt16BE(Math.floor(rand() * 0x10000), 4 + 2 * Math.floor(rand() * 4));
        out.push(m);
        break;
      }
      case 4: {
        // A name that is a compression pointer to itself.
        const m = Buffer.alloc(18);
        m.writeUInt16BE(7, 0);
        m.writeUInt16BE(1, 4);
        m.writeUInt16BE(0xc00c, 12);
        m.writeUInt16BE(1, 14);
        m.writeUInt16BE(1, 16);
        out.push(m);
        break;
      }
      case 5: {
        const m = Buffer.from(q);
        m.writeUInt16BE(m.readUInt16BE(2) | 0x8000, 2);
        out.push(m);
        break;
      }
      case 6: {
        const m = Buffer.from(q);
        m.writeUInt16BE((m.readUInt16BE(2) & 0x87ff) | (Math.floor(rand() * 16) << 11), 2);
        out.push(m);
        break;
      }
      default: {
        // One label claiming 63 bytes of high-bit garbage (not valid UTF-8), then junk.
        const label = Buffer.from(Array.from({ length: 63 }, () => 0x80 + Math.floor(rand() * 128)));
        out.push(Buffer.concat([q.subarray(0, 12), Buffer.from([63]), label, Buffer.from([0, 0, 1, 0, 1])]));
      }
    }
  }
  return out;
}
