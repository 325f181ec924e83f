import { createSocket } from "node:dgram";
import dnsPacket, { type DecodedPacket, type RecordType } from "dns-packet";
import { rcodeName } from "./reply-fields.ts";

/** A decoded reply with its response code, or `TIMEOUT`. */
export interface UdpReply {
  readonly rcode: string;
  readonly packet: DecodedPacket | undefined;
}

/**
 * Sends one query over UDP from a fresh socket and waits up to `timeoutMs` for the reply. Cheaper
 * than spawning dig, for tests that poll for a change or send many queries.
 */
export function askUdp(
  server: string,
  port: number,
  name: string,
  type: RecordType,
  timeoutMs = 1000,
): Promise<UdpReply> {
  return new Promise((resolve) => {
    const socket = createSocket(server.includes(":") ? "udp6" : "udp4");
    const id = Math.floor(Math.random() * 0x10000);
    const timer = setTimeout(() => finish({ rcode: "TIMEOUT", packet: undefined }), timeoutMs);
    function finish(reply: UdpReply): void {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    }
    socket.on("message", (msg) => {
      if (msg.length < 12 || msg.readUInt16BE(0) !== id) return;
      finish({ rcode: rcodeName(msg), packet: dnsPacket.decode(msg) });
    });
    socket.on("error", () => finish({ rcode: "TIMEOUT", packet: undefined }));
    socket.send(
      dnsPacket.encode({
        type: "query",
        id,
        flags: dnsPacket.RECURSION_DESIRED,
        questions: [{ name, type }],
      }),
      port,
      server,
    );
  });
}
