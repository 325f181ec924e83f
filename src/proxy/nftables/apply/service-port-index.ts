import type { ServicePortMap } from "../../../model/proxy-state.ts";

/** The service ports a partial sync must render again, and those that are gone. */
export interface ChangedPorts {
  /** Ports of changed Services that exist in the new state. */
  readonly current: readonly string[];
  /** Ports of changed Services that existed in the last synced state and no longer do. */
  readonly removed: readonly string[];
  /** Records the new state as synced. */
  commit(): void;
}

/**
 * Which service port keys each Service had in the last synced state, so that a partial sync finds
 * the ports of the changed Services without looking at every port (at 20,000 services that scan
 * cost more than the rest of a one-endpoint sync). Only when the new state holds more ports than
 * the old one minus the changed Services' lost ports (a Service or port was added) does it scan.
 */
export class ServicePortIndex {
  #byService = new Map<string, Set<string>>();
  #size = 0;

  /** Indexes a whole state (after a full sync). */
  reset(services: ServicePortMap): void {
    this.#byService = new Map();
    for (const [key, svc] of services) this.#add(svc.serviceKey, key);
    this.#size = services.size;
  }

  /** The ports of `changed` Services in `next` and the ports they lost. */
  changes(next: ServicePortMap, changed: ReadonlySet<string>): ChangedPorts {
    const current: string[] = [];
    const removed: string[] = [];
    for (const service of changed)
      for (const key of this.#byService.get(service) ?? []) (next.has(key) ? current : removed).push(key);
    if (next.size !== this.#size - removed.length) {
      // Ports were added: find them the slow way.
      current.length = 0;
      for (const [key, svc] of next) if (changed.has(svc.serviceKey)) current.push(key);
    }
    return {
      current,
      removed,
      commit: () => {
        for (const service of changed) this.#byService.delete(service);
        for (const key of current) {
          const svc = next.get(key);
          if (svc !== undefined) this.#add(svc.serviceKey, key);
        }
        this.#size = next.size;
      },
    };
  }

  #add(service: string, key: string): void {
    let set = this.#byService.get(service);
    if (set === undefined) this.#byService.set(service, (set = new Set()));
    set.add(key);
  }
}
