import type { V1EndpointSlice, V1Namespace, V1Pod, V1Service } from "@kubernetes/client-node";
import { canonicalIP } from "../model/ip.ts";
import type { NameRecords } from "./name-records.ts";
import { serviceRecords, type ServiceRecordOptions } from "./service-records.ts";

/** Label naming the Service an EndpointSlice belongs to. */
const serviceNameLabel = "kubernetes.io/service-name";

/**
 * The answer index of the cluster zone: every Service's names and PTRs, precomputed from the API
 * objects as they change (a change recomputes only the Service it touches), so that a query costs
 * one map lookup. Also tracks namespaces and (for `pods: verified`) Pod IPs.
 */
export class DnsIndex {
  readonly #options: ServiceRecordOptions;
  readonly #services = new Map<string, V1Service>();
  /** Service key → slice name → slice. */
  readonly #slices = new Map<string, Map<string, V1EndpointSlice>>();
  /** `ns/slice` → the Service key it was filed under (the label could change). */
  readonly #sliceOwner = new Map<string, string>();
  readonly #names = new Map<string, NameRecords>();
  readonly #ownedNames = new Map<string, readonly string[]>();
  /** Reverse name → Service key → targets (one IP may serve several Services). */
  readonly #reverse = new Map<string, Map<string, readonly string[]>>();
  readonly #ownedReverse = new Map<string, readonly string[]>();
  readonly #namespaceObjects = new Set<string>();
  /** Namespace → number of Services and Pods seen in it. */
  readonly #namespaceUse = new Map<string, number>();
  /** Canonical Pod IP → namespace → count. */
  readonly #podIPs = new Map<string, Map<string, number>>();
  #modified = Date.now();
  #generation = 0;

  constructor(options: ServiceRecordOptions) {
    this.#options = options;
  }

  /** Records of a normalised name in the zone, or undefined when no Service defines it. */
  lookup(name: string): NameRecords | undefined {
    return this.#names.get(name);
  }

  /** PTR targets of a normalised reverse name, or undefined. */
  lookupReverse(name: string): readonly string[] | undefined {
    const owners = this.#reverse.get(name);
    if (owners === undefined) return undefined;
    const out: string[] = [];
    for (const targets of owners.values()) out.push(...targets);
    return out;
  }

  /**
   * True when the namespace exists: a Namespace object, or any Service or Pod in it (so that a
   * server unable to list Namespaces still answers for the namespaces it can see).
   */
  namespaceExists(namespace: string): boolean {
    return this.#namespaceObjects.has(namespace) || (this.#namespaceUse.get(namespace) ?? 0) > 0;
  }

  /** True when a Pod in `namespace` has the (canonical) `ip`. */
  podIPExists(namespace: string, ip: string): boolean {
    return (this.#podIPs.get(ip)?.get(namespace) ?? 0) > 0;
  }

  /** Time of the last change (ms since the epoch), the SOA serial's source. */
  modified(): number {
    return this.#modified;
  }

  /** A number that changes with every change to the index, for caches of answers built from it. */
  generation(): number {
    return this.#generation;
  }

  /** The Service as last seen, for callers that label metrics by its kind. */
  service(namespace: string, name: string): V1Service | undefined {
    return this.#services.get(`${namespace}/${name}`);
  }

  upsertService(service: V1Service): void {
    const key = objectKey(service);
    if (!this.#services.has(key)) this.#countNamespace(service.metadata?.namespace ?? "", 1);
    this.#services.set(key, service);
    this.#rebuild(key);
  }

  deleteService(service: V1Service): void {
    const key = objectKey(service);
    if (!this.#services.delete(key)) return;
    this.#countNamespace(service.metadata?.namespace ?? "", -1);
    this.#rebuild(key);
  }

  upsertEndpointSlice(slice: V1EndpointSlice): void {
    const ns = slice.metadata?.namespace ?? "";
    const sliceKey = objectKey(slice);
    const owner = `${ns}/${slice.metadata?.labels?.[serviceNameLabel] ?? ""}`;
    const previousOwner = this.#sliceOwner.get(sliceKey);
    if (previousOwner !== undefined && previousOwner !== owner) this.#removeSlice(sliceKey, previousOwner);
    this.#sliceOwner.set(sliceKey, owner);
    let slices = this.#slices.get(owner);
    if (slices === undefined) this.#slices.set(owner, (slices = new Map()));
    slices.set(sliceKey, slice);
    this.#rebuild(owner);
  }

  deleteEndpointSlice(slice: V1EndpointSlice): void {
    const sliceKey = objectKey(slice);
    const owner = this.#sliceOwner.get(sliceKey);
    if (owner !== undefined) this.#removeSlice(sliceKey, owner);
  }

  upsertNamespace(namespace: V1Namespace): void {
    this.#namespaceObjects.add(namespace.metadata?.name ?? "");
    this.#touch();
  }

  deleteNamespace(namespace: V1Namespace): void {
    this.#namespaceObjects.delete(namespace.metadata?.name ?? "");
    this.#touch();
  }

  /** Adds or replaces a Pod; `previous` is the version the index saw before (for updates). */
  upsertPod(pod: V1Pod, previous?: V1Pod): void {
    if (previous !== undefined) this.deletePod(previous);
    const ns = pod.metadata?.namespace ?? "";
    this.#countNamespace(ns, 1);
    for (const ip of podIPs(pod)) {
      let byNs = this.#podIPs.get(ip);
      if (byNs === undefined) this.#podIPs.set(ip, (byNs = new Map()));
      byNs.set(ns, (byNs.get(ns) ?? 0) + 1);
    }
    this.#touch();
  }

  deletePod(pod: V1Pod): void {
    const ns = pod.metadata?.namespace ?? "";
    this.#countNamespace(ns, -1);
    for (const ip of podIPs(pod)) {
      const byNs = this.#podIPs.get(ip);
      const n = (byNs?.get(ns) ?? 0) - 1;
      if (n > 0) byNs?.set(ns, n);
      else byNs?.delete(ns);
      if (byNs?.size === 0) this.#podIPs.delete(ip);
    }
    this.#touch();
  }

  #touch(): void {
    this.#modified = Date.now();
    this.#generation++;
  }

  #removeSlice(sliceKey: string, owner: string): void {
    this.#sliceOwner.delete(sliceKey);
    const slices = this.#slices.get(owner);
    slices?.delete(sliceKey);
    if (slices?.size === 0) this.#slices.delete(owner);
    this.#rebuild(owner);
  }

  #countNamespace(namespace: string, delta: number): void {
    const n = (this.#namespaceUse.get(namespace) ?? 0) + delta;
    if (n > 0) this.#namespaceUse.set(namespace, n);
    else this.#namespaceUse.delete(namespace);
  }

  /** Replaces everything Service `key` contributed with what it contributes now. */
  #rebuild(key: string): void {
    for (const name of this.#ownedNames.get(key) ?? []) this.#names.delete(name);
    for (const r of this.#ownedReverse.get(key) ?? []) {
      const owners = this.#reverse.get(r);
      owners?.delete(key);
      if (owners?.size === 0) this.#reverse.delete(r);
    }
    this.#ownedNames.delete(key);
    this.#ownedReverse.delete(key);
    this.#touch();
    const service = this.#services.get(key);
    if (service === undefined) return;
    const records = serviceRecords(service, this.#slices.get(key)?.values() ?? [], this.#options);
    for (const [name, recs] of records.names) this.#names.set(name, recs);
    this.#ownedNames.set(key, [...records.names.keys()]);
    for (const [r, targets] of records.reverse) {
      let owners = this.#reverse.get(r);
      if (owners === undefined) this.#reverse.set(r, (owners = new Map()));
      owners.set(key, targets);
    }
    this.#ownedReverse.set(key, [...records.reverse.keys()]);
  }
}

function objectKey(obj: { metadata?: { namespace?: string; name?: string } }): string {
  return `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
}

function podIPs(pod: V1Pod): string[] {
  const phase = pod.status?.phase;
  // Finished Pods keep their IP in status, but the address may already belong to another Pod.
  if (phase === "Succeeded" || phase === "Failed") return [];
  const texts = pod.status?.podIPs?.map((p) => p.ip) ?? (pod.status?.podIP ? [pod.status.podIP] : []);
  return [...new Set(texts.flatMap((t) => canonicalIP(t) ?? []))];
}
