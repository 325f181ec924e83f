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
  const upstreams = upstreamTexts.flatMap((u) => parseHostPort(u, 53) ?? []);
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
