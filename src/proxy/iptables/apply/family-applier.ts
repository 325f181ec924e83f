import type { ProxyConfig } from "../../../config/proxy-config.ts";
import { RuleApplyError } from "../../../errors.ts";
import type { ProxyState } from "../../../model/proxy-state.ts";
import type { Clock } from "../../../sys/clock.ts";
import { runChecked, type Executor } from "../../../sys/executor.ts";
import type { Logger } from "../../../sys/logger.ts";
import type { KernelFeatures } from "../../kernel-features.ts";
import { buildIptablesRuleSet } from "../render/build-iptables-rule-set.ts";
import { kubeProxyCanaryChain } from "../render/chain-names.ts";
import type { IptablesRuleSet } from "../render/iptables-rule-set.ts";
import { formatPartialPayload, partialSyncPossible } from "../render/render-partial.ts";
import { formatUpstreamPartialPayload } from "../render/upstream-partial-payload.ts";
import type { IptablesTools } from "./iptables-tools.ts";
import { formatRepairPayload } from "./repair-payload.ts";
import { runRestore, type RestoreOptions, type RestoreResult } from "./run-restore.ts";

/** How a family's sync reached the kernel. */
export type SyncKind =
  /** Only what changed since the last write (a partial sync, or a full sync's diff). */
  | "diff"
  /** Read the kernel with iptables-save and repaired every difference (first sync, after errors, periodically). */
  | "audit";

/** What one family's sync did, for logs, tests and benchmarks. */
export interface FamilySyncReport {
  readonly kind: SyncKind;
  /** The payload written ("" when nothing needed writing). */
  readonly payload: string;
  readonly restore: RestoreResult | undefined;
  readonly servicePorts: number;
  readonly writtenChains: number;
  readonly deletedChains: number;
  readonly dispatchEdits: number;
  /** True when the canary showed that someone flushed kproxy's rules (followed by an audit). */
  readonly canaryTripped: boolean;
  readonly renderMs: number;
}

export interface FamilyApplierOptions {
  readonly tools: IptablesTools;
  readonly executor: Executor;
  readonly logger: Logger;
  readonly clock: Clock;
  /** How often a full sync also reads the kernel back and repairs differences (default 1 h, upstream's full-sync period). */
  readonly auditPeriodMs?: number;
  /**
   * `upstream`: partial syncs rewrite the whole filter table and nat's shared chains, as
   * upstream's proxier does, instead of single-rule edits. Only for benchmarks that compare the
   * two (`KPROXY_IPTABLES_PARTIAL_SYNCS=upstream`). Default `kproxy`.
   */
  readonly partialSyncs?: "kproxy" | "upstream";
  /** Test seam, see `RestoreOptions.transformPayload`. */
  readonly transformPayload?: (payload: string) => string;
}

/** The report of a sync that had nothing to write. */
function nothingWritten(renderMs: number): FamilySyncReport {
  return {
    kind: "diff",
    payload: "",
    restore: undefined,
    servicePorts: 0,
    writtenChains: 0,
    deletedChains: 0,
    dispatchEdits: 0,
    canaryTripped: false,
    renderMs,
  };
}

const canaryProbeLines = new Set([
  `-D ${kubeProxyCanaryChain} -j RETURN`,
  `-A ${kubeProxyCanaryChain} -j RETURN`,
]);

/**
 * Keeps one IP family's iptables rules in line with the desired state, remembering what it last
 * wrote. Every sync writes at most one `iptables-restore --noflush`:
 * - normally the difference from the last successful write (partial syncs: the changed services;
 *   full syncs: every service re-rendered and compared), starting with a canary probe that fails
 *   if someone flushed or deleted kproxy's chains;
 * - an audit instead on the first sync, after any failure, when the canary tripped, when the
 *   context changed (configuration, node, large-cluster mode) and on full syncs once per
 *   `auditPeriodMs`: `iptables-save`, compare every chain of kproxy's, write what differs (all of
 *   it on an empty kernel), delete stale chains, insert missing top-level jumps.
 * A failed write throws RuleApplyError and keeps the previous bookkeeping; the next sync audits.
 */
export class IptablesFamilyApplier {
  readonly #o: FamilyApplierOptions;
  #applied: IptablesRuleSet | undefined;
  #needsAudit = true;
  #lastAuditAt = Number.NEGATIVE_INFINITY;
  #mangleCanary = false;

  constructor(options: FamilyApplierOptions) {
    this.#o = options;
  }

  /** The rule set the kernel is known to hold (after the last successful sync). */
  get applied(): IptablesRuleSet | undefined {
    return this.#applied;
  }

  /** Makes the next sync an audit (e.g. after a failure elsewhere). */
  requestAudit(): void {
    this.#needsAudit = true;
  }

  async sync(
    state: ProxyState,
    request: {
      readonly config: ProxyConfig;
      readonly features: KernelFeatures;
      readonly full: boolean;
      readonly changedServices: ReadonlySet<string>;
    },
  ): Promise<FamilySyncReport> {
    const { config, features } = request;
    const start = performance.now();
    const previous = this.#applied;
    const desired = buildIptablesRuleSet(state, {
      config,
      features,
      ...(previous !== undefined && !request.full
        ? { reuse: { previous, changedServices: request.changedServices } }
        : {}),
    });
    const auditPeriod = this.#o.auditPeriodMs ?? 3_600_000;
    const auditDue =
      this.#needsAudit ||
      previous === undefined ||
      !partialSyncPossible(previous, desired) ||
      (request.full && this.#o.clock.now() - this.#lastAuditAt >= auditPeriod);
    if (auditDue || previous === undefined) return this.#audit(desired, start, false);

    const partial = formatPartialPayload(previous, desired, { canaryProbe: true });
    const empty = partial.servicePorts.length === 0;
    const text =
      this.#o.partialSyncs === "upstream" && !request.full && !empty
        ? formatUpstreamPartialPayload(previous, desired)
        : partial.text;
    const renderMs = performance.now() - start;
    // A full sync that finds nothing to write only needs to know that nobody flushed the rules.
    // With iptables-legacy every restore replaces a whole table (seconds at 10,000 services), so
    // there the canary in the small mangle table is read instead, as upstream's monitor does; a
    // missing one means the tables were reset: audit. (nft restores of a probe cost ~0.1 s.)
    if (empty && request.full && this.#o.tools.backend === "legacy" && this.#mangleCanary) {
      const r = await this.#o.executor.run(this.#o.tools.iptables, [
        "-w",
        "60",
        "-t",
        "mangle",
        "-S",
        kubeProxyCanaryChain,
      ]);
      if (r.code === 0) {
        this.#applied = desired;
        return nothingWritten(renderMs);
      }
      this.#o.logger.warn(
        { family: this.#o.tools.family },
        "kproxy's canary chain is gone (tables reset by someone else); rewriting the rules",
      );
      this.#needsAudit = true;
      return this.#audit(desired, start, true);
    }
    if (empty && !request.full) {
      this.#applied = desired;
      return nothingWritten(renderMs);
    }
    try {
      const restore = await runRestore(this.#o.executor, {
        tools: this.#o.tools,
        payload: text,
        ...this.#restoreOptions(),
      });
      this.#applied = desired;
      return {
        kind: "diff",
        payload: text,
        restore,
        servicePorts: partial.servicePorts.length,
        writtenChains: partial.writtenChains.length,
        deletedChains: partial.deletedChains.length,
        dispatchEdits: partial.dispatchEdits,
        canaryTripped: false,
        renderMs,
      };
    } catch (err) {
      this.#needsAudit = true;
      if (err instanceof RuleApplyError && err.failingLines.some((l) => canaryProbeLines.has(l))) {
        this.#o.logger.warn(
          { family: this.#o.tools.family, line: err.failingLines[0] },
          "kproxy's iptables chains were flushed or deleted by someone else; rewriting them",
        );
        return this.#audit(desired, start, true);
      }
      throw err;
    }
  }

  #restoreOptions(): RestoreOptions {
    return this.#o.transformPayload === undefined ? {} : { transformPayload: this.#o.transformPayload };
  }

  async #audit(desired: IptablesRuleSet, start: number, canaryTripped: boolean): Promise<FamilySyncReport> {
    const saved = await runChecked(this.#o.executor, this.#o.tools.save, []);
    const repair = formatRepairPayload(desired, saved);
    const renderMs = performance.now() - start;
    const restore =
      repair.text === ""
        ? undefined
        : await runRestore(this.#o.executor, {
            tools: this.#o.tools,
            payload: repair.text,
            ...this.#restoreOptions(),
          });
    this.#applied = desired;
    this.#needsAudit = false;
    this.#lastAuditAt = this.#o.clock.now();
    this.#mangleCanary = repair.mangleCanary;
    if (repair.text !== "") {
      this.#o.logger.debug(
        {
          family: this.#o.tools.family,
          written: repair.writtenChains.length,
          deleted: repair.deletedChains.length,
          jumps: repair.insertedJumps.length,
        },
        "iptables audit repaired differences",
      );
    }
    return {
      kind: "audit",
      payload: repair.text,
      restore,
      servicePorts: desired.services.size,
      writtenChains: repair.writtenChains.length,
      deletedChains: repair.deletedChains.length,
      dispatchEdits: repair.insertedJumps.length,
      canaryTripped,
      renderMs,
    };
  }
}
