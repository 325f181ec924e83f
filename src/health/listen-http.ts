import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ProxyError, UsageError } from "../errors.ts";

/** Splits `host:port` / `[v6]:port`; throws UsageError when malformed. */
export function parseListenAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(address);
  const port = Number(m?.[3]);
  if (m === null || port > 65535) {
    throw new UsageError(
      `Cannot listen on ${JSON.stringify(address)}: expected IP:PORT such as 127.0.0.1:10256`,
    );
  }
  return { host: m[1] ?? m[2] ?? "", port };
}

/** `host:port` of a listening server, IPv6 in brackets. */
export function formatAddress(info: AddressInfo): string {
  return info.family === "IPv6" ? `[${info.address}]:${info.port}` : `${info.address}:${info.port}`;
}

/** Starts `server` on `address` (`host:port`, port 0 = any); resolves with the bound `host:port`. */
export function listenHttp(server: Server, address: string): Promise<string> {
  const { host, port } = parseListenAddress(address);
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        new ProxyError("KPROXY_LISTEN_FAILED", `Cannot listen on ${address}: ${err.code ?? err.message}`, {
          cause: err,
        }),
      );
    };
    server.once("error", onError);
    server.listen({ host: host === "" ? undefined : host, port }, () => {
      server.off("error", onError);
      resolve(formatAddress(server.address() as AddressInfo));
    });
  });
}

/** Closes a server and every open connection (keep-alive clients must not hold shutdown up). */
export function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
