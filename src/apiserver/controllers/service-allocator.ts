import type { FieldProblem } from "../../errors.ts";
import { ipFamilyOf } from "../../model/ip.ts";
import type { IPFamily } from "../../model/protocol.ts";
import { ApiError, invalid } from "../http/api-error.ts";
import { goValue } from "../registry/field-errors.ts";
import type { KubeObject } from "../registry/resource-strategy.ts";
import { IpRangeAllocator } from "./ip-range-allocator.ts";
import { PortRangeAllocator } from "./port-range-allocator.ts";
import { dropTypeDependentFields, patchAllocatedValues } from "./service-carry-over.ts";
import { asRecord, serviceOwner, type ServicePortSpec, type ServiceSpec } from "./service-fields.ts";
import { heldBy } from "./service-holdings.ts";

/** What one allocation took; `commit` frees what the old object held and the new one does not. */
export interface AllocationTransaction {
  commit(): void;
  rollback(): void;
}

/** The address ranges a cluster allocates from (the kube-apiserver flags of the same names). */
export interface AllocatorRanges {
  readonly serviceClusterIPRange: string;
  readonly serviceNodePortRange: string;
  readonly loadBalancerIPRange: string;
}

function splitRanges(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** Whether a Service of this spec gets NodePorts allocated. */
function wantsNodePorts(spec: ServiceSpec): boolean {
  return (
    spec.type === "NodePort" || (spec.type === "LoadBalancer" && spec.allocateLoadBalancerNodePorts !== false)
  );
}

/**
 * Service IP and port allocation as kube-apiserver does it around the registry strategy:
 * ClusterIPs per IP family from `--service-cluster-ip-range`, NodePorts and the health-check
 * NodePort from `--service-node-port-range`, and LoadBalancer ingress IPs from an optional pool.
 * Bitmaps make every allocation O(1), so creating tens of thousands of Services stays cheap.
 * Allocations live in the stored Services themselves and are rebuilt from them on restart.
 */
export class ServiceAllocator {
  readonly #clusterIPs = new Map<IPFamily, IpRangeAllocator>();
  readonly #primaryFamily: IPFamily;
  readonly #nodePorts: PortRangeAllocator;
  readonly #lbPools = new Map<IPFamily, IpRangeAllocator>();
  /** LoadBalancer Services left without an ingress IP because the pool was empty. */
  readonly #pendingLoadBalancers = new Set<string>();
  #loadBalancerIPFreed = false;

  constructor(ranges: AllocatorRanges) {
    for (const cidr of splitRanges(ranges.serviceClusterIPRange)) {
      const a = new IpRangeAllocator(cidr);
      if (!this.#clusterIPs.has(a.family)) this.#clusterIPs.set(a.family, a);
    }
    const first = [...this.#clusterIPs.values()][0];
    this.#primaryFamily = first?.family ?? "IPv4";
    if (first === undefined) this.#clusterIPs.set("IPv4", new IpRangeAllocator("10.96.0.0/12"));
    this.#nodePorts = new PortRangeAllocator(ranges.serviceNodePortRange);
    for (const cidr of splitRanges(ranges.loadBalancerIPRange)) {
      const a = new IpRangeAllocator(cidr);
      if (!this.#lbPools.has(a.family)) this.#lbPools.set(a.family, a);
    }
  }

  /** Marks what a stored Service holds as taken (on start-up); returns a line per conflict. */
  restore(svc: KubeObject): string[] {
    const owner = serviceOwner(svc);
    const warnings: string[] = [];
    for (const id of heldBy(svc)) {
      const result = this.#claimId(id, owner);
      if (result !== "ok") warnings.push(`${owner}: ${id.slice(id.indexOf(":") + 1)} is ${result}`);
    }
    const spec = (svc.spec ?? {}) as ServiceSpec;
    if (
      spec.type === "LoadBalancer" &&
      this.#lbPools.size > 0 &&
      !heldBy(svc).some((id) => id.startsWith("lb:"))
    ) {
      this.#pendingLoadBalancers.add(owner);
    }
    return warnings;
  }

  /** Frees everything `svc` holds (on delete). */
  release(svc: KubeObject): void {
    const owner = serviceOwner(svc);
    for (const id of heldBy(svc)) this.#releaseId(id, owner);
    this.#pendingLoadBalancers.delete(owner);
  }

  /**
   * A LoadBalancer Service (`namespace/name`) still waiting for an ingress IP, when one has been
   * freed since the last call: the caller rewrites its status so that it gets the IP.
   */
  nextPendingLoadBalancer(): string | undefined {
    if (!this.#loadBalancerIPFreed) return undefined;
    this.#loadBalancerIPFreed = false;
    return this.#pendingLoadBalancers.values().next().value;
  }

  /**
   * Fills and claims the allocated fields of `svc` (created when `old` is undefined, else
   * updated from `old`). Throws a 422 with one cause per field that cannot be honoured.
   */
  allocate(svc: KubeObject, old: KubeObject | undefined, subresource?: "status"): AllocationTransaction {
    const owner = serviceOwner(svc);
    const taken: string[] = [];
    const problems: FieldProblem[] = [];
    const claim = (id: string, field: string, shown: string): void => {
      const before = this.#ownerOfId(id);
      const result = this.#claimId(id, owner);
      if (result === "ok") {
        if (before === undefined) taken.push(id);
        return;
      }
      const what = id.startsWith("port:") ? "port" : "IP";
      const tail =
        result === "taken"
          ? `provided ${what} is already allocated`
          : `provided ${what} is not in the valid range. The range of valid ${what}s is ${this.#rangeText(id)}`;
      problems.push({ field, message: `Invalid value: ${shown}: ${tail}` });
    };
    const next = (pool: IpRangeAllocator | PortRangeAllocator, prefix: string, what: string): string => {
      const value = pool.allocateNext(owner);
      if (value === undefined) {
        this.#rollback(taken, owner);
        throw new ApiError(
          500,
          "InternalError",
          `Internal error occurred: failed to allocate a ${what}: range is full`,
        );
      }
      taken.push(`${prefix}${value}`);
      return String(value);
    };
    const spec = asRecord(svc, "spec") as ServiceSpec;
    const oldSpec = old === undefined ? undefined : (asRecord(structuredClone(old), "spec") as ServiceSpec);
    if (subresource !== "status") {
      if (oldSpec !== undefined) {
        dropTypeDependentFields(spec, oldSpec, svc, old);
        patchAllocatedValues(spec, oldSpec);
      }
      spec.type ??= "ClusterIP";
      if (spec.type !== "ExternalName") this.#allocateClusterIPs(spec, problems, claim, next);
      this.#allocateNodePorts(spec, claim, next);
    }
    this.#allocateLoadBalancerIP(svc, spec, old, claim, taken);
    if (problems.length > 0) {
      this.#rollback(taken, owner);
      throw invalid("", "Service", svc.metadata?.name ?? "", problems);
    }
    return {
      commit: () => {
        const lbPending =
          spec.type === "LoadBalancer" &&
          this.#lbPools.size > 0 &&
          !heldBy(svc).some((id) => id.startsWith("lb:"));
        if (lbPending) this.#pendingLoadBalancers.add(owner);
        else this.#pendingLoadBalancers.delete(owner);
        if (old === undefined) return;
        const keep = new Set(heldBy(svc));
        for (const id of heldBy(old)) if (!keep.has(id)) this.#releaseId(id, owner);
      },
      rollback: () => this.#rollback(taken, owner),
    };
  }

  #allocateClusterIPs(
    spec: ServiceSpec,
    problems: FieldProblem[],
    claim: (id: string, field: string, shown: string) => void,
    next: (pool: IpRangeAllocator, prefix: string, what: string) => string,
  ): void {
    let ips = Array.isArray(spec.clusterIPs)
      ? spec.clusterIPs.filter((ip) => typeof ip === "string" && ip !== "")
      : [];
    if (ips.length === 0 && typeof spec.clusterIP === "string" && spec.clusterIP !== "")
      ips = [spec.clusterIP];
    const headless = ips[0] === "None";
    let families: IPFamily[] = Array.isArray(spec.ipFamilies)
      ? spec.ipFamilies.filter((f): f is IPFamily => f === "IPv4" || f === "IPv6")
      : [];
    if (families.length === 0) {
      families = headless
        ? []
        : ips.map((ip) => ipFamilyOf(ip)).filter((f): f is IPFamily => f !== undefined);
      if (families.length === 0) families = [this.#primaryFamily];
    }
    spec.ipFamilyPolicy ??= "SingleStack";
    const other: IPFamily = families[0] === "IPv4" ? "IPv6" : "IPv4";
    if (spec.ipFamilyPolicy !== "SingleStack" && families.length === 1 && this.#clusterIPs.has(other)) {
      families.push(other);
    }
    if (spec.ipFamilyPolicy === "RequireDualStack" && this.#clusterIPs.size < 2) {
      problems.push({
        field: "spec.ipFamilyPolicy",
        message: 'Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services',
      });
    }
    families.forEach((f, i) => {
      if (!this.#clusterIPs.has(f)) {
        problems.push({
          field: `spec.ipFamilies[${i}]`,
          message: `Invalid value: "${f}": not configured on this cluster`,
        });
      }
    });
    spec.ipFamilies = families;
    if (headless) {
      spec.clusterIP = "None";
      spec.clusterIPs = ["None"];
      return;
    }
    const result: string[] = [];
    families.forEach((family, i) => {
      const pool = this.#clusterIPs.get(family);
      const wanted = ips[i];
      if (wanted !== undefined) {
        result.push(wanted);
        if (pool !== undefined && ipFamilyOf(wanted) === family) {
          claim(`ip:${wanted}`, "spec.clusterIPs", `${goValue(ips)}: failed to allocate IP ${wanted}`);
        }
      } else if (pool !== undefined) {
        result.push(next(pool, "ip:", "serviceIP"));
      }
    });
    spec.clusterIPs = result;
    spec.clusterIP = result[0] ?? "";
  }

  #allocateNodePorts(
    spec: ServiceSpec,
    claim: (id: string, field: string, shown: string) => void,
    next: (pool: PortRangeAllocator, prefix: string, what: string) => string,
  ): void {
    const ports: ServicePortSpec[] = Array.isArray(spec.ports) ? spec.ports : [];
    if (wantsNodePorts(spec) || spec.type === "LoadBalancer") {
      // As upstream: the same port number with another protocol shares its NodePort.
      const byPort = new Map<unknown, number>();
      ports.forEach((p, i) => {
        if (typeof p !== "object" || p === null) return;
        if (Number.isInteger(p.nodePort) && (p.nodePort ?? 0) > 0) {
          claim(`port:${p.nodePort}`, `spec.ports[${i}].nodePort`, String(p.nodePort));
          byPort.set(p.port, p.nodePort ?? 0);
        }
      });
      if (wantsNodePorts(spec)) {
        for (const p of ports) {
          if (typeof p !== "object" || p === null || (p.nodePort !== undefined && p.nodePort !== 0)) continue;
          const shared = byPort.get(p.port);
          p.nodePort = shared ?? Number(next(this.#nodePorts, "port:", "nodePort"));
          byPort.set(p.port, p.nodePort);
        }
      }
    }
    if (spec.type === "LoadBalancer" && spec.externalTrafficPolicy === "Local") {
      const hc = spec.healthCheckNodePort;
      if (Number.isInteger(hc) && (hc ?? 0) > 0) claim(`port:${hc}`, "spec.healthCheckNodePort", String(hc));
      else spec.healthCheckNodePort = Number(next(this.#nodePorts, "port:", "healthCheckNodePort"));
    }
  }

  #allocateLoadBalancerIP(
    svc: KubeObject,
    spec: ServiceSpec,
    old: KubeObject | undefined,
    claim: (id: string, field: string, shown: string) => void,
    taken: string[],
  ): void {
    if (this.#lbPools.size === 0) return;
    const status = asRecord(svc, "status");
    if (spec.type !== "LoadBalancer") {
      if (old !== undefined && (old.spec as ServiceSpec | undefined)?.type === "LoadBalancer")
        status["loadBalancer"] = {};
      return;
    }
    const family = (Array.isArray(spec.ipFamilies) ? spec.ipFamilies[0] : undefined) ?? this.#primaryFamily;
    const pool = this.#lbPools.get(family as IPFamily) ?? [...this.#lbPools.values()][0];
    if (pool === undefined) return;
    const held = old === undefined ? [] : heldBy(old).filter((id) => id.startsWith("lb:"));
    let ip: string;
    if (typeof spec.loadBalancerIP === "string" && spec.loadBalancerIP !== "") {
      ip = spec.loadBalancerIP;
      claim(`lb:${ip}`, "spec.loadBalancerIP", `"${ip}"`);
    } else if (held[0] !== undefined) {
      ip = held[0].slice(3);
    } else {
      // An exhausted pool leaves the Service pending, as a cloud without capacity would.
      const free = pool.allocateNext(serviceOwner(svc));
      if (free === undefined) {
        status["loadBalancer"] = {};
        return;
      }
      taken.push(`lb:${free}`);
      ip = free;
    }
    status["loadBalancer"] = { ingress: [{ ip, ipMode: "VIP" }] };
  }

  #pool(id: string): IpRangeAllocator | PortRangeAllocator | undefined {
    if (id.startsWith("port:")) return this.#nodePorts;
    const ip = id.slice(id.indexOf(":") + 1);
    const family = ipFamilyOf(ip);
    if (family === undefined) return undefined;
    return (id.startsWith("lb:") ? this.#lbPools : this.#clusterIPs).get(family);
  }

  #rangeText(id: string): string {
    const pool = this.#pool(id);
    if (pool instanceof PortRangeAllocator) return pool.text;
    return pool?.cidr ?? "(none configured)";
  }

  #claimId(id: string, owner: string): "ok" | "taken" | "out-of-range" {
    const pool = this.#pool(id);
    const value = id.slice(id.indexOf(":") + 1);
    if (pool === undefined) return "out-of-range";
    return pool instanceof PortRangeAllocator ? pool.claim(Number(value), owner) : pool.claim(value, owner);
  }

  #ownerOfId(id: string): string | undefined {
    const pool = this.#pool(id);
    const value = id.slice(id.indexOf(":") + 1);
    if (pool === undefined) return undefined;
    return pool instanceof PortRangeAllocator ? pool.ownerOf(Number(value)) : pool.ownerOf(value);
  }

  #releaseId(id: string, owner: string): void {
    const pool = this.#pool(id);
    if (id.startsWith("lb:")) this.#loadBalancerIPFreed = true;
    const value = id.slice(id.indexOf(":") + 1);
    if (pool instanceof PortRangeAllocator) pool.release(Number(value), owner);
    else pool?.release(value, owner);
  }

  #rollback(taken: readonly string[], owner: string): void {
    for (const id of taken) this.#releaseId(id, owner);
  }
}
