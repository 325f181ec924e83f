import type { KubeConfig } from "@kubernetes/client-node";
import type { Registry } from "prom-client";
import { errorMessage, ValidationError } from "../errors.ts";
import type { Logger } from "../sys/logger.ts";
import { DnsIndex } from "./dns-index.ts";
import { createDnsMetrics } from "./dns-metrics.ts";
import { normalizeName } from "./dns-name.ts";
import { parseHostPort, validateDnsSettings, type HostPort, type PodRecordMode } from "./dns-settings.ts";
import { createDnsSources } from "./dns-sources.ts";
import { createQueryHandler } from "./query-handler.ts";
import { resolvConfNameservers } from "./resolv-conf.ts";
import { listenTcp, type TcpListener } from "./tcp-listener.ts";
import { listenUdp, type UdpListener } from "./udp-listener.ts";

export interface DnsServerOptions {
  readonly kubeConfig: KubeConfig;
  /** `ADDR:PORT` for both UDP and TCP; port 0 picks a free port (the same for both). */
  readonly bindAddress: string;
  /** The cluster zone, e.g. `cluster.local`. */
  readonly clusterDomain: string;
  /** TTL of every record and the SOA's negative-caching minimum, 0..3600 s. */
  readonly ttlSeconds: number;
  /** Resolvers for names outside the zone (`ADDR[:PORT]`); empty means those in /etc/resolv.conf. */
  readonly upstreams: readonly string[];
  readonly pods: PodRecordMode;
  readonly endpointPodNames: boolean;
  readonly externalNameIPs: boolean;
  readonly logger: Logger;
  readonly metrics: Registry;
  /** How long each upstream gets to answer before the next is tried (default 2000 ms). */
  readonly upstreamTimeoutMs?: number;
  /** Where default upstreams come from (default `/etc/resolv.conf`). */
  readonly resolvConfPath?: string;
}

export interface DnsServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts the cluster DNS server: informers over Services, EndpointSlices, Namespaces (and Pods for
 * `pods: verified`) feed a precomputed answer index; UDP and TCP listeners answer the zone from it
 * and forward everything else upstream. Resolves once both listeners are bound — before the
 * informers have synced; until then cluster names get SERVFAIL.
 */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const problems = validateDnsSettings(options);
  if (problems.length > 0) throw new ValidationError("the DNS server options", problems);
  const bind = parseHostPort(options.bindAddress) as HostPort;
  const zone = normalizeName(options.clusterDomain);
  const upstreamTexts =
    options.upstreams.length > 0 ? options.upstreams : resolvConfNameservers(options.resolvConfPath);
  const configured = upstreamTexts.flatMap((u) => parseHostPort(u, 53) ?? []);
  // Filled once the port is known (see below); the handler reads it per forwarded query.
  const upstreams: HostPort[] = [];
  const logger = options.logger;
  const metrics = createDnsMetrics(options.metrics);
  const index = new DnsIndex({
    zone,
    endpointPodNames: options.endpointPodNames,
    externalNameIPs: options.externalNameIPs,
  });
  const sources = createDnsSources({
    kubeConfig: options.kubeConfig,
    logger,
    index,
    metrics,
    watchPods: options.pods === "verified",
  });
  const unspecified = bind.host === "0.0.0.0" || bind.host === "::";
  const handler = createQueryHandler({
    index,
    settings: {
      zone,
      ttlSeconds: options.ttlSeconds,
      pods: options.pods,
      nameserverIPs: unspecified ? [] : [bind.host],
    },
    upstreams,
    upstreamTimeoutMs: options.upstreamTimeoutMs ?? 2000,
    metrics,
    logger,
    synced: () => sources.hasSynced(),
  });

  const { udp, tcp } = await listenBoth(bind, handler, logger);
  // Never forward to ourselves: a resolv.conf naming this very server (a node-local DNS setup)
  // would bounce every unknown name between us and us until the timeout.
  for (const u of configured) {
    const self = u.port === udp.port && (u.host === bind.host || (unspecified && isLocalOnly(u.host)));
    if (self)
      logger.warn({ upstream: `${u.host}:${u.port}` }, "ignoring an upstream resolver that is this server");
    else upstreams.push(u);
  }
  let closed = false;
  void sources.start().then(
    () => {
      if (!closed) logger.info({ zone }, "DNS informers synced; answering cluster names");
    },
    (err: unknown) => logger.error({ err: errorMessage(err) }, "DNS informers failed to start"),
  );
  logger.info(
    { address: bind.host, port: udp.port, zone, upstreams: upstreams.map((u) => `${u.host}:${u.port}`) },
    "DNS server listening",
  );
  return {
    address: bind.host,
    port: udp.port,
    async close() {
      if (closed) return;
      closed = true;
      sources.stop();
      await Promise.all([udp.close(), tcp.close()]);
    },
  };
}

/** True for loopback addresses, which reach a server bound to the unspecified address. */
function isLocalOnly(host: string): boolean {
  return host.startsWith("127.") || host === "::1";
}

/**
 * Binds UDP and TCP on the same port. With port 0 the UDP port is chosen first and TCP may find it
 * taken by another program, so that case retries with a new port a few times.
 */
async function listenBoth(
  bind: HostPort,
  handler: Parameters<typeof listenUdp>[1],
  logger: Logger,
): Promise<{ udp: UdpListener; tcp: TcpListener }> {
  for (let attempt = 0; ; attempt++) {
    const udp = await listenUdp(bind, handler, logger);
    try {
      const tcp = await listenTcp({ host: bind.host, port: udp.port }, handler, logger);
      return { udp, tcp };
    } catch (err) {
      await udp.close();
      if (bind.port !== 0 || attempt >= 4) throw err;
    }
  }
}
