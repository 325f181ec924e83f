import type { ProxyConfig } from "../../config/proxy-config.ts";
import { ProxyError, errorMessage } from "../../errors.ts";
import { isSchedulerName, type SchedulerName } from "../../lb/scheduler.ts";
import type { IPFamily } from "../../model/protocol.ts";
import type { Logger } from "../../sys/logger.ts";
import type { Proxier, ProxierDeps, ProxierFactory, SyncRequest } from "../proxier.ts";
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
   * TCP relay implementation: `raw` (Node's TCP handles, the fast default) or `streams`
   * (`net.Socket`; used when the handles are unavailable).
   */
  readonly tcpRelay?: "raw" | "streams";
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
  const startTcp =
    (options.tcpRelay ?? "raw") === "raw" && rawRelayAvailable() ? startRawTcpRelay : startTcpRelay;
  const balancers = new Map<string, ServiceBalancer>();
  const relays = new Map<string, { relay: Relay; balancerKey: string; signature: string }>();
  const appliers = new Map<IPFamily, PortalApplier>();
  const writtenPortals = new Map<IPFamily, string>();
  const loggedSkips = new Set<string>();
  let internalSource: (ip: string) => boolean = () => false;

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
    internalSource = internalSourceFilter(
      config,
      request.states.map((s) => s.node),
    );
    const wanted = new Map<string, Frontend>();
    const liveBalancers = new Set<string>();
    for (const state of request.states) {
      for (const svc of state.services.values()) {
        const key = balancerKey(state.family, svc.key);
        liveBalancers.add(key);
        let balancer = balancers.get(key);
        const changed = request.full || request.changedServices.has(svc.serviceKey);
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
      for (const f of frontends) wanted.set(f.id, f);
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

    if (portals) {
      for (const family of ["IPv4", "IPv6"] as const) {
        const list: Portal[] = [];
        for (const { relay } of relays.values()) {
          if (relay.frontend.binding === "portal" && relay.frontend.family === family)
            list.push({ frontend: relay.frontend, relayPort: relay.port });
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
      relays.clear();
      for (const balancer of balancers.values()) balancer.close();
      balancers.clear();
    },
  };
}

/** What makes a relay reusable across syncs: same address, binding, service port and source ranges. */
function signature(f: Frontend): string {
  return `${f.servicePortKey}|${f.binding}|${f.kind}|${f.external}|${f.sourceRanges.join(",")}`;
}
