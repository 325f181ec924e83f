import { isDeepStrictEqual } from "node:util";
import type { V1Service } from "@kubernetes/client-node";
import type { IPFamily } from "../model/protocol.ts";
import { servicePortsFromService } from "../model/service-ports-from-service.ts";
import type { ServicePort } from "../model/service-port.ts";
import { systemClock, type Clock } from "../sys/clock.ts";

/** The ports of one Service before and after the changes queued since the last sync. */
export interface ServiceChange {
  /** Ports as the last sync saw them (by ServicePortName string). */
  readonly previous: ReadonlyMap<string, ServicePort>;
  /** Ports as they are now. */
  readonly current: ReadonlyMap<string, ServicePort>;
  /** When the first of these changes was queued (ms since the epoch). */
  readonly queuedAt: number;
}

/** What `checkoutChanges` hands to one sync. */
export interface ServiceChanges {
  /** By Service `namespace/name`. */
  readonly changes: ReadonlyMap<string, ServiceChange>;
  readonly changedServices: ReadonlySet<string>;
}

/** Called when a Service cannot be used; `reason` names the offending field and value. */
export type InvalidObjectHandler = (kind: string, key: string, reason: string) => void;

/**
 * Collects Service changes between syncs for one IP family, as `{previous, current}` port maps per
 * Service (upstream: `ServiceChangeTracker`). Bursts of updates coalesce; an update that returns a
 * Service to what the last sync saw cancels out. A malformed Service counts as having no ports (it
 * is reported through `onInvalid`) and so never affects the others; an ignored one (headless,
 * ExternalName, another proxy's) has no ports either.
 */
export class ServiceChangeTracker {
  readonly #family: IPFamily;
  readonly #clock: Clock;
  readonly #onInvalid: InvalidObjectHandler | undefined;
  #items = new Map<
    string,
    { previous: Map<string, ServicePort>; current: Map<string, ServicePort>; queuedAt: number }
  >();

  constructor(options: {
    readonly family: IPFamily;
    readonly clock?: Clock;
    readonly onInvalid?: InvalidObjectHandler;
  }) {
    this.#family = options.family;
    this.#clock = options.clock ?? systemClock;
    this.#onInvalid = options.onInvalid;
  }

  /**
   * Queues one event: add (`previous` undefined), update, or delete (`current` undefined). Returns
   * true when changes are pending afterwards.
   */
  update(previous: V1Service | undefined, current: V1Service | undefined): boolean {
    const svc = current ?? previous;
    if (svc === undefined) return this.#items.size > 0;
    const key = `${svc.metadata?.namespace ?? ""}/${svc.metadata?.name ?? ""}`;
    let item = this.#items.get(key);
    if (item === undefined) {
      item = { previous: this.#portsOf(previous, false), current: new Map(), queuedAt: this.#clock.now() };
      this.#items.set(key, item);
    }
    item.current = this.#portsOf(current, true);
    if (isDeepStrictEqual(item.previous, item.current)) this.#items.delete(key);
    return this.#items.size > 0;
  }

  /** Number of Services with pending changes. */
  get pendingCount(): number {
    return this.#items.size;
  }

  /** Takes every pending change (once: the tracker is empty afterwards). */
  checkoutChanges(): ServiceChanges {
    const changes = this.#items;
    this.#items = new Map();
    return { changes, changedServices: new Set(changes.keys()) };
  }

  #portsOf(svc: V1Service | undefined, report: boolean): Map<string, ServicePort> {
    const out = new Map<string, ServicePort>();
    if (svc === undefined) return out;
    const result = servicePortsFromService(svc, this.#family);
    if (result.kind === "invalid") {
      if (report) {
        const key = `${svc.metadata?.namespace ?? ""}/${svc.metadata?.name ?? ""}`;
        this.#onInvalid?.("Service", key, result.reason);
      }
      return out;
    }
    if (result.kind === "ports") for (const port of result.ports) out.set(port.key, port);
    return out;
  }
}

/**
 * Applies checked-out changes to a ServicePortMap (upstream `ServicePortMap.Update`): each changed
 * Service's previous ports are removed and its current ones added.
 */
export function applyServiceChanges(map: Map<string, ServicePort>, changes: ServiceChanges): void {
  for (const change of changes.changes.values()) {
    for (const key of change.previous.keys()) map.delete(key);
    for (const [key, port] of change.current) map.set(key, port);
  }
}
