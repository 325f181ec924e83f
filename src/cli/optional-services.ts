import type { KubeConfig } from "@kubernetes/client-node";
import type { Registry } from "prom-client";
import type { Logger } from "../sys/logger.ts";

// The manifest applier and the DNS server are built by other helpers in parallel. They are loaded
// on demand, typed here after CONTRACTS.md, so that `kproxy run` works without them until asked for.

/** `.ts` when running the sources, `.js` when running the compiled `dist/`. */
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

/** `startDnsServer` options (CONTRACTS.md, dns → runtime). */
export interface DnsServerOptions {
  kubeConfig: KubeConfig;
  bindAddress: string;
  clusterDomain: string;
  ttlSeconds: number;
  upstreams: readonly string[];
  pods: "disabled" | "insecure" | "verified";
  endpointPodNames: boolean;
  externalNameIPs: boolean;
  logger: Logger;
  metrics: Registry;
}

/** A running DNS server. */
export interface DnsServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the cluster DNS server (`src/dns/dns-server.ts`). */
export async function startOptionalDns(options: DnsServerOptions): Promise<DnsServer> {
  const specifier = `../dns/dns-server${ext}`;
  const mod = (await import(specifier)) as { startDnsServer(o: DnsServerOptions): Promise<DnsServer> };
  return mod.startDnsServer(options);
}

/** Applies manifests to the embedded API server and re-applies them on change (`src/apiserver/manifests.ts`). */
export async function startOptionalManifests(options: {
  url: string;
  token?: string;
  paths: readonly string[];
  logger: Logger;
}): Promise<{ close(): void }> {
  const specifier = `../apiserver/manifests${ext}`;
  const mod = (await import(specifier)) as {
    applyManifests(o: {
      url: string;
      token?: string;
      paths: readonly string[];
      watch: boolean;
      logger: Logger;
    }): Promise<{ close(): void }>;
  };
  return mod.applyManifests({ ...options, watch: true });
}
