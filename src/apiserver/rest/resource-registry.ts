import { errorMessage } from "../../errors.ts";
import type { Logger } from "../../sys/logger.ts";
import type { AllocationTransaction, ServiceAllocator } from "../controllers/service-allocator.ts";
import { ApiError, alreadyExists, badRequest, conflict, invalid, notFound } from "../http/api-error.ts";
import type { KubeObject, ResourceStrategy } from "../registry/resource-strategy.ts";
import type { ObjectStore } from "../store/object-store.ts";
import type { StoredObject } from "../store/stored-object.ts";
import { DeadlineTimers } from "./deadline-timers.ts";
import { withKind } from "./object-kind.ts";
import { podGracePeriodSeconds } from "./pod-grace-period.ts";
import {
  previewOf,
  generatedName,
  initialiseMetadata,
  kubeTimestamp,
  specChanged,
} from "./object-meta-defaults.ts";

/** Options of one write. */
export interface WriteOptions {
  /** `dryRun=All`: everything but storing. */
  readonly dryRun?: boolean;
  readonly subresource?: "status";
}

/** DeleteOptions that matter here. */
export interface DeleteOptions {
  readonly dryRun?: boolean;
  readonly gracePeriodSeconds?: number;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
}

/** The store key of a resource: `group/resource` (`/services`, `discovery.k8s.io/endpointslices`). */
export function resourceKey(strategy: ResourceStrategy): string {
  return `${strategy.info.group}/${strategy.info.resource}`;
}

const servicesKey = "/services";
const namespacesKey = "/namespaces";
const podsKey = "/pods";

/**
 * The verbs with Kubernetes semantics over the store, for HTTP handlers and in-process
 * controllers alike: create (generateName, namespace must exist), update with optimistic
 * concurrency, `/status` updates, delete (finalizers and graceful Pod deletion), each through the
 * resource's strategy (defaults → Service allocation → validation).
 */
export class ResourceRegistry {
  readonly store: ObjectStore;
  readonly #strategies = new Map<string, ResourceStrategy>();
  readonly #allocator: ServiceAllocator;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #podTimers: DeadlineTimers;

  constructor(options: {
    store: ObjectStore;
    strategies: readonly ResourceStrategy[];
    allocator: ServiceAllocator;
    logger: Logger;
    now?: () => number;
  }) {
    this.store = options.store;
    for (const s of options.strategies) this.#strategies.set(resourceKey(s), s);
    this.#allocator = options.allocator;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#podTimers = new DeadlineTimers(this.#now);
  }

  /** Every served resource's strategy. */
  get strategies(): ResourceStrategy[] {
    return [...this.#strategies.values()];
  }

  /** The strategy of `group/resource`, if served. */
  strategy(group: string, resource: string): ResourceStrategy | undefined {
    return this.#strategies.get(`${group}/${resource}`);
  }

  /** Re-arms what must survive a restart: Service allocations and pending Pod deletions. */
  restore(): void {
    for (const svc of this.store.list(servicesKey)) {
      for (const warning of this.#allocator.restore(svc.object)) {
        this.#logger.warn(
          { service: svc.key, warning },
          "stored Service allocation conflicts; kept as stored",
        );
      }
    }
    for (const pod of this.store.list(podsKey)) {
      const at = pod.object.metadata?.deletionTimestamp;
      if (typeof at === "string" && (pod.object.metadata?.finalizers ?? []).length === 0) {
        this.#schedulePodRemoval(pod.namespace, pod.name, Date.parse(at));
      }
    }
  }

  /** Stops timers (pending Pod deletions resume on the next start). */
  close(): void {
    this.#podTimers.clear();
  }

  get(strategy: ResourceStrategy, namespace: string, name: string): StoredObject {
    const stored = this.store.get(resourceKey(strategy), this.#ns(strategy, namespace), name);
    if (stored === undefined) throw notFound(strategy.info.group, strategy.info.resource, name);
    return stored;
  }

  /** Creates `body` in `namespace` (cluster-scoped resources ignore it). */
  async create(
    strategy: ResourceStrategy,
    namespace: string,
    body: KubeObject,
    options: WriteOptions = {},
  ): Promise<StoredObject> {
    const { group, resource, kind } = strategy.info;
    const obj = withKind(strategy, structuredClone(body));
    const ns = this.#ns(strategy, namespace || (obj.metadata?.namespace ?? ""));
    const meta = (obj.metadata ??= {});
    if (strategy.info.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== "" && meta.namespace !== ns) {
        throw badRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
      meta.namespace = ns;
    } else {
      delete meta.namespace;
    }
    if ((meta.name ?? "") === "") {
      if ((meta.generateName ?? "") === "") {
        throw invalid(group, kind, "", [
          { field: "metadata.name", message: "Required value: name or generateName is required" },
        ]);
      }
      do meta.name = generatedName(meta.generateName ?? "");
      while (this.store.get(resourceKey(strategy), ns, meta.name) !== undefined);
    }
    const name = meta.name ?? "";
    if (strategy.info.namespaced) this.#requireNamespace(ns);
    if (this.store.get(resourceKey(strategy), ns, name) !== undefined)
      throw alreadyExists(group, resource, name);
    initialiseMetadata(obj, this.#now());
    strategy.prepareForCreate(obj);
    const tx = resourceKey(strategy) === servicesKey ? this.#allocator.allocate(obj, undefined) : undefined;
    const problems = strategy.validate(obj);
    if (problems.length > 0) {
      tx?.rollback();
      throw invalid(group, kind, name, problems);
    }
    if (options.dryRun) {
      tx?.rollback();
      return previewOf(obj);
    }
    tx?.commit();
    const { stored, committed } = this.store.put(resourceKey(strategy), obj);
    await committed;
    return stored;
  }

  /**
   * Replaces an object (PUT). A `resourceVersion` in the body must match the stored one (409
   * otherwise). Services and EndpointSlices may be created this way, as upstream allows.
   */
  async update(
    strategy: ResourceStrategy,
    namespace: string,
    name: string,
    body: KubeObject,
    options: WriteOptions = {},
  ): Promise<{ stored: StoredObject; created: boolean }> {
    const obj = withKind(strategy, structuredClone(body));
    const ns = this.#ns(strategy, namespace);
    if (obj.metadata?.name !== undefined && obj.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    const current = this.store.get(resourceKey(strategy), ns, name);
    if (current === undefined) {
      const key = resourceKey(strategy);
      const createOnUpdate =
        key === servicesKey || key === "discovery.k8s.io/endpointslices" || key === "/events";
      if (
        !createOnUpdate ||
        options.subresource !== undefined ||
        (obj.metadata?.resourceVersion ?? "") !== ""
      ) {
        throw notFound(strategy.info.group, strategy.info.resource, name);
      }
      (obj.metadata ??= {}).name = name;
      return { stored: await this.create(strategy, ns, obj, options), created: true };
    }
    return { stored: await this.replace(strategy, current, obj, options), created: false };
  }

  /**
   * Writes `body` over `current` (already read; the body of a PUT or a patched copy). The body is
   * copied first: it may share parts with stored objects, which are frozen.
   */
  async replace(
    strategy: ResourceStrategy,
    current: StoredObject,
    body: KubeObject,
    options: WriteOptions = {},
  ): Promise<StoredObject> {
    const { group, resource, kind } = strategy.info;
    const obj = structuredClone(body);
    const meta = (obj.metadata ??= {});
    const wantedRv = meta.resourceVersion ?? "";
    if (wantedRv !== "" && wantedRv !== String(current.rv)) {
      throw conflict(
        group,
        resource,
        current.name,
        "the object has been modified; please apply your changes to the latest version and try again",
      );
    }
    meta.name = current.name;
    if (strategy.info.namespaced) meta.namespace = current.namespace;
    else delete meta.namespace;
    delete meta.managedFields;
    const old = current.object;
    strategy.prepareForUpdate(obj, old, options.subresource);
    const m = (obj.metadata ??= {});
    if (old.metadata?.uid !== undefined) m.uid = old.metadata.uid;
    if (old.metadata?.creationTimestamp !== undefined) m.creationTimestamp = old.metadata.creationTimestamp;
    if (old.metadata?.deletionTimestamp !== undefined) m.deletionTimestamp = old.metadata.deletionTimestamp;
    m.generation = (old.metadata?.generation ?? 1) + (specChanged(obj, old) ? 1 : 0);
    let tx: AllocationTransaction | undefined;
    if (resourceKey(strategy) === servicesKey) tx = this.#allocator.allocate(obj, old, options.subresource);
    const problems = strategy.validateUpdate(obj, old);
    if (problems.length > 0) {
      tx?.rollback();
      throw invalid(group, kind, current.name, problems);
    }
    if (options.dryRun) {
      tx?.rollback();
      return previewOf(obj);
    }
    tx?.commit();
    m.resourceVersion = String(current.rv);
    // An update that changes nothing keeps the resourceVersion and wakes no watcher, as upstream.
    if (JSON.stringify(obj) === current.json) return current;
    if (m.deletionTimestamp !== undefined && (m.finalizers ?? []).length === 0) {
      return this.#remove(strategy, current.namespace, current.name);
    }
    const { stored, committed } = this.store.put(resourceKey(strategy), obj);
    await committed;
    if (tx !== undefined) this.#assignFreedLoadBalancerIP();
    return stored;
  }

  /** Gives an ingress IP freed by a Service to one still waiting for one (a status update). */
  #assignFreedLoadBalancerIP(): void {
    const owner = this.#allocator.nextPendingLoadBalancer();
    const services = this.#strategies.get(servicesKey);
    if (owner === undefined || services === undefined) return;
    const slash = owner.indexOf("/");
    const pending = this.store.get(servicesKey, owner.slice(0, slash), owner.slice(slash + 1));
    if (pending === undefined) return;
    this.replace(services, pending, pending.object, { subresource: "status" }).catch((err: unknown) =>
      this.#logger.warn(
        { service: owner, err: errorMessage(err) },
        "cannot give a pending LoadBalancer its IP",
      ),
    );
  }

  /**
   * Deletes an object: at once, or — with finalizers, or a Pod with a grace period — marks it
   * with `deletionTimestamp` and removes it when the finalizers are gone or the period is over
   * (the server plays the kubelet's part, since no kubelet confirms).
   */
  async delete(
    strategy: ResourceStrategy,
    namespace: string,
    name: string,
    options: DeleteOptions = {},
  ): Promise<StoredObject> {
    const { group, resource } = strategy.info;
    const current = this.get(strategy, namespace, name);
    const pre = options.preconditions;
    if (pre?.uid !== undefined && pre.uid !== current.object.metadata?.uid) {
      throw conflict(
        group,
        resource,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.object.metadata?.uid ?? ""}`,
      );
    }
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== String(current.rv)) {
      throw conflict(
        group,
        resource,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.rv}`,
      );
    }
    if (options.dryRun) return current;
    const key = resourceKey(strategy);
    const finalizers = current.object.metadata?.finalizers ?? [];
    const grace = key === podsKey ? podGracePeriodSeconds(current.object, options.gracePeriodSeconds) : 0;
    if (finalizers.length > 0 || grace > 0) {
      const obj = structuredClone(current.object);
      const meta = (obj.metadata ??= {});
      // Whole seconds, rounded up: a Pod never goes before its grace period is over.
      const deadline = Math.ceil((this.#now() + grace * 1000) / 1000) * 1000;
      const existing = meta.deletionTimestamp === undefined ? undefined : Date.parse(meta.deletionTimestamp);
      if (existing === undefined || deadline < existing) {
        meta.deletionTimestamp = kubeTimestamp(deadline);
        meta["deletionGracePeriodSeconds"] = grace;
      }
      if (key === podsKey && finalizers.length === 0) {
        this.#schedulePodRemoval(current.namespace, name, Date.parse(meta.deletionTimestamp ?? ""));
      }
      if (JSON.stringify(obj) === current.json) return current;
      const { stored, committed } = this.store.put(key, obj);
      await committed;
      return stored;
    }
    return this.#remove(strategy, current.namespace, name);
  }

  async #remove(strategy: ResourceStrategy, namespace: string, name: string): Promise<StoredObject> {
    const key = resourceKey(strategy);
    const waits: Array<Promise<void>> = [];
    if (key === namespacesKey) {
      // Deleting a namespace deletes everything in it (no namespace controller to wait for).
      for (const s of this.#strategies.values()) {
        if (!s.info.namespaced) continue;
        for (const o of [...this.store.list(resourceKey(s), { namespace: name })]) {
          waits.push(this.#remove(s, o.namespace, o.name).then(() => undefined));
        }
      }
    }
    const current = this.store.get(key, namespace, name);
    if (current === undefined) throw notFound(strategy.info.group, strategy.info.resource, name);
    if (key === servicesKey) {
      this.#allocator.release(current.object);
      queueMicrotask(() => this.#assignFreedLoadBalancerIP());
    }
    if (key === podsKey) {
      this.#podTimers.cancel(`${namespace}/${name}`);
    }
    const removed = this.store.remove(key, namespace, name);
    if (removed === undefined) throw notFound(strategy.info.group, strategy.info.resource, name);
    await Promise.all([...waits, removed.committed]);
    return removed.stored;
  }

  #schedulePodRemoval(namespace: string, name: string, atMs: number): void {
    const id = `${namespace}/${name}`;
    this.#podTimers.set(id, atMs, () => {
      const pods = this.#strategies.get(podsKey);
      if (pods === undefined || this.store.get(podsKey, namespace, name) === undefined) return;
      this.#remove(pods, namespace, name).catch((err: unknown) =>
        this.#logger.warn({ pod: id, err: errorMessage(err) }, "cannot remove a Pod after its grace period"),
      );
    });
  }

  #ns(strategy: ResourceStrategy, namespace: string): string {
    return strategy.info.namespaced ? namespace : "";
  }

  #requireNamespace(namespace: string): void {
    if (namespace === "") throw badRequest("a namespace is required for a namespaced resource");
    const ns = this.store.get(namespacesKey, "", namespace);
    if (ns === undefined) throw notFound("", "namespaces", namespace);
    if (ns.object.metadata?.deletionTimestamp !== undefined) {
      throw new ApiError(
        403,
        "Forbidden",
        `unable to create new content in namespace ${namespace} because it is being terminated`,
      );
    }
  }
}
