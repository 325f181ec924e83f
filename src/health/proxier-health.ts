import type { V1Node } from "@kubernetes/client-node";
import { systemClock, type Clock } from "../sys/clock.ts";

/** Taint the cluster autoscaler puts on a node it is about to delete. */
export const toBeDeletedTaint = "ToBeDeletedByClusterAutoscaler";

/** One health verdict, with the times upstream's JSON body reports. */
export interface HealthStatus {
  readonly healthy: boolean;
  /** ms since the epoch; 0 when nothing was ever synced. */
  readonly lastUpdated: number;
  readonly currentTime: number;
}

/**
 * The proxy's own health, with upstream's semantics (`proxierHealthServer`): healthy unless a queued
 * change has waited longer than `healthTimeoutMs` for a successful sync (healthy while starting up);
 * the node is eligible unless it is being deleted or carries the autoscaler's to-be-deleted taint.
 */
export class ProxierHealth {
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  #lastUpdated = 0;
  #oldestPendingQueued = 0;
  #nodeEligible = true;

  constructor(options: { readonly healthTimeoutMs: number; readonly clock?: Clock }) {
    this.#timeoutMs = options.healthTimeoutMs;
    this.#clock = options.clock ?? systemClock;
  }

  /** A change arrived that the rules do not reflect yet. Only the oldest pending one counts. */
  queuedUpdate(): void {
    if (this.#oldestPendingQueued === 0) this.#oldestPendingQueued = this.#clock.now();
  }

  /** The rules reflect every change queued before the sync started. */
  updated(): void {
    this.#oldestPendingQueued = 0;
    this.#lastUpdated = this.#clock.now();
  }

  /** Follows this node's Node object (undefined: not known yet, which counts as eligible). */
  syncNode(node: V1Node | undefined): void {
    if (node === undefined) return;
    const deleting =
      node.metadata?.deletionTimestamp !== undefined && node.metadata.deletionTimestamp !== null;
    const tainted = (node.spec?.taints ?? []).some((t) => t.key === toBeDeletedTaint);
    this.#nodeEligible = !deleting && !tainted;
  }

  /** This node's Node object was deleted: the node no longer takes traffic. */
  nodeDeleted(): void {
    this.#nodeEligible = false;
  }

  get nodeEligible(): boolean {
    return this.#nodeEligible;
  }

  /** The proxy's health, ignoring the node (what `/livez` and service health checks use). */
  status(): HealthStatus {
    const currentTime = this.#clock.now();
    const healthy =
      this.#oldestPendingQueued === 0 || currentTime - this.#oldestPendingQueued < this.#timeoutMs;
    return { healthy, lastUpdated: this.#lastUpdated, currentTime };
  }

  isHealthy(): boolean {
    return this.status().healthy;
  }
}
