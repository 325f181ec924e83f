import { createServer, type Server, type Socket } from "node:net";
import { ProxyError } from "../errors.ts";
import type { Logger } from "../sys/logger.ts";
import type { HostPort } from "./dns-settings.ts";
import type { QueryHandler } from "./query-handler.ts";

/** A listening TCP DNS server. */
export interface TcpListener {
  readonly port: number;
  close(): Promise<void>;
}

/** How long an idle connection stays open (RFC 7766 suggests seconds; CoreDNS uses 10 s). */
const idleTimeoutMs = 10_000;

/** Unread reply bytes a connection may queue before it is closed. */
const maxUnreadBytes = 1024 * 1024;

/**
 * Serves DNS over TCP (RFC 7766): length-prefixed messages, several per connection, answered in
 * the order they arrive. A message that is not a query is dropped (and counted by the handler)
 * without closing the connection.
 */
export async function listenTcp(bind: HostPort, handler: QueryHandler, logger: Logger): Promise<TcpListener> {
  const connections = new Set<Socket>();
  const server: Server = createServer((socket) => {
    connections.add(socket);
    socket.setTimeout(idleTimeoutMs, () => socket.destroy());
    socket.on("close", () => connections.delete(socket));
    socket.on("error", () => socket.destroy());
    let buffered: Buffer = Buffer.alloc(0);
    // Replies go out in query order even when a later query is answered first.
    let queue: Promise<void> = Promise.resolve();
    socket.on("data", (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) break;
        const message = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        const reply = handler(message, "tcp");
        queue = queue.then(async () => {
          const r = await reply;
          if (r === undefined || socket.destroyed) return;
          const frame = Buffer.allocUnsafe(2 + r.length);
          frame.writeUInt16BE(r.length, 0);
          r.copy(frame, 2);
          socket.write(frame);
          // A client that sends queries but never reads its answers must not grow our memory.
          if (socket.writableLength > maxUnreadBytes) socket.destroy();
        });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        new ProxyError(
          "KPROXY_LISTEN_FAILED",
          `Cannot listen for DNS on tcp ${bind.host}:${bind.port}: ${err.code ?? err.message}; use a free port or an address of this host`,
          { cause: err },
        ),
      );
    };
    server.once("error", onError);
    server.listen({ port: bind.port, host: bind.host, exclusive: true }, () => {
      server.off("error", onError);
      resolve();
    });
  });
  server.on("error", (err) => logger.warn({ err: err.message }, "DNS TCP server error"));
  const address = server.address();
  return {
    port: typeof address === "object" && address !== null ? address.port : bind.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.destroy();
        server.close(() => resolve());
      }),
  };
}
