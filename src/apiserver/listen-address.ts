import { isIP } from "node:net";
import { UsageError } from "../errors.ts";

/** A parsed `host:port`. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Parses `127.0.0.1:6443`, `[::1]:6443` or `:6443` (all addresses); throws UsageError. */
export function parseListenAddress(text: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(text.trim());
  const host = m?.[1] ?? m?.[2] ?? "";
  const port = Number(m?.[3]);
  if (
    m === null ||
    !(port >= 0 && port <= 65535) ||
    (host !== "" && host !== "localhost" && isIP(host) === 0)
  ) {
    throw new UsageError(
      `Cannot listen on ${JSON.stringify(text)}: expected ADDRESS:PORT, e.g. 127.0.0.1:6443 or [::1]:6443`,
    );
  }
  return { host: host === "" ? "0.0.0.0" : host, port };
}

/** True for loopback addresses (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  return (
    host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host) || host === "::ffff:127.0.0.1"
  );
}

/** `host:port` as it appears in a URL (IPv6 in brackets). */
export function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
