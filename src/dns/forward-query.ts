import { randomInt } from "node:crypto";
import { createSocket } from "node:dgram";
import { isIP, connect } from "node:net";
import { flagQR, flagTC } from "./dns-message.ts";
import type { HostPort } from "./dns-settings.ts";

/** Why forwarding failed, for logs and metrics. */
export type ForwardFailure = "timeout" | "refused" | "error" | "no-upstream";

/** The outcome of forwarding one query. */
export type ForwardResult =
  | { readonly ok: true; readonly reply: Buffer; readonly upstream: HostPort }
  | { readonly ok: false; readonly failure: ForwardFailure };

/**
 * Sends a query to the upstream resolvers in order until one answers with something other than
 * SERVFAIL/REFUSED: over UDP from a fresh socket (a random source port and ID per query, so that
 * off-path spoofing needs to guess both), and again over TCP when the UDP reply is truncated.
 * Each upstream gets `timeoutMs`. The reply carries the query's original ID.
 */
export async function forwardQuery(
  query: Buffer,
  upstreams: readonly HostPort[],
  options: { readonly timeoutMs: number },
): Promise<ForwardResult> {
  if (upstreams.length === 0) return { ok: false, failure: "no-upstream" };
  const originalId = query.readUInt16BE(0);
  let last: ForwardResult = { ok: false, failure: "error" };
  for (const upstream of upstreams) {
    const id = randomInt(0, 0x10000);
    const sent = Buffer.from(query);
    sent.writeUInt16BE(id, 0);
    let reply = await exchangeUdp(sent, upstream, options.timeoutMs);
    if (typeof reply !== "string" && (reply.readUInt16BE(2) & flagTC) !== 0) {
      reply = await exchangeTcp(sent, upstream, options.timeoutMs);
    }
    if (typeof reply === "string") {
      last = { ok: false, failure: reply };
      continue;
    }
    reply.writeUInt16BE(originalId, 0);
    last = { ok: true, reply, upstream };
    const rcode = reply.readUInt16BE(2) & 0xf;
    // SERVFAIL (2) and REFUSED (5) say "ask someone else"; any other answer is final.
    if (rcode !== 2 && rcode !== 5) return last;
  }
  return last;
}

function isReplyTo(sent: Buffer, reply: Buffer): boolean {
  return (
    reply.length >= 12 &&
    reply.readUInt16BE(0) === sent.readUInt16BE(0) &&
    (reply.readUInt16BE(2) & flagQR) !== 0
  );
}

function exchangeUdp(sent: Buffer, upstream: HostPort, timeoutMs: number): Promise<Buffer | ForwardFailure> {
  return new Promise((resolve) => {
    const socket = createSocket(isIP(upstream.host) === 6 ? "udp6" : "udp4");
    let done = false;
    const finish = (result: Buffer | ForwardFailure): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      resolve(result);
    };
    const timer = setTimeout(() => finish("timeout"), timeoutMs);
    socket.on("error", (err: NodeJS.ErrnoException) =>
      finish(err.code === "ECONNREFUSED" ? "refused" : "error"),
    );
    // Connected, so that the kernel drops datagrams from other sources and reports ICMP
    // port-unreachable as ECONNREFUSED instead of leaving us to time out.
    socket.on("message", (msg) => {
      if (isReplyTo(sent, msg)) finish(msg);
    });
    socket.connect(upstream.port, upstream.host, () => {
      socket.send(sent, (err) => {
        if (err) finish((err as NodeJS.ErrnoException).code === "ECONNREFUSED" ? "refused" : "error");
      });
    });
  });
}

function exchangeTcp(sent: Buffer, upstream: HostPort, timeoutMs: number): Promise<Buffer | ForwardFailure> {
  return new Promise((resolve) => {
    const socket = connect({ host: upstream.host, port: upstream.port });
    let buffered: Buffer = Buffer.alloc(0);
    let done = false;
    const finish = (result: Buffer | ForwardFailure): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish("timeout"), timeoutMs);
    socket.on("error", (err: NodeJS.ErrnoException) =>
      finish(err.code === "ECONNREFUSED" ? "refused" : "error"),
    );
    socket.on("close", () => finish("error"));
    socket.on("connect", () => {
      const frame = Buffer.alloc(2 + sent.length);
      frame.writeUInt16BE(sent.length, 0);
      sent.copy(frame, 2);
      socket.write(frame);
    });
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2) return;
      const length = buffered.readUInt16BE(0);
      if (buffered.length < 2 + length) return;
      const reply = buffered.subarray(2, 2 + length);
      finish(isReplyTo(sent, reply) ? Buffer.from(reply) : "error");
    });
  });
}
