import { isIP } from "node:net";
import type { FieldProblem } from "../errors.ts";
import { isValidDomain } from "./dns-name.ts";

/** Which pod records (`a-b-c-d.<ns>.pod.<zone>`) are served, as CoreDNS's `pods` option. */
export type PodRecordMode = "disabled" | "insecure" | "verified";

export const podRecordModes: readonly PodRecordMode[] = ["disabled", "insecure", "verified"];

/** Largest TTL kproxy accepts, in seconds (CoreDNS's limit). */
export const maxTtlSeconds = 3600;

/** A host and port, e.g. from `127.0.0.1:53` or `[fd00::10]:53`. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `ADDR:PORT`, `[IPv6]:PORT`, or (when `defaultPort` is given) a bare `ADDR` / IPv6 address.
 * The address must be an IP; undefined when malformed.
 */
export function parseHostPort(text: string, defaultPort?: number): HostPort | undefined {
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] ?? "";
    portText = bracketed[2];
  } else if (isIP(text) !== 0) {
    host = text;
  } else {
    const colon = text.lastIndexOf(":");
    if (colon < 0) return undefined;
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
  }
  if (isIP(host) === 0) return undefined;
  if (portText === undefined) return defaultPort === undefined ? undefined : { host, port: defaultPort };
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  return port <= 65535 ? { host, port } : undefined;
}

/** Formats a HostPort back as `ADDR:PORT` (brackets around IPv6). */
export function formatHostPort(hp: HostPort): string {
  return isIP(hp.host) === 6 ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** The settings of the DNS server that a user types, before they become server options. */
export interface DnsSettings {
  readonly bindAddress: string;
  readonly clusterDomain: string;
  readonly ttlSeconds: number;
  readonly upstreams: readonly string[];
  readonly pods: string;
}

/**
 * Checks every DNS setting and returns all problems at once. `fields` names each setting as the
 * caller shows it (a flag such as `--ttl`, or a config path such as `dns.ttlSeconds`).
 */
export function validateDnsSettings(
  settings: DnsSettings,
  fields: Partial<Record<keyof DnsSettings, string>> = {},
): FieldProblem[] {
  const name = (k: keyof DnsSettings): string => fields[k] ?? k;
  const problems: FieldProblem[] = [];
  if (parseHostPort(settings.bindAddress) === undefined) {
    problems.push({
      field: name("bindAddress"),
      message: `must be an IP address and port, got ${JSON.stringify(settings.bindAddress)}`,
      example: "0.0.0.0:53",
    });
  }
  if (!isValidDomain(settings.clusterDomain)) {
    problems.push({
      field: name("clusterDomain"),
      message: `must be a domain name (dot-separated labels of a-z, 0-9 and inner dashes), got ${JSON.stringify(settings.clusterDomain)}`,
      example: "cluster.local",
    });
  }
  const ttl = settings.ttlSeconds;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > maxTtlSeconds) {
    problems.push({
      field: name("ttlSeconds"),
      message: `must be a whole number of seconds from 0 to ${maxTtlSeconds}, got ${String(ttl)}`,
      example: "5",
    });
  }
  settings.upstreams.forEach((u, i) => {
    if (parseHostPort(u, 53) === undefined) {
      problems.push({
        field: `${name("upstreams")}[${i}]`,
        message: `must be an IP address with an optional port, got ${JSON.stringify(u)}`,
        example: "10.0.0.2:53",
      });
    }
  });
  if (!(podRecordModes as readonly string[]).includes(settings.pods)) {
    problems.push({
      field: name("pods"),
      message: `must be one of ${podRecordModes.join(", ")}, got ${JSON.stringify(settings.pods)}`,
      example: "disabled",
    });
  }
  return problems;
}
