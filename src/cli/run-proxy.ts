import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { CoreV1Api, type KubeConfig, type V1Node } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { startApiServer, type ApiServer } from "../apiserver/api-server.ts";
import { applyManifests } from "../apiserver/manifests.ts";
import { startDnsServer } from "../dns/dns-server.ts";
import type { ProxyConfig, ProxyMode } from "../config/proxy-config.ts";
import { errorMessage, ProxyError, UsageError } from "../errors.ts";
import { startHealthzServer, type HttpServerHandle } from "../health/healthz-server.ts";
import { ProxierHealth } from "../health/proxier-health.ts";
import { ServiceHealthServer } from "../health/service-health-server.ts";
import { startMetricsServer } from "../metrics/metrics-server.ts";
import { createProxyMetrics } from "../metrics/proxy-metrics.ts";
import { cidrContains, ipFamilyOf } from "../model/ip.ts";
import { availableModes, proxierFactories } from "../proxy/mode-registry.ts";
import type { ProxierFactory } from "../proxy/proxier.ts";
import { localInterfaceAddresses } from "../proxy/sync/node-info-from-node.ts";
import { ProxySyncer } from "../proxy/sync/proxy-syncer.ts";
import { loadKubeConfig } from "../sources/kube-config.ts";
import { createProxySources } from "../sources/proxy-sources.ts";
import { systemClock, type Clock } from "../sys/clock.ts";
import { createExecutor, type Executor } from "../sys/executor.ts";
import type { Logger } from "../sys/logger.ts";

/** A running `kproxy run`. */
export interface RunningProxy {
  /** The embedded API server, when no kubeconfig/master was given. */
  readonly apiServer: ApiServer | undefined;
  /** Bound `host:port` of /healthz and /livez (undefined when disabled or not bound). */
  readonly healthzAddress?: string;
  /** Bound `host:port` of /metrics (undefined when disabled or not bound). */
  readonly metricsAddress?: string;
  /** Bound `host:port` of the DNS server (UDP and TCP), with `dns.enabled`. */
  readonly dnsAddress?: string;
  /** The mode that runs. */
  readonly mode: ProxyMode;
  /** The node name the proxy runs as. */
  readonly nodeName: string;
  /** Syncs run so far and how many failed. */
  syncCounts(): { syncs: number; failures: number };
  /** Stops everything kproxy started. Rules stay in place (as upstream's do). */
  close(): Promise<void>;
}

/** Extra settings of the embedded API server that have no place in ProxyConfig. */
export interface ApiServerExtras {
  socketPath?: string;
  tokenFile?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
}

/** Options of runProxy besides the configuration. */
export interface RunProxyOptions {
  logger: Logger;
  apiServerExtras?: ApiServerExtras;
  /** Aborts start-up (e.g. SIGTERM while waiting for the API server): everything started is closed. */
  signal?: AbortSignal;
  /** Use this proxier instead of the mode registry's (tests: a recording proxier). */
  proxierFactory?: ProxierFactory;
  clock?: Clock;
  executor?: Executor;
}

/**
 * Everything `kproxy run` does: the embedded API server when no kubeconfig/master is given and
 * kproxy does not run in a Pod with in-cluster credentials (with
 * `--manifests` applied and a Node object for this node), the informers, the sync runner driving
 * the mode's proxier, /healthz, /metrics, the per-Service health checks and, with `dns.enabled`,
 * the cluster DNS server. Resolves once the informers have synced and the first sync has run.
 */
export async function runProxy(config: ProxyConfig, options: RunProxyOptions): Promise<RunningProxy> {
  const { logger } = options;
  const factory = options.proxierFactory ?? (await loadFactory(config.mode));
  const clock = options.clock ?? systemClock;
  const nodeName = config.hostnameOverride !== "" ? config.hostnameOverride : hostname().toLowerCase();
  const closers: Array<() => Promise<void> | void> = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.reverse().splice(0)) {
      try {
        await close();
      } catch (err) {
        logger.warn({ err: errorMessage(err) }, "error while stopping");
      }
    }
  };
  const checkAborted = (): void => {
    if (options.signal?.aborted)
      throw new ProxyError("KPROXY_TIMEOUT", "Cannot start kproxy: start-up was aborted");
  };

  try {
    // No kubeconfig and no master: in-cluster credentials inside a Pod (the DaemonSet), else the
    // embedded API server.
    const embedded = config.clientConnection.kubeconfig === "" && config.master === "" && !runningInCluster();
    let apiServer: ApiServer | undefined;
    let kubeConfig: KubeConfig;
    let serviceCIDRs: string[] = [];
    if (embedded) {
      const extras = options.apiServerExtras ?? {};
      apiServer = await startApiServer({
        listen: config.apiserver.listen,
        dataDir: config.apiserver.dataDir,
        serviceClusterIPRange: config.apiserver.serviceClusterIPRange,
        serviceNodePortRange: config.apiserver.serviceNodePortRange,
        loadBalancerIPRange: config.apiserver.loadBalancerIPRange,
        logger: logger.child({ component: "apiserver" }),
        ...(extras.socketPath !== undefined ? { socketPath: extras.socketPath } : {}),
        ...(extras.tokenFile !== undefined ? { tokenFile: extras.tokenFile } : {}),
        ...(extras.tlsCertFile !== undefined ? { tlsCertFile: extras.tlsCertFile } : {}),
        ...(extras.tlsKeyFile !== undefined ? { tlsKeyFile: extras.tlsKeyFile } : {}),
      });
      const server = apiServer;
      closers.push(() => server.close());
      const token = extras.tokenFile !== undefined ? firstToken(extras.tokenFile) : undefined;
      kubeConfig = loadKubeConfig({ kubeconfig: "", master: server.url, ...(token ? { token } : {}) });
      serviceCIDRs = config.apiserver.serviceClusterIPRange.split(",").map((s) => s.trim());
      logger.info({ url: server.url, socket: server.socketPath }, "embedded API server started");
      await registerNode(kubeConfig, nodeName, embeddedNodeIPs(config), logger);
      checkAborted();
      if (config.apiserver.manifests.length > 0) {
        const manifests = await applyManifests({
          url: server.url,
          ...(token ? { token } : {}),
          paths: config.apiserver.manifests,
          watch: true,
          logger: logger.child({ component: "manifests" }),
        });
        closers.push(() => manifests.close());
      }
    } else {
      kubeConfig = loadKubeConfig({ kubeconfig: config.clientConnection.kubeconfig, master: config.master });
    }
    checkAborted();

    const metrics = createProxyMetrics();
    const periods = syncPeriods(config);
    const health = new ProxierHealth({ healthTimeoutMs: 2 * periods.syncPeriodMs, clock });
    const counters = { healthz: metrics.healthzTotal, livez: metrics.livezTotal };
    let healthzAddress: string | undefined;
    let metricsAddress: string | undefined;
    if (config.healthzBindAddress !== "") {
      const server = await bindOrWarn(config, logger, "healthz", () =>
        startHealthzServer(config.healthzBindAddress, { health, counters }),
      );
      if (server) {
        closers.push(() => server.close());
        healthzAddress = server.address;
      }
    }
    if (config.metricsBindAddress !== "") {
      const server = await bindOrWarn(config, logger, "metrics", () =>
        startMetricsServer(config.metricsBindAddress, {
          registry: metrics.registry,
          health,
          counters,
          mode: config.mode,
        }),
      );
      if (server) {
        closers.push(() => server.close());
        metricsAddress = server.address;
      }
    }

    const proxier = await factory({
      config,
      executor: options.executor ?? createExecutor(),
      logger: logger.child({ component: config.mode }),
      metrics: metrics.registry,
      clock,
    });
    closers.push(() => proxier.close());
    if (options.proxierFactory === undefined) {
      await cleanupOtherModes(config, {
        executor: options.executor ?? createExecutor(),
        logger,
        clock,
        metrics: metrics.registry,
      });
    }
    const serviceHealth = new ServiceHealthServer({
      hosts: healthCheckHosts(config),
      logger: logger.child({ component: "service-health" }),
      proxyHealthy: () => health.isHealthy(),
    });
    closers.push(() => serviceHealth.close());
    const syncer = new ProxySyncer({
      proxier,
      nodeName,
      nodeIPs: config.nodeIPs,
      serviceCIDRs,
      ...periods,
      clock,
      logger,
      metrics,
      health,
      serviceHealth,
    });
    closers.push(() => syncer.stop());
    const sources = createProxySources({
      kubeConfig,
      logger: logger.child({ component: "informers" }),
      nodeName,
      services: syncer.serviceHandlers,
      endpointSlices: syncer.endpointSliceHandlers,
      node: syncer.nodeHandlers,
    });
    closers.push(() => sources.stop());

    let dnsAddress: string | undefined;
    if (config.dns.enabled) {
      const dns = await startDnsServer({
        kubeConfig,
        bindAddress: config.dns.bindAddress,
        clusterDomain: config.dns.clusterDomain,
        ttlSeconds: config.dns.ttlSeconds,
        upstreams: config.dns.upstreams,
        pods: config.dns.pods,
        endpointPodNames: config.dns.endpointPodNames,
        externalNameIPs: config.dns.externalNameIPs,
        logger: logger.child({ component: "dns" }),
        metrics: metrics.registry,
      });
      closers.push(() => dns.close());
      dnsAddress = dns.address.includes(":") ? `[${dns.address}]:${dns.port}` : `${dns.address}:${dns.port}`;
      logger.info({ address: dnsAddress }, "DNS server started");
    }

    // No rules before every informer has delivered its first full list (a partial view would
    // delete the rules of services not listed yet).
    await untilAborted(sources.start(), options.signal);
    checkAborted();
    syncer.start();
    await untilAborted(syncer.firstAttempt, options.signal);
    checkAborted();
    logger.info({ mode: config.mode, node: nodeName, healthzAddress, metricsAddress }, "kproxy is running");

    let closed: Promise<void> | undefined;
    return {
      apiServer,
      mode: config.mode,
      nodeName,
      ...(healthzAddress !== undefined ? { healthzAddress } : {}),
      ...(metricsAddress !== undefined ? { metricsAddress } : {}),
      ...(dnsAddress !== undefined ? { dnsAddress } : {}),
      syncCounts: () => syncer.counts,
      close: () => (closed ??= closeAll()),
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** The mode's proxier factory; a mode that is not built is a usage error listing those that are. */
async function loadFactory(mode: ProxyMode): Promise<ProxierFactory> {
  const load = proxierFactories[mode];
  if (load === undefined) {
    const available = availableModes();
    throw new UsageError(
      `Cannot run proxy mode ${JSON.stringify(mode)}: it is not built; available modes: ${available.length > 0 ? available.join(", ") : "none"}`,
    );
  }
  return load();
}

/** The sync periods of the running mode's section. */
export function syncPeriods(config: ProxyConfig): { syncPeriodMs: number; minSyncPeriodMs: number } {
  const section = config[config.mode === "ipvs" ? "ipvs" : config.mode];
  return { syncPeriodMs: section.syncPeriodMs, minSyncPeriodMs: section.minSyncPeriodMs };
}

/** Where the per-Service health checks listen: every address, or those nodePortAddresses select. */
export function healthCheckHosts(config: ProxyConfig): string[] {
  const wanted = config.nodePortAddresses;
  if (wanted.length === 0 || wanted.includes("all")) return ["0.0.0.0"];
  const local = localInterfaceAddresses().map((cidr) => cidr.split("/")[0] ?? "");
  const out = new Set<string>();
  for (const spec of wanted) {
    if (spec === "primary") for (const ip of config.nodeIPs) out.add(ip);
    else if (spec === "localhost") out.add("127.0.0.1");
    else for (const ip of local) if (cidrContains(spec, ip)) out.add(ip);
  }
  return out.size > 0 ? [...out] : ["0.0.0.0"];
}

/** The node IPs to publish in the embedded server's Node: the configured ones, else the first external IPv4. */
function embeddedNodeIPs(config: ProxyConfig): string[] {
  if (config.nodeIPs.length > 0) return [...config.nodeIPs];
  const candidates = localInterfaceAddresses()
    .map((cidr) => cidr.split("/")[0] ?? "")
    .filter((ip) => ipFamilyOf(ip) === "IPv4" && !ip.startsWith("127."));
  return candidates.length > 0 ? [candidates[0] ?? ""] : ["127.0.0.1"];
}

/** Creates (or refreshes) this node's Node object in the embedded API server. */
async function registerNode(
  kubeConfig: KubeConfig,
  name: string,
  ips: readonly string[],
  logger: Logger,
): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const addresses = [
    ...ips.map((address) => ({ type: "InternalIP", address })),
    { type: "Hostname", address: name },
  ];
  const body: V1Node = {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name } },
    status: { addresses },
  };
  try {
    await core.createNode({ body });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
    // The Node exists (a restart with --data-dir): refresh its addresses through /status.
    const existing = await core.readNode({ name });
    await core.replaceNodeStatus({ name, body: { ...existing, status: { ...existing.status, addresses } } });
  }
  logger.info({ node: name, addresses: ips }, "registered this node in the embedded API server");
}

/** True inside a Pod with a service account (what client-go's InClusterConfig needs). */
export function runningInCluster(env: NodeJS.ProcessEnv = process.env): boolean {
  return (
    Boolean(env["KUBERNETES_SERVICE_HOST"]) &&
    Boolean(env["KUBERNETES_SERVICE_PORT"]) &&
    existsSync("/var/run/secrets/kubernetes.io/serviceaccount/token")
  );
}

/** The first token of a kube-apiserver token file (`token,user,uid,...` per line). */
function firstToken(path: string): string | undefined {
  const line = readFileSync(path, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l !== "" && !l.startsWith("#"));
  return line?.split(",")[0]?.trim();
}

async function bindOrWarn(
  config: ProxyConfig,
  logger: Logger,
  what: string,
  start: () => Promise<HttpServerHandle>,
): Promise<HttpServerHandle | undefined> {
  try {
    return await start();
  } catch (err) {
    // Upstream keeps running without the server unless bindAddressHardFail is set.
    if (config.bindAddressHardFail) throw err;
    logger.error({ err: errorMessage(err) }, `cannot start the ${what} server; continuing without it`);
    return undefined;
  }
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T | undefined> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * Switching modes: a kernel mode (iptables, nftables) removes what the other modes left behind,
 * as kube-proxy does at start-up, so that stale rules of the previous mode cannot shadow the new
 * ones. The userspace mode does not (it runs unprivileged and beside other proxies, e.g. the
 * demo); `kproxy cleanup` removes everything explicitly. Failures are logged, never fatal.
 */
async function cleanupOtherModes(
  config: ProxyConfig,
  deps: { executor: Executor; logger: Logger; clock: Clock; metrics: Registry },
): Promise<void> {
  if (config.mode !== "iptables" && config.mode !== "nftables") return;
  if (process.getuid?.() !== 0) return;
  for (const [mode, load] of Object.entries(proxierFactories)) {
    if (mode === config.mode || load === undefined) continue;
    try {
      const other = await (
        await load()
      )({
        ...deps,
        config,
        logger: deps.logger.child({ component: `cleanup-${mode}` }),
        metrics: new Registry(),
      });
      await other.cleanup();
      await other.close();
    } catch (err) {
      deps.logger.warn({ mode, err: errorMessage(err) }, "could not clean up another mode's rules");
    }
  }
}
