import { isDeepStrictEqual } from "node:util";
import type { V1EndpointSlice } from "@kubernetes/client-node";
import type { Endpoint } from "../model/endpoint.ts";
import { endpointsFromSlices, serviceKeyOfSlice } from "../model/endpoints-from-slices.ts";
import type { IPFamily } from "../model/protocol.ts";
import { systemClock, type Clock } from "../sys/clock.ts";
import type { InvalidObjectHandler } from "./service-change-tracker.ts";

/** Annotation the EndpointSlice controller sets to when the change behind a slice happened. */
export const annotationLastChangeTriggerTime = "endpoints.kubernetes.io/last-change-trigger-time";

/** The endpoints of one Service (by ServicePortName string) before and after the queued changes. */
export interface EndpointsChange {
  readonly previous: ReadonlyMap<string, readonly Endpoint[]>;
  readonly current: ReadonlyMap<string, readonly Endpoint[]>;
  /** When the first of these changes was queued (ms since the epoch). */
  readonly queuedAt: number;
  /**
   * When the change was triggered: the earliest `last-change-trigger-time` annotation among the
   * changed slices, else `queuedAt`. Network programming latency is measured from here.
   */
  readonly triggeredAt: number;
}

/** What `checkoutChanges` hands to one sync. */
export interface EndpointsChanges {
  /** By Service `namespace/name`. */
  readonly changes: ReadonlyMap<string, EndpointsChange>;
  readonly changedServices: ReadonlySet<string>;
}

interface Item {
  previous: Map<string, Endpoint[]>;
  current: Map<string, Endpoint[]>;
  queuedAt: number;
  triggeredAt: number;
}

/**
 * Collects EndpointSlice changes between syncs for one IP family, merged per Service (upstream:
 * `EndpointsChangeTracker` with its `EndpointSliceCache`): the tracker keeps every slice, and a
 * change records the Service's merged endpoints before and after. Updates that return a Service's
 * endpoints to what the last sync saw cancel out.
 */
export class EndpointsChangeTracker {
  readonly #family: IPFamily;
  readonly #nodeName: string;
  readonly #clock: Clock;
  readonly #onInvalid: InvalidObjectHandler | undefined;
  /** Every known slice, by Service key, then slice name. */
  readonly #slices = new Map<string, Map<string, V1EndpointSlice>>();
  #items = new Map<string, Item>();

  constructor(options: {
    readonly family: IPFamily;
    readonly nodeName: string;
    readonly clock?: Clock;
    readonly onInvalid?: InvalidObjectHandler;
  }) {
    this.#family = options.family;
    this.#nodeName = options.nodeName;
    this.#clock = options.clock ?? systemClock;
    this.#onInvalid = options.onInvalid;
  }

  /** Queues an added/updated slice, or a deleted one (`removed`). Returns true when changes are pending. */
  endpointSliceUpdate(slice: V1EndpointSlice, removed: boolean): boolean {
    const serviceKey = serviceKeyOfSlice(slice);
    const sliceName = slice.metadata?.name ?? "";
    if (serviceKey === undefined || sliceName === "") {
      if (!removed) {
        const key = `${slice.metadata?.namespace ?? ""}/${sliceName}`;
        this.#onInvalid?.("EndpointSlice", key, "metadata.labels has no kubernetes.io/service-name label");
      }
      return this.#items.size > 0;
    }
    const slices = this.#slices.get(serviceKey) ?? new Map<string, V1EndpointSlice>();
    let item = this.#items.get(serviceKey);
    const now = this.#clock.now();
    if (item === undefined) {
      item = { previous: this.#merge(slices), current: new Map(), queuedAt: now, triggeredAt: now };
      this.#items.set(serviceKey, item);
    }
    if (removed) slices.delete(sliceName);
    else slices.set(sliceName, slice);
    if (slices.size === 0) this.#slices.delete(serviceKey);
    else this.#slices.set(serviceKey, slices);
    item.current = this.#merge(slices);
    if (isDeepStrictEqual(item.previous, item.current)) {
      this.#items.delete(serviceKey);
      return this.#items.size > 0;
    }
    const trigger = triggerTimeOf(slice);
    if (trigger !== undefined && trigger < item.triggeredAt) item.triggeredAt = trigger;
    return true;
  }

  /** Number of Services with pending endpoint changes. */
  get pendingCount(): number {
    return this.#items.size;
  }

  /** Takes every pending change (once: the tracker is empty afterwards). */
  checkoutChanges(): EndpointsChanges {
    const changes = this.#items;
    this.#items = new Map();
    return { changes, changedServices: new Set(changes.keys()) };
  }

  #merge(slices: ReadonlyMap<string, V1EndpointSlice>): Map<string, Endpoint[]> {
    if (slices.size === 0) return new Map();
    return endpointsFromSlices([...slices.values()], this.#family, this.#nodeName);
  }
}

/**
 * Applies checked-out changes to an EndpointsMap (upstream `EndpointsMap.Update`): each changed
 * Service's previous port entries are removed and its current ones added.
 */
export function applyEndpointsChanges(
  map: Map<string, readonly Endpoint[]>,
  changes: EndpointsChanges,
): void {
  for (const change of changes.changes.values()) {
    for (const key of change.previous.keys()) map.delete(key);
    for (const [key, eps] of change.current) map.set(key, eps);
  }
}

function triggerTimeOf(slice: V1EndpointSlice): number | undefined {
  const text = slice.metadata?.annotations?.[annotationLastChangeTriggerTime];
  if (text === undefined) return undefined;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : t;
}
