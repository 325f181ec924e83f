import { createSocket, type Socket } from "node:dgram";
import { isIP } from "node:net";
import { ProxyError } from "../errors.ts";
import type { Logger } from "../sys/logger.ts";
import type { HostPort } from "./dns-settings.ts";
import type { QueryHandler } from "./query-handler.ts";

/** A bound UDP DNS socket. */
export interface UdpListener {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves DNS over UDP on `bind`: every datagram goes to `handler`, and its reply (if any) back to
 * the sender. Synchronous replies are sent at once, so the common case never waits on a promise.
 */
export async function listenUdp(bind: HostPort, handler: QueryHandler, logger: Logger): Promise<UdpListener> {
  const socket: Socket = createSocket({
    type: isIP(bind.host) === 6 ? "udp6" : "udp4",
    // Bursts of queries (a Pod starting resolves several search-path names at once) must queue in
    // the kernel rather than be dropped; the kernel caps this at net.core.rmem_max.
    recvBufferSize: 4 * 1024 * 1024,
  });
  const send = (reply: Buffer | undefined, port: number, address: string): void => {
    if (reply === undefined) return;
    socket.send(reply, port, address, (err) => {
      if (err) logger.debug({ err: err.message, address, port }, "could not send DNS reply");
    });
  };
  socket.on("message", (msg, rinfo) => {
    const reply = handler(msg, "udp");
    if (reply instanceof Promise) void reply.then((r) => send(r, rinfo.port, rinfo.address));
    else send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        new ProxyError(
          "KPROXY_LISTEN_FAILED",
          `Cannot listen for DNS on udp ${bind.host}:${bind.port}: ${err.code ?? err.message}; use a free port or an address of this host`,
          { cause: err },
        ),
      );
    };
    socket.once("error", onError);
    socket.bind(bind.port, bind.host, () => {
      socket.off("error", onError);
      resolve();
    });
  });
  socket.on("error", (err) => logger.warn({ err: err.message }, "DNS UDP socket error"));
  return {
    port: socket.address().port,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
