import type { EndpointCounters } from "../relay-endpoint.ts";
import type { MessagePort } from "node:worker_threads";
import type { DetectLocalMode } from "../../../config/proxy-config.ts";
import type { SchedulerName } from "../../../lb/scheduler.ts";
import type { Endpoint } from "../../../model/endpoint.ts";
import type { NodeInfo } from "../../../model/node-info.ts";
import type { ServicePort } from "../../../model/service-port.ts";
import type { Frontend } from "../frontends.ts";
import type { RelayTuning } from "../relay-tuning.ts";

// Messages between the proxier (main thread) and its relay threads. The main thread posts a
// request on the port and writes the thread's eventfd, which wakes its epoll loop; the thread
// answers on the same port.

/** What a relay thread starts with (`workerData`). */
export interface RelayThreadInit {
  readonly port: MessagePort;
  /** eventfd owned by the main thread; written after every request. */
  readonly wakeFd: number;
  readonly tuning: RelayTuning;
  readonly defaultScheduler: SchedulerName;
  /** `auto`: io_uring where the kernel allows it, else epoll. */
  readonly engine: "auto" | "epoll";
}

/** One service port whose connections the thread balances. */
export interface BalancerSpec {
  /** `family|servicePortKey`. */
  readonly key: string;
  readonly service: ServicePort;
  readonly endpoints: readonly Endpoint[];
  readonly node: NodeInfo;
}

/** Who counts as internal on external addresses (see internal-source.ts). */
export interface InternalSourceSpec {
  readonly detectLocalMode: DetectLocalMode;
  readonly clusterCIDRs: readonly string[];
  readonly nodes: readonly NodeInfo[];
}

export type RelayThreadRequest =
  | {
      readonly type: "sync";
      readonly id: number;
      /** Order of work: unlisten, remove, upsert, listen. */
      readonly unlisten: readonly string[];
      readonly remove: readonly string[];
      readonly upsert: readonly BalancerSpec[];
      readonly listen: readonly { readonly frontend: Frontend; readonly balancerKey: string }[];
      readonly internal: InternalSourceSpec | undefined;
    }
  | { readonly type: "snapshot"; readonly id: number }
  | { readonly type: "stop"; readonly id: number };

export type { EndpointCounters };

export type RelayThreadReply =
  | { readonly type: "ready"; readonly engine: "io_uring" | "epoll" }
  | {
      readonly type: "synced";
      readonly id: number;
      readonly ports: readonly (readonly [string, number])[];
      readonly failures: readonly string[];
    }
  | {
      readonly type: "snapshot";
      readonly id: number;
      readonly endpoints: readonly EndpointCounters[];
      /** Totals since the thread started, by `servicePortKey|reason`. */
      readonly dropped: readonly (readonly [string, number])[];
    }
  | { readonly type: "stopped"; readonly id: number }
  | {
      readonly type: "log";
      readonly level: "debug" | "info" | "warn" | "error";
      readonly fields: Record<string, unknown>;
      readonly message: string;
    };
