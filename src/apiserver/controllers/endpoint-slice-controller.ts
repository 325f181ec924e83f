import { errorMessage } from "../../errors.ts";
import type { Logger } from "../../sys/logger.ts";
import { selectorMapMatches } from "../http/label-selector.ts";
import type { KubeObject, ResourceStrategy } from "../registry/resource-strategy.ts";
import type { ResourceRegistry } from "../rest/resource-registry.ts";
import type { StoreEvent, StoredObject } from "../store/stored-object.ts";
import {
  desiredSliceGroups,
  labelHeadless,
  labelManagedBy,
  labelServiceName,
  managedByKproxy,
  maxEndpointsPerSlice,
  podReady,
} from "./endpoint-slice-desired.ts";
import type { ServiceSpec } from "./service-fields.ts";

const servicesKey = "/services";
const podsKey = "/pods";
const nodesKey = "/nodes";
const slicesKey = "discovery.k8s.io/endpointslices";
const zoneLabel = "topology.kubernetes.io/zone";
const triggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time";

/** What of a Pod the slices depend on: a change elsewhere (e.g. annotations) needs no resync. */
function podSignature(pod: KubeObject | undefined): string {
  if (pod === undefined) return "";
  const p = pod as { spec?: Record<string, unknown>; status?: Record<string, unknown> };
  return JSON.stringify([
    pod.metadata?.labels,
    pod.metadata?.deletionTimestamp,
    p.spec?.["nodeName"],
    p.spec?.["hostname"],
    p.spec?.["subdomain"],
    p.spec?.["containers"],
    p.status?.["podIP"],
    p.status?.["podIPs"],
    p.status?.["phase"],
    podReady(pod),
  ]);
}

/**
 * The EndpointSlice controller: for each Service with a selector, keeps EndpointSlices (labelled
 * `kubernetes.io/service-name` and managed-by kproxy, owned by the Service) listing its matching
 * Pods, at most 100 endpoints each; reconciles on Service, Pod, Node and slice changes. Slices of
 * Services without a selector belong to their users and are left alone.
 */
export class EndpointSliceController {
  readonly #registry: ResourceRegistry;
  readonly #logger: Logger;
  readonly #slices: ResourceStrategy | undefined;
  /** Managed slices per Service (`namespace/name` → slice names): no scan per reconcile. */
  readonly #managed = new Map<string, Set<string>>();
  readonly #queue = new Map<string, number>();
  readonly #inFlight = new Set<string>();
  #subscriptions: Array<{ cancel(): void }> = [];
  #scheduled: NodeJS.Immediate | undefined;
  #stopped = false;
  #idleWaiters: Array<() => void> = [];

  constructor(options: { registry: ResourceRegistry; logger: Logger }) {
    this.#registry = options.registry;
    this.#logger = options.logger;
    this.#slices = options.registry.strategy("discovery.k8s.io", "endpointslices");
  }

  /** Indexes existing slices, reconciles every Service once, then follows changes. */
  start(): void {
    const store = this.#registry.store;
    for (const slice of store.list(slicesKey)) this.#index(undefined, slice);
    const from = store.resourceVersion;
    this.#subscriptions = [
      store.watch(servicesKey, from, (e) => this.#enqueue(`${e.object.namespace}/${e.object.name}`)),
      store.watch(podsKey, from, (e) => this.#onPod(e)),
      store.watch(nodesKey, from, (e) => this.#onNode(e)),
      store.watch(slicesKey, from, (e) => this.#onSlice(e)),
    ];
    for (const svc of store.list(servicesKey)) this.#enqueue(svc.key);
    for (const key of this.#managed.keys()) this.#enqueue(key);
  }

  stop(): void {
    this.#stopped = true;
    for (const s of this.#subscriptions) s.cancel();
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    for (const w of this.#idleWaiters) w();
  }

  /** Resolves when no reconcile is queued or running (for tests). */
  async idle(): Promise<void> {
    if (this.#queue.size === 0 && this.#inFlight.size === 0) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  #enqueue(serviceKey: string): void {
    if (this.#stopped) return;
    if (!this.#queue.has(serviceKey)) this.#queue.set(serviceKey, Date.now());
    this.#scheduled ??= setImmediate(() => this.#drain());
  }

  #drain(): void {
    this.#scheduled = undefined;
    const batch = [...this.#queue].filter(([key]) => !this.#inFlight.has(key));
    for (const [key, triggered] of batch) {
      this.#queue.delete(key);
      this.#inFlight.add(key);
      this.#reconcile(key, triggered)
        .catch((err: unknown) => {
          this.#logger.warn(
            { service: key, err: errorMessage(err) },
            "cannot reconcile EndpointSlices; will retry",
          );
          setTimeout(() => this.#enqueue(key), 1000).unref();
        })
        .finally(() => {
          this.#inFlight.delete(key);
          if (this.#queue.size > 0) this.#scheduled ??= setImmediate(() => this.#drain());
          else if (this.#inFlight.size === 0) {
            for (const w of this.#idleWaiters.splice(0)) w();
          }
        });
    }
  }

  #onPod(e: StoreEvent): void {
    if (e.type === "MODIFIED" && podSignature(e.previous?.object) === podSignature(e.object.object)) return;
    const labels = [e.object.object.metadata?.labels, e.previous?.object.metadata?.labels];
    for (const svc of this.#registry.store.inNamespace(servicesKey, e.object.namespace)) {
      const selector = (svc.object.spec as ServiceSpec | undefined)?.selector;
      if (labels.some((l) => selectorMapMatches(selector, l))) this.#enqueue(svc.key);
    }
  }

  #onNode(e: StoreEvent): void {
    const zone = (o: StoredObject | undefined): string | undefined => o?.object.metadata?.labels?.[zoneLabel];
    if (e.type === "MODIFIED" && zone(e.previous) === zone(e.object)) return;
    const store = this.#registry.store;
    for (const pod of store.list(podsKey)) {
      if ((pod.object.spec as { nodeName?: string } | undefined)?.nodeName !== e.object.name) continue;
      this.#onPod({ type: "ADDED", rv: e.rv, object: pod, previous: undefined });
    }
  }

  #onSlice(e: StoreEvent): void {
    this.#index(e.type === "ADDED" ? undefined : e.previous, e.type === "DELETED" ? undefined : e.object);
    const owner = (o: StoredObject | undefined): string | undefined =>
      o?.object.metadata?.labels?.[labelManagedBy] === managedByKproxy
        ? o.object.metadata.labels[labelServiceName]
        : undefined;
    const svc = owner(e.object) ?? owner(e.previous);
    const key = `${e.object.namespace}/${svc}`;
    // A change during that Service's reconcile is (almost surely) its own write: no echo.
    if (svc !== undefined && !this.#inFlight.has(key)) this.#enqueue(key);
  }

  #index(before: StoredObject | undefined, after: StoredObject | undefined): void {
    const keyOf = (o: StoredObject | undefined): string | undefined => {
      const labels = o?.object.metadata?.labels;
      if (o === undefined || labels?.[labelManagedBy] !== managedByKproxy) return undefined;
      const svc = labels[labelServiceName];
      return svc === undefined ? undefined : `${o.namespace}/${svc}`;
    };
    const oldKey = keyOf(before);
    if (oldKey !== undefined && before !== undefined) {
      const set = this.#managed.get(oldKey);
      set?.delete(before.name);
      if (set?.size === 0) this.#managed.delete(oldKey);
    }
    const newKey = keyOf(after);
    if (newKey !== undefined && after !== undefined) {
      let set = this.#managed.get(newKey);
      if (set === undefined) this.#managed.set(newKey, (set = new Set()));
      set.add(after.name);
    }
  }

  async #reconcile(serviceKey: string, triggeredMs: number): Promise<void> {
    const slices = this.#slices;
    if (slices === undefined || this.#stopped) return;
    const store = this.#registry.store;
    const slash = serviceKey.indexOf("/");
    const namespace = serviceKey.slice(0, slash);
    const name = serviceKey.slice(slash + 1);
    const svc = store.get(servicesKey, namespace, name)?.object;
    const existing = [...(this.#managed.get(serviceKey) ?? [])]
      .map((n) => store.get(slicesKey, namespace, n))
      .filter((s): s is StoredObject => s !== undefined)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const spec = (svc?.spec ?? {}) as ServiceSpec;
    const selector = spec.selector;
    const writes: Array<Promise<unknown>> = [];
    if (
      svc === undefined ||
      selector === undefined ||
      Object.keys(selector).length === 0 ||
      spec.type === "ExternalName"
    ) {
      for (const s of existing)
        writes.push(this.#registry.delete(slices, namespace, s.name).catch(() => undefined));
      await Promise.all(writes);
      return;
    }
    const pods = [...store.inNamespace(podsKey, namespace)]
      .map((p) => p.object)
      .filter((p) => selectorMapMatches(selector, p.metadata?.labels));
    const zoneOf = (node: string): string | undefined =>
      store.get(nodesKey, "", node)?.object.metadata?.labels?.[zoneLabel];
    const groups = desiredSliceGroups(svc, pods, zoneOf);
    const desired: Array<{
      addressType: string;
      ports: unknown[] | undefined;
      endpoints: unknown[];
      matchKey: string;
    }> = [];
    for (const g of groups) {
      for (let i = 0; i < g.endpoints.length; i += maxEndpointsPerSlice) {
        desired.push({
          addressType: g.addressType,
          ports: g.ports,
          endpoints: g.endpoints.slice(i, i + maxEndpointsPerSlice),
          matchKey: `${g.addressType}|${g.portsKey}`,
        });
      }
    }
    if (desired.length === 0) {
      // Upstream keeps one empty placeholder slice for a selector that matches nothing.
      const family = Array.isArray(spec.ipFamilies) && spec.ipFamilies[0] === "IPv6" ? "IPv6" : "IPv4";
      desired.push({
        addressType: family,
        ports: undefined,
        endpoints: [],
        matchKey: `${family}|placeholder`,
      });
    }
    const labels: Record<string, string> = {
      ...(svc.metadata?.labels ?? {}),
      [labelServiceName]: name,
      [labelManagedBy]: managedByKproxy,
    };
    if (spec.clusterIP === "None") labels[labelHeadless] = "";
    else delete labels[labelHeadless];
    const ownerReferences = [
      {
        apiVersion: "v1",
        kind: "Service",
        name,
        uid: svc.metadata?.uid ?? "",
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
    const matchKeyOf = (s: KubeObject): string => {
      const ports = s["ports"];
      const key = ports === undefined || ports === null ? "placeholder" : JSON.stringify(ports);
      return `${String(s["addressType"])}|${key}`;
    };
    const unused = [...existing];
    const body = (d: (typeof desired)[number]): KubeObject => ({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        namespace,
        labels,
        annotations: { [triggerTimeAnnotation]: new Date(triggeredMs).toISOString() },
        ownerReferences,
      },
      addressType: d.addressType,
      endpoints: d.endpoints,
      ...(d.ports !== undefined ? { ports: d.ports } : {}),
    });
    const sameContent = (s: KubeObject, d: (typeof desired)[number]): boolean =>
      JSON.stringify([s.metadata?.labels, s.metadata?.ownerReferences, s["endpoints"], s["ports"]]) ===
      JSON.stringify([labels, ownerReferences, d.endpoints, d.ports]);
    const toCreate: Array<(typeof desired)[number]> = [];
    for (const d of desired) {
      const i = unused.findIndex((s) => matchKeyOf(s.object) === d.matchKey);
      const reuse = i >= 0 ? unused.splice(i, 1)[0] : undefined;
      if (reuse === undefined) {
        toCreate.push(d);
        continue;
      }
      if (sameContent(reuse.object, d)) continue;
      const next = body(d);
      next.metadata = {
        ...reuse.object.metadata,
        ...next.metadata,
        name: reuse.name,
        resourceVersion: String(reuse.rv),
      };
      writes.push(this.#registry.replace(slices, reuse, next));
    }
    for (const d of toCreate) {
      // Rather than create and delete, rewrite an unused slice of another mapping.
      const reuse = unused.shift();
      const next = body(d);
      if (reuse !== undefined) {
        next.metadata = {
          ...reuse.object.metadata,
          ...next.metadata,
          name: reuse.name,
          resourceVersion: String(reuse.rv),
        };
        writes.push(this.#registry.replace(slices, reuse, next));
      } else {
        (next.metadata ??= {}).generateName = `${name.slice(0, 57)}-`;
        writes.push(this.#registry.create(slices, namespace, next));
      }
    }
    for (const s of unused)
      writes.push(this.#registry.delete(slices, namespace, s.name).catch(() => undefined));
    await Promise.all(writes);
  }
}
