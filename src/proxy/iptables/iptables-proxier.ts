import { Counter, type Registry } from "prom-client";
import { errorMessage, RuleApplyError } from "../../errors.ts";
import type { IPFamily } from "../../model/protocol.ts";
import type { ProxyState } from "../../model/proxy-state.ts";
import { clearStaleUdpConntrack } from "../conntrack/clear-stale-udp-conntrack.ts";
import { staleUdpEntries } from "../conntrack/stale-udp-entries.ts";
import type { KernelFeatures } from "../kernel-features.ts";
import type { Proxier, ProxierDeps, ProxierFactory, SyncRequest } from "../proxier.ts";
import { formatCleanupPayload } from "./apply/cleanup-payload.ts";
import { detectKernelFeatures } from "./apply/detect-kernel-features.ts";
import { IptablesFamilyApplier, type FamilySyncReport } from "./apply/family-applier.ts";
import { detectIptablesBackend, iptablesTools, type IptablesBackend } from "./apply/iptables-tools.ts";
import { runRestore } from "./apply/run-restore.ts";
import { renderContext } from "./render/render-context.ts";

/** Options beyond the shared deps (tests and benchmarks choose the back end and features). */
export interface IptablesProxierOptions {
  /** Default: detected as upstream's iptables-wrapper does. */
  readonly backend?: IptablesBackend;
  /** Default: detected from the tools. */
  readonly features?: KernelFeatures;
  /** How often a full sync also reads the rules back with iptables-save (default 1 h). */
  readonly auditPeriodMs?: number;
  /**
   * How partial syncs write: `kproxy` (single-rule edits, the default) or `upstream` (rewrite
   * KUBE-SERVICES and the filter table, for comparison in benchmarks). Default: the environment
   * variable `KPROXY_IPTABLES_PARTIAL_SYNCS`, else `kproxy`.
   */
  readonly partialSyncs?: "kproxy" | "upstream";
  /** Test seam: rewrites every sync payload before it is written (to simulate a rule the kernel rejects). */
  readonly transformPayload?: (payload: string) => string;
}

/** The iptables proxier, with what its last sync did (for tests and benchmarks). */
export interface IptablesProxier extends Proxier {
  readonly backend: IptablesBackend;
  readonly features: KernelFeatures;
  /** Per family, the report of the last successful sync. */
  readonly lastReports: ReadonlyMap<IPFamily, FamilySyncReport>;
}

function counter(registry: Registry, name: string, help: string): Counter<"ip_family"> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<"ip_family">;
  return new Counter({ name, help, labelNames: ["ip_family"], registers: [registry] });
}

/**
 * Builds the iptables proxier: detects the back end and features once, then keeps one
 * `IptablesFamilyApplier` per IP family. After each successful sync it deletes stale UDP
 * conntrack entries. A failed restore increments
 * `kubeproxy_sync_proxy_rules_iptables_restore_failures_total` and throws RuleApplyError (the sync
 * runner retries with a full sync, which audits the kernel).
 */
export async function createIptablesProxierWith(
  deps: ProxierDeps,
  options: IptablesProxierOptions = {},
): Promise<IptablesProxier> {
  const backend = options.backend ?? (await detectIptablesBackend(deps.executor, deps.logger));
  const features =
    options.features ?? (await detectKernelFeatures(deps.executor, iptablesTools(backend, "IPv4")));
  const partialSyncs =
    options.partialSyncs ??
    (process.env["KPROXY_IPTABLES_PARTIAL_SYNCS"] === "upstream" ? "upstream" : "kproxy");
  const logger = deps.logger.child({ mode: "iptables", backend });
  if (partialSyncs === "upstream")
    logger.warn("partial syncs rewrite KUBE-SERVICES in full, as upstream (benchmark setting)");
  const restoreFailures = counter(
    deps.metrics,
    "kubeproxy_sync_proxy_rules_iptables_restore_failures_total",
    "Cumulative proxy iptables restore failures",
  );
  const partialRestoreFailures = counter(
    deps.metrics,
    "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total",
    "Cumulative proxy iptables partial restore failures",
  );
  const appliers = new Map<IPFamily, IptablesFamilyApplier>();
  const programmed = new Map<IPFamily, ProxyState>();
  const reports = new Map<IPFamily, FamilySyncReport>();
  let routeLocalnetSet = false;

  const applier = (family: IPFamily): IptablesFamilyApplier => {
    let a = appliers.get(family);
    if (a === undefined) {
      a = new IptablesFamilyApplier({
        tools: iptablesTools(backend, family),
        executor: deps.executor,
        logger,
        clock: deps.clock,
        ...(options.auditPeriodMs === undefined ? {} : { auditPeriodMs: options.auditPeriodMs }),
        ...(options.transformPayload === undefined ? {} : { transformPayload: options.transformPayload }),
        partialSyncs,
      });
      appliers.set(family, a);
    }
    return a;
  };

  // Localhost NodePorts need the kernel to route 127/8 packets that arrive for other addresses
  // (upstream sets this sysctl at start-up when they are enabled).
  const ensureRouteLocalnet = async (state: ProxyState): Promise<void> => {
    if (routeLocalnetSet || state.family !== "IPv4") return;
    if (!renderContext(state, { config: deps.config, features, largeClusterMode: false }).localhostNodePorts)
      return;
    const r = await deps.executor.run("sysctl", ["-w", "net.ipv4.conf.all.route_localnet=1"]);
    if (r.code !== 0)
      logger.warn(
        { stderr: r.stderr.trim() },
        "cannot set route_localnet; localhost NodePorts will not work",
      );
    routeLocalnetSet = true;
  };

  const sync = async (request: SyncRequest): Promise<void> => {
    for (const state of request.states) {
      await ensureRouteLocalnet(state);
      let report: FamilySyncReport;
      try {
        report = await applier(state.family).sync(state, { config: deps.config, features, ...request });
      } catch (err) {
        if (err instanceof RuleApplyError) {
          restoreFailures.inc({ ip_family: state.family });
          if (!request.full) partialRestoreFailures.inc({ ip_family: state.family });
          logger.error(
            {
              family: state.family,
              full: request.full,
              failingLines: err.failingLines,
              stderr: err.stderr.trim(),
            },
            "iptables-restore failed; the previous rules stay in place",
          );
        }
        throw err;
      }
      reports.set(state.family, report);
      logger.debug(
        {
          family: state.family,
          kind: report.kind,
          servicePorts: report.servicePorts,
          writtenChains: report.writtenChains,
          deletedChains: report.deletedChains,
          dispatchEdits: report.dispatchEdits,
          bytes: report.payload.length,
          restoreMs: report.restore?.ms,
        },
        "iptables rules synced",
      );
      const entries = staleUdpEntries(programmed.get(state.family), state);
      programmed.set(state.family, state);
      await clearStaleUdpConntrack(deps.executor, entries, { logger });
    }
  };

  const cleanup = async (): Promise<void> => {
    // Both back ends: kproxy may have written with the other one before (e.g. another detection).
    const failures: string[] = [];
    for (const b of ["nft", "legacy"] as const) {
      for (const family of ["IPv4", "IPv6"] as const) {
        const tools = iptablesTools(b, family);
        let saved: string;
        try {
          const r = await deps.executor.run(tools.save, []);
          if (r.code !== 0) continue;
          saved = r.stdout;
        } catch {
          continue; // tool not installed
        }
        const payload = formatCleanupPayload(saved);
        if (payload === "") continue;
        try {
          await runRestore(deps.executor, { tools, payload });
          logger.info({ backend: b, family }, "removed kproxy's iptables rules");
        } catch (err) {
          failures.push(`${tools.restore}: ${errorMessage(err)}`);
        }
      }
    }
    appliers.clear();
    programmed.clear();
    reports.clear();
    if (failures.length > 0)
      throw new Error(`Cannot remove every iptables rule of kproxy:\n  ${failures.join("\n  ")}`);
  };

  return {
    mode: "iptables",
    backend,
    features,
    lastReports: reports,
    sync,
    cleanup,
    close: async () => {},
  };
}

/** `--proxy-mode iptables`. */
export const createIptablesProxier: ProxierFactory = (deps) => createIptablesProxierWith(deps);
