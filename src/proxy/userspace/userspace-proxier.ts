import type { ProxyConfig } from "../../config/proxy-config.ts";
import { ProxyError, errorMessage } from "../../errors.ts";
import { isSchedulerName, type SchedulerName } from "../../lb/scheduler.ts";
import type { IPFamily } from "../../model/protocol.ts";
import type { Logger } from "../../sys/logger.ts";
import type { Proxier, ProxierDeps, ProxierFactory, SyncRequest } from "../proxier.ts";
import { RelayThreads, signature, type TcpServiceInput } from "./threads/relay-threads.ts";
import { desiredFrontends, type Frontend } from "./frontends.ts";
import { internalSourceFilter } from "./internal-source.ts";
import { createPortalApplier, type PortalApplier } from "./portal-applier.ts";
import { renderPortalRules, type Portal } from "./portal-rules.ts";
import { rawRelayAvailable, startRawTcpRelay } from "./raw-tcp-relay.ts";
import { relayMetrics } from "./relay-metrics.ts";
import { defaultRelayTuning, type RelayTuning } from "./relay-tuning.ts";
import { ServiceBalancer } from "./service-balancer.ts";
import { startTcpRelay, type Relay, type RelayContext } from "./tcp-relay.ts";
import { startUdpRelay } from "./udp-relay.ts";

/** Options of the userspace proxier beyond ProxierDeps (tests shorten timers, force portals off). */
export interface UserspaceProxierOptions {
  readonly tuning?: Partial<RelayTuning>;
  /** Use portal rules for non-local service addresses (default: when running as root). */
  readonly portals?: boolean;
  /**
   * TCP relay implementation: `threads` (relay threads with their own io_uring or epoll loop, the
   * default where they can run: Linux with koffi), `raw` (Node's TCP handles on the main thread,
   * the fallback) or `streams` (`net.Socket`; used when the handles are unavailable too).
   */
  readonly tcpRelay?: "threads" | "raw" | "streams";
  /** Number of relay threads (default: `userspace.workers`, else 1). */
  readonly relayThreads?: number;
  /** What the relay threads run on: `auto` (io_uring where possible, else epoll) or `epoll`. */
  readonly relayEngine?: "auto" | "epoll";
}

/**
 * The userspace proxy mode: kproxy accepts every connection (TCP) and datagram (UDP) for each
 * service address:port and relays it to an endpoint it chooses. See README.md in this folder.
 */
export const createUserspaceProxier: ProxierFactory = (deps) => createUserspaceProxierWith(deps, {});

function defaultScheduler(config: ProxyConfig, logger: Logger): SchedulerName {
  const name = config.userspace.scheduler;
  if (name === "") return "rr";
  if (isSchedulerName(name)) return name;
  logger.warn({ scheduler: name }, `unknown userspace scheduler ${JSON.stringify(name)}; using rr`);
  return "rr";
}

/** Creates the userspace proxier with explicit options. */
export async function createUserspaceProxierWith(
  deps: ProxierDeps,
  options: UserspaceProxierOptions,
): Promise<Proxier> {
  const { config, logger, clock } = deps;
  const tuning: RelayTuning = { ...defaultRelayTuning, ...options.tuning };
  const portals = options.portals ?? process.getuid?.() === 0;
  const metrics = relayMetrics(deps.metrics);
  const scheduler = defaultScheduler(config, logger);
  // userspace.workers: 0 keeps TCP on the main thread (the libuv relay).
  const threadCount = options.relayThreads ?? config.userspace.workers ?? 1;
  const wantedRelay = options.tcpRelay ?? (threadCount > 0 ? "threads" : "raw");
  const startTcp = wantedRelay !== "streams" && rawRelayAvailable() ? startRawTcpRelay : startTcpRelay;
  const balancers = new Map<string, ServiceBalancer>();
  const relays = new Map<string, { relay: Relay; balancerKey: string; signature: string }>();
  const appliers = new Map<IPFamily, PortalApplier>();
  const writtenPortals = new Map<IPFamily, string>();
  const loggedSkips = new Set<string>();
  let internalSource: (ip: string) => boolean = () => false;
  // The relay threads start with the first sync (a proxier made only to clean up never needs them).
  let threads: RelayThreads | undefined;
  let threadsTried = wantedRelay !== "threads";
  const threadPorts = new Map<string, { frontend: Frontend; port: number }>();
  const remoteCounters = (): ReturnType<RelayThreads["snapshot"]> =>
    threads?.snapshot() ?? Promise.resolve({ endpoints: [], dropped: new Map() });

  async function startThreads(): Promise<void> {
    threadsTried = true;
    threads = await RelayThreads.start({
      count: threadCount,
      tuning,
      defaultScheduler: scheduler,
      logger,
      engine: options.relayEngine ?? "auto",
    });
    if (threads === undefined)
      logger.warn("relay threads unavailable (they need Linux and koffi); relaying TCP on the main thread");
    else {
      logger.info({ threads: threads.count, engines: threads.engines }, "TCP relay threads started");
      metrics.addRemote(remoteCounters);
    }
  }

  const balancerKey = (family: IPFamily, servicePortKey: string): string => `${family}|${servicePortKey}`;
  const contextFor = (balancer: ServiceBalancer): RelayContext => ({
    balancer,
    tuning,
    metrics,
    logger,
    internalSource: (ip) => internalSource(ip),
  });
  const applierFor = (family: IPFamily): PortalApplier => {
    let applier = appliers.get(family);
    if (applier === undefined)
      appliers.set(family, (applier = createPortalApplier(deps.executor, family, logger)));
    return applier;
  };

  async function sync(request: SyncRequest): Promise<void> {
    if (!threadsTried) await startThreads();
    const nodes = request.states.map((s) => s.node);
    internalSource = internalSourceFilter(config, nodes);
    const wanted = new Map<string, Frontend>();
    const liveBalancers = new Set<string>();
    const threadServices: TcpServiceInput[] = [];
    const threadFrontends: Frontend[] = [];
    for (const state of request.states) {
      for (const svc of state.services.values()) {
        const key = balancerKey(state.family, svc.key);
        const changed = request.full || request.changedServices.has(svc.serviceKey);
        if (threads !== undefined && svc.protocol === "TCP") {
          const endpoints = state.endpoints.get(svc.key) ?? [];
          threadServices.push({ key, service: svc, endpoints, node: state.node, changed });
          continue;
        }
        liveBalancers.add(key);
        let balancer = balancers.get(key);
        if (balancer === undefined) {
          balancer = new ServiceBalancer(svc, {
            defaultScheduler: scheduler,
            clock,
            tuning,
            metrics,
            logger,
          });
          balancers.set(key, balancer);
        } else if (!changed) continue;
        balancer.update(svc, state.endpoints.get(svc.key) ?? [], state.node);
      }
      const { frontends, skipped } = desiredFrontends(state, config, { portals });
      for (const f of frontends) {
        if (threads !== undefined && f.protocol === "TCP") threadFrontends.push(f);
        else wanted.set(f.id, f);
      }
      for (const s of skipped) {
        const text = `${s.servicePortKey} ${s.address}: ${s.reason}`;
        if (loggedSkips.has(text)) continue;
        loggedSkips.add(text);
        logger.warn({ service: s.servicePortKey, address: s.address }, `not relayed: ${s.reason}`);
      }
    }

    // Close what is no longer wanted first, so that a re-created Service can bind its address again.
    const closing: Promise<void>[] = [];
    for (const [id, entry] of relays) {
      const f = wanted.get(id);
      if (f !== undefined && signature(f) === entry.signature && balancers.has(entry.balancerKey)) continue;
      relays.delete(id);
      closing.push(entry.relay.close());
    }
    await Promise.all(closing);
    for (const [key, balancer] of balancers) {
      if (liveBalancers.has(key)) continue;
      balancers.delete(key);
      balancer.close();
    }

    const failures: string[] = [];
    const onThreads =
      threads === undefined
        ? undefined
        : threads.sync({
            services: threadServices,
            frontends: threadFrontends,
            internal: { detectLocalMode: config.detectLocalMode, clusterCIDRs: config.clusterCIDRs, nodes },
            full: request.full,
          });
    await Promise.all(
      [...wanted.values()].map(async (f) => {
        const key = balancerKey(f.family, f.servicePortKey);
        const balancer = balancers.get(key);
        if (balancer === undefined) return;
        const existing = relays.get(f.id);
        if (existing !== undefined) {
          existing.relay.setContext(contextFor(balancer));
          return;
        }
        try {
          const relay =
            f.protocol === "TCP"
              ? await startTcp(f, contextFor(balancer))
              : await startUdpRelay(f, contextFor(balancer), {
                  idleTimeoutMs: config.userspace.udpIdleTimeoutMs,
                });
          relays.set(f.id, { relay, balancerKey: key, signature: signature(f) });
        } catch (err) {
          failures.push(`${f.id} (${f.servicePortKey}): ${errorMessage(err)}`);
        }
      }),
    );
    if (onThreads !== undefined) {
      const { ports, failures: threadFailures } = await onThreads;
      failures.push(...threadFailures);
      threadPorts.clear();
      for (const f of threadFrontends) {
        const port = ports.get(f.id);
        if (port !== undefined) threadPorts.set(f.id, { frontend: f, port });
      }
    }

    if (portals) {
      for (const family of ["IPv4", "IPv6"] as const) {
        const list: Portal[] = [];
        const listening = [
          ...[...relays.values()].map(({ relay }) => ({ frontend: relay.frontend, port: relay.port })),
          ...threadPorts.values(),
        ];
        for (const { frontend, port } of listening) {
          if (frontend.binding === "portal" && frontend.family === family)
            list.push({ frontend, relayPort: port });
        }
        if (list.length === 0 && !writtenPortals.has(family)) continue;
        const payload = renderPortalRules(list);
        if (writtenPortals.get(family) === payload && !request.full) continue;
        await applierFor(family).apply(payload, request.full);
        writtenPortals.set(family, payload);
      }
    }

    if (failures.length > 0) {
      throw new ProxyError(
        "KPROXY_LISTEN_FAILED",
        `Cannot open ${failures.length} relay listener(s): ${failures.join("; ")}; free the address:port or change the Service`,
      );
    }
  }

  return {
    mode: "userspace",
    sync,
    async cleanup() {
      for (const family of ["IPv4", "IPv6"] as const) {
        try {
          await applierFor(family).cleanup();
        } catch (err) {
          logger.debug({ family, err: errorMessage(err) }, "portal cleanup skipped");
        }
        writtenPortals.delete(family);
      }
    },
    async close() {
      await Promise.all([...relays.values()].map((e) => e.relay.close()));
      if (threads !== undefined) {
        metrics.removeRemote(remoteCounters);
        await threads.close();
        threads = undefined;
        threadPorts.clear();
      }
      relays.clear();
      for (const balancer of balancers.values()) balancer.close();
      balancers.clear();
    },
  };
}
