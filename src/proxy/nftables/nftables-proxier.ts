import { Counter, type Registry } from "prom-client";
import { RuleApplyError } from "../../errors.ts";
import type { Endpoint } from "../../model/endpoint.ts";
import type { ProxyState } from "../../model/proxy-state.ts";
import type { ServicePort } from "../../model/service-port.ts";
import type { Proxier, ProxierDeps, ProxierFactory, SyncRequest } from "../proxier.ts";
import { checkNftablesRequirements } from "./apply/nftables-requirements.ts";
import { NftTableWriter, type TablePlan } from "./apply/nft-table-writer.ts";
import { runNft } from "./apply/run-nft.ts";
import { applyNetlinkBatch } from "./apply/netlink/apply-netlink-batch.ts";
import { openNetfilterSocket, type NetfilterSocket } from "./apply/netlink/netfilter-socket.ts";
import { ServicePortIndex, type ChangedPorts } from "./apply/service-port-index.ts";
import { clearStaleUdpConntrack } from "../conntrack/clear-stale-udp-conntrack.ts";
import { staleUdpEntries } from "../conntrack/stale-udp-entries.ts";
import { EndpointBlocks } from "./render/endpoint-blocks.ts";
import { kproxyTableName, upstreamTableName } from "./render/render-context.ts";
import { buildNftablesRuleset } from "./render/render-nftables.ts";

/** Test and benchmark knobs; production uses the defaults. */
export interface NftablesProxierOptions {
  /** How long a chain that is no longer used stays (flushed) before it is deleted; default 1 s as upstream. */
  readonly staleChainDelayMs?: number;
  /** Pretend this kernel release (for the version check). */
  readonly kernelRelease?: string;
  /**
   * Send partial syncs as netlink batches (default true; falls back to `nft -f` when FFI is not
   * available or a command is not one the compiler knows).
   */
  readonly netlink?: boolean;
  /** The network namespace (`ip netns` name) the executor's `nft` runs in, for the netlink socket (tests). */
  readonly netnsName?: string;
}

/** The nftables proxier, with what its last sync sent (for tests and benchmarks). */
export interface NftablesProxier extends Proxier {
  /** The `nft -f` input of the last sync ("" when it had nothing to change). */
  readonly lastTransaction: string;
  /** `rebuild`, `full`, `partial` or `none`, per IP family, of the last sync. */
  readonly lastPlanKinds: readonly string[];
  /** How the last transaction was sent: `netlink`, `nft`, or `none`. */
  readonly lastApplyPath: "netlink" | "nft" | "none";
  /** How long sending the last transaction took (ms), out of the whole sync. */
  readonly lastApplyMs: number;
}

interface FamilyTable {
  readonly writer: NftTableWriter;
  /** Which numgen block each service chain draws from (kproxy layout); kept between syncs. */
  readonly blocks: EndpointBlocks;
  /** The service ports of `state`, by Service. */
  readonly ports: ServicePortIndex;
  state: ProxyState | undefined;
}

/**
 * `--proxy-mode nftables`: one table per IP family (`ip kproxy` / `ip6 kproxy`, or `kube-proxy`
 * with `--nftables-layout upstream`), written with one `nft -f` transaction per sync. kproxy
 * remembers what it wrote and sends only what changed; see README.md.
 */
export const createNftablesProxier: ProxierFactory = (deps) => newNftablesProxier(deps);

/** Builds the proxier after checking the kernel and nft versions (ProxyError when too old). */
export async function newNftablesProxier(
  deps: ProxierDeps,
  options: NftablesProxierOptions = {},
): Promise<NftablesProxier> {
  await checkNftablesRequirements(deps.executor, options.kernelRelease === undefined ? {} : options);
  const { config, executor, logger, clock } = deps;
  const staleChainDelayMs = options.staleChainDelayMs ?? 1000;
  const failures = counter(
    deps.metrics,
    "kubeproxy_sync_proxy_rules_nftables_sync_failures_total",
    "nftables sync failures",
  );
  const tables = new Map<string, FamilyTable>();
  let lastTransaction = "";
  let lastPlanKinds: string[] = [];
  let lastApplyPath: NftablesProxier["lastApplyPath"] = "none";
  let lastApplyMs = 0;
  // The netlink socket for partial syncs: opened on first use; null when FFI is not available.
  let socket: NetfilterSocket | null | undefined = options.netlink === false ? null : undefined;
  const netlinkSocket = async (): Promise<NetfilterSocket | null> => {
    if (socket === undefined) {
      try {
        socket =
          (await openNetfilterSocket(
            options.netnsName === undefined ? {} : { netnsPath: `/run/netns/${options.netnsName}` },
          )) ?? null;
      } catch (err) {
        logger.warn({ err }, "Cannot open a netfilter netlink socket; partial syncs use nft -f");
        socket = null;
      }
      logger.info(
        { netlink: socket !== null },
        "nftables partial syncs are sent by " + (socket ? "netlink" : "nft -f"),
      );
    }
    return socket;
  };

  const tableOf = (state: ProxyState): FamilyTable => {
    let t = tables.get(state.family);
    if (t === undefined) {
      const family = state.family === "IPv4" ? "ip" : "ip6";
      const name = config.nftables.layout === "upstream" ? upstreamTableName : kproxyTableName;
      t = {
        writer: new NftTableWriter(family, name, { staleChainDelayMs }),
        blocks: new EndpointBlocks(),
        ports: new ServicePortIndex(),
        state: undefined,
      };
      tables.set(state.family, t);
    }
    return t;
  };

  return {
    mode: "nftables",
    get lastTransaction() {
      return lastTransaction;
    },
    get lastPlanKinds() {
      return lastPlanKinds;
    },
    get lastApplyPath() {
      return lastApplyPath;
    },
    get lastApplyMs() {
      return lastApplyMs;
    },

    async sync(request: SyncRequest): Promise<void> {
      const now = clock.now();
      const plans: {
        table: FamilyTable;
        plan: TablePlan;
        state: ProxyState;
        keys: string[];
        ports: ChangedPorts | undefined;
      }[] = [];
      for (const state of request.states) {
        const table = tableOf(state);
        // Only the changed services' ports are rendered on a partial sync, so that its cost
        // follows the size of the change, not of the cluster.
        const ports =
          request.full || table.state === undefined
            ? undefined
            : table.ports.changes(state.services, request.changedServices);
        const changedKeys = ports?.current ?? [];
        const removed = ports?.removed ?? [];
        const { blocks } = table;
        // A full sync renders every chain again: blocks are allocated afresh (and compacted).
        if (request.full) blocks.reset();
        let ruleset = buildNftablesRuleset(
          state,
          config,
          request.full ? { blocks } : { only: changedKeys, blocks },
        );
        const full = request.full || table.writer.needsFullSync(ruleset.base);
        if (full && !request.full) {
          blocks.reset();
          ruleset = buildNftablesRuleset(state, config, { blocks });
        }
        const plan = table.writer.plan(ruleset, { full, removed, now });
        const keys = full
          ? [...new Set([...state.services.keys(), ...(table.state?.services.keys() ?? [])])]
          : [...changedKeys, ...removed];
        plans.push({ table, plan, state, keys, ports: full ? undefined : ports });
      }
      const text = plans.map((p) => p.plan.text).join("");
      lastTransaction = text;
      lastPlanKinds = plans.map((p) => p.plan.kind);
      const start = clock.now();
      const applyStart = performance.now();
      lastApplyPath = "none";
      if (text !== "") {
        try {
          // Partial syncs go straight to the kernel as a netlink batch: nft would first read
          // back every chain and set of the table, a cost that grows with the cluster.
          const partial = plans.every((p) => p.plan.kind === "partial" || p.plan.kind === "none");
          const sock = partial ? await netlinkSocket() : null;
          if (sock !== null && applyNetlinkBatch(sock, text)) lastApplyPath = "netlink";
          else {
            lastApplyPath = "nft";
            await runNft(executor, text);
          }
        } catch (err) {
          failures.inc();
          for (const p of plans) p.table.writer.invalidate();
          if (err instanceof RuleApplyError)
            logger.error({ stderr: err.stderr, failingLines: err.failingLines }, "nftables sync failed");
          throw err;
        }
      }
      lastApplyMs = performance.now() - applyStart;
      for (const p of plans) {
        p.plan.commit();
        for (const chain of p.plan.removedChains) p.table.blocks.release(chain);
      }
      logger.debug(
        { kinds: lastPlanKinds, bytes: text.length, ms: clock.now() - start },
        "nftables transaction applied",
      );
      for (const p of plans) {
        // Stale UDP flows can only concern the ports this sync changed.
        const previous = p.table.state;
        const entries =
          p.ports === undefined
            ? staleUdpEntries(previous, p.state)
            : staleUdpEntries(previous && onlyPorts(previous, p.keys), onlyPorts(p.state, p.keys));
        if (p.ports === undefined) p.table.ports.reset(p.state.services);
        else p.ports.commit();
        p.table.state = p.state;
        if (entries.services.length + entries.endpoints.length > 0)
          await clearStaleUdpConntrack(executor, entries, { logger });
      }
    },

    async cleanup(): Promise<void> {
      // Both table names, like kube-proxy's own cleanup, so that switching layouts or coming
      // from kube-proxy leaves nothing behind. `add` first makes `delete` safe when absent.
      const lines: string[] = [];
      for (const family of ["ip", "ip6"])
        for (const name of [kproxyTableName, upstreamTableName])
          lines.push(`add table ${family} ${name}`, `delete table ${family} ${name}`);
      try {
        await runNft(executor, lines.join("\n") + "\n");
      } catch (err) {
        // Without nft nothing of ours can be installed; anything else is worth reporting.
        if (err instanceof RuleApplyError) throw err;
        logger.debug({ err }, "nft not available: nothing to clean up");
      }
      for (const t of tables.values()) t.writer.invalidate();
    },

    async close(): Promise<void> {
      socket?.close();
      socket = undefined;
    },
  };
}

function counter(registry: Registry, name: string, help: string): Counter {
  const existing = registry.getSingleMetric(name);
  return existing instanceof Counter ? existing : new Counter({ name, help, registers: [registry] });
}

/** `state` with only the service ports `keys` (and their endpoints). */
function onlyPorts(state: ProxyState, keys: readonly string[]): ProxyState {
  const services = new Map<string, ServicePort>();
  const endpoints = new Map<string, readonly Endpoint[]>();
  for (const key of keys) {
    const svc = state.services.get(key);
    if (svc !== undefined) services.set(key, svc);
    const eps = state.endpoints.get(key);
    if (eps !== undefined) endpoints.set(key, eps);
  }
  return { ...state, services, endpoints };
}
