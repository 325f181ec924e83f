import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import { ProxyError } from "../../../errors.ts";
import type { SchedulerName } from "../../../lb/scheduler.ts";
import type { Endpoint } from "../../../model/endpoint.ts";
import type { NodeInfo } from "../../../model/node-info.ts";
import type { ServicePort } from "../../../model/service-port.ts";
import type { Logger } from "../../../sys/logger.ts";
import type { Frontend } from "../frontends.ts";
import type { RelayTuning } from "../relay-tuning.ts";
import { EFD_CLOEXEC, EFD_NONBLOCK, loadLibc, type Libc } from "./libc.ts";
import type {
  BalancerSpec,
  EndpointCounters,
  InternalSourceSpec,
  RelayThreadInit,
  RelayThreadReply,
  RelayThreadRequest,
} from "./worker-protocol.ts";

/** One TCP service port for the relay threads, as of this sync. */
export interface TcpServiceInput {
  /** `family|servicePortKey`. */
  readonly key: string;
  readonly service: ServicePort;
  readonly endpoints: readonly Endpoint[];
  readonly node: NodeInfo;
  /** Its Service changed since the last sync (or the sync is a full one). */
  readonly changed: boolean;
}

/** What the relay threads' metrics need: endpoint counters and drop totals. */
export interface RelayThreadsSnapshot {
  readonly endpoints: readonly EndpointCounters[];
  /** Totals by `servicePortKey|reason`. */
  readonly dropped: ReadonlyMap<string, number>;
}

type Pending = { resolve: (reply: RelayThreadReply) => void; reject: (err: Error) => void };

/** One relay thread as the main thread sees it: what it was told, so a new one can be told again. */
interface Thread {
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly wakeFd: number;
  alive: boolean;
  readonly waiting: Map<number, Pending>;
  /** Balancer keys it holds. */
  readonly balancers: Set<string>;
  /** Frontends it listens on: signature and port. */
  readonly frontends: Map<string, { signature: string; port: number }>;
}

const workerFile = new URL(
  `./relay-worker${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`,
  import.meta.url,
);

/**
 * The TCP relays of the userspace mode, run by `count` threads with an io_uring or epoll loop each (see
 * README.md). Each service port belongs to one thread, which holds its balancer and every one of
 * its listeners, so round robin, affinity, connection counts and ejection stay exact without
 * sharing memory; service ports are spread over the threads (the least loaded takes a new one).
 * A thread that dies is replaced at the next sync and given its service ports again.
 */
export class RelayThreads {
  readonly #libc: Libc;
  readonly #threads: (Thread | undefined)[];
  readonly #init: Omit<RelayThreadInit, "port" | "wakeFd">;
  readonly #logger: Logger;
  /** Balancer key → thread index. */
  readonly #owner = new Map<string, number>();
  #nextId = 1;
  #closed = false;
  readonly #engines: ("io_uring" | "epoll")[] = [];

  private constructor(
    libc: Libc,
    count: number,
    init: Omit<RelayThreadInit, "port" | "wakeFd">,
    logger: Logger,
  ) {
    this.#libc = libc;
    this.#threads = new Array<Thread | undefined>(count).fill(undefined);
    this.#init = init;
    this.#logger = logger;
  }

  /** Starts `count` relay threads; undefined when relay threads cannot run here (no koffi, not Linux). */
  static async start(options: {
    readonly count: number;
    readonly tuning: RelayTuning;
    readonly defaultScheduler: SchedulerName;
    readonly logger: Logger;
    /** `auto` (default): io_uring where the kernel allows it, else epoll. */
    readonly engine?: "auto" | "epoll";
  }): Promise<RelayThreads | undefined> {
    const libc = await loadLibc();
    if (libc === null) return undefined;
    const threads = new RelayThreads(
      libc,
      Math.max(1, options.count),
      {
        tuning: options.tuning,
        defaultScheduler: options.defaultScheduler,
        engine: options.engine ?? "auto",
      },
      options.logger,
    );
    for (let i = 0; i < threads.#threads.length; i++) await threads.#spawn(i);
    return threads;
  }

  /** How many threads relay. */
  get count(): number {
    return this.#threads.length;
  }

  /** The engine each thread runs (io_uring or epoll). */
  get engines(): readonly ("io_uring" | "epoll")[] {
    return this.#engines;
  }

  async #spawn(index: number): Promise<Thread> {
    const wakeFd = this.#libc.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakeFd < 0)
      throw new ProxyError("KPROXY_LISTEN_FAILED", `Cannot create an eventfd: errno ${this.#libc.errno()}`);
    const { port1, port2 } = new MessageChannel();
    const workerData: RelayThreadInit = { ...this.#init, port: port2, wakeFd };
    const worker = new Worker(workerFile, { workerData, transferList: [port2] });
    const thread: Thread = {
      worker,
      port: port1,
      wakeFd,
      alive: true,
      waiting: new Map(),
      balancers: new Set(),
      frontends: new Map(),
    };
    this.#threads[index] = thread;
    const ready = new Promise<void>((resolve, reject) => {
      port1.on("message", (reply: RelayThreadReply) => {
        if (reply.type === "ready") {
          this.#engines[index] = reply.engine;
          return resolve();
        }
        if (reply.type === "log") return void this.#logger[reply.level](reply.fields, reply.message);
        const pending = thread.waiting.get(reply.id);
        thread.waiting.delete(reply.id);
        pending?.resolve(reply);
      });
      worker.once("error", (err) => {
        this.#logger.error({ thread: index, err }, "relay thread failed");
        reject(err);
      });
      worker.once("exit", (code) => {
        thread.alive = false;
        if (!this.#closed)
          this.#logger.error({ thread: index, code }, "relay thread exited; it is replaced at the next sync");
        const error = new ProxyError(
          "KPROXY_LISTEN_FAILED",
          `relay thread ${index} exited with code ${code}`,
        );
        for (const pending of thread.waiting.values()) pending.reject(error);
        thread.waiting.clear();
        port1.close();
        // The eventfd is the main thread's: close it only once nobody can wake the thread any more.
        this.#libc.close(wakeFd);
        reject(error);
      });
    });
    // Like a listening socket, a relay thread keeps the process alive (until `close()`); the port
    // does not, or a process would hang on a thread that died.
    port1.unref();
    await ready;
    return thread;
  }

  #request(thread: Thread, request: RelayThreadRequest): Promise<RelayThreadReply> {
    if (!thread.alive)
      return Promise.reject(new ProxyError("KPROXY_LISTEN_FAILED", "relay thread is not running"));
    return new Promise((resolve, reject) => {
      thread.waiting.set(request.id, { resolve, reject });
      thread.port.postMessage(request);
      this.#libc.write(thread.wakeFd, wakeValue, 8);
    });
  }

  /**
   * Makes the threads serve exactly `frontends` (TCP), balanced by `services`. Listeners that go
   * away close before new ones open (a re-created Service binds its address again). Returns the
   * port each frontend listens on and the frontends that could not listen.
   */
  async sync(input: {
    readonly services: readonly TcpServiceInput[];
    readonly frontends: readonly Frontend[];
    readonly internal: InternalSourceSpec;
    readonly full: boolean;
  }): Promise<{ ports: Map<string, number>; failures: string[] }> {
    for (let i = 0; i < this.#threads.length; i++) if (this.#threads[i]?.alive !== true) await this.#spawn(i);
    const threads = this.#threads as Thread[];
    const services = new Map(input.services.map((s) => [s.key, s]));
    for (const key of this.#owner.keys()) if (!services.has(key)) this.#owner.delete(key);
    const load = threads.map(() => 0);
    for (const index of this.#owner.values()) load[index] = (load[index] ?? 0) + 1;
    for (const key of services.keys()) {
      if (this.#owner.has(key)) continue;
      const index = load.indexOf(Math.min(...load));
      this.#owner.set(key, index);
      load[index] = (load[index] ?? 0) + 1;
    }
    const wanted = threads.map(() => new Map<string, { frontend: Frontend; balancerKey: string }>());
    for (const frontend of input.frontends) {
      const balancerKey = `${frontend.family}|${frontend.servicePortKey}`;
      const index = this.#owner.get(balancerKey);
      if (index !== undefined) wanted[index]?.set(frontend.id, { frontend, balancerKey });
    }

    // Phase 1: close listeners and balancers that are no longer wanted, on every thread.
    await Promise.all(
      threads.map(async (thread, index) => {
        const unlisten: string[] = [];
        for (const [id, open] of thread.frontends) {
          const want = wanted[index]?.get(id);
          if (want !== undefined && signature(want.frontend) === open.signature) continue;
          unlisten.push(id);
          thread.frontends.delete(id);
        }
        const remove = [...thread.balancers].filter((key) => this.#owner.get(key) !== index);
        for (const key of remove) thread.balancers.delete(key);
        if (unlisten.length === 0 && remove.length === 0) return;
        await this.#request(thread, {
          type: "sync",
          id: this.#nextId++,
          unlisten,
          remove,
          upsert: [],
          listen: [],
          internal: undefined,
        });
      }),
    );

    // Phase 2: balancers, then the listeners that are new.
    const ports = new Map<string, number>();
    const failures: string[] = [];
    await Promise.all(
      threads.map(async (thread, index) => {
        const upsert: BalancerSpec[] = [];
        for (const [key, owner] of this.#owner) {
          if (owner !== index) continue;
          const s = services.get(key) as TcpServiceInput;
          if (thread.balancers.has(key) && !s.changed && !input.full) continue;
          upsert.push({ key, service: s.service, endpoints: s.endpoints, node: s.node });
          thread.balancers.add(key);
        }
        const listen = [...(wanted[index]?.values() ?? [])].filter(
          (w) => !thread.frontends.has(w.frontend.id),
        );
        const reply = await this.#request(thread, {
          type: "sync",
          id: this.#nextId++,
          unlisten: [],
          remove: [],
          upsert,
          listen,
          internal: input.internal,
        });
        if (reply.type !== "synced") return;
        for (const [id, port] of reply.ports) {
          const want = wanted[index]?.get(id);
          if (want !== undefined) thread.frontends.set(id, { signature: signature(want.frontend), port });
        }
        failures.push(...reply.failures);
        for (const [id, open] of thread.frontends) ports.set(id, open.port);
      }),
    );
    return { ports, failures };
  }

  /** Every thread's endpoint counters and drop totals. */
  async snapshot(): Promise<RelayThreadsSnapshot> {
    const endpoints: EndpointCounters[] = [];
    const dropped = new Map<string, number>();
    const replies = await Promise.all(
      this.#threads.map((t) =>
        t?.alive === true
          ? this.#request(t, { type: "snapshot", id: this.#nextId++ }).catch(() => undefined)
          : undefined,
      ),
    );
    for (const reply of replies) {
      if (reply?.type !== "snapshot") continue;
      endpoints.push(...reply.endpoints);
      for (const [key, n] of reply.dropped) dropped.set(key, (dropped.get(key) ?? 0) + n);
    }
    return { endpoints, dropped };
  }

  /** Stops every thread: listeners close and open connections end. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(
      this.#threads.map(async (thread) => {
        if (thread?.alive !== true) return;
        const exited = new Promise((resolve) => thread.worker.once("exit", resolve));
        await this.#request(thread, { type: "stop", id: this.#nextId++ }).catch(() => undefined);
        await exited;
      }),
    );
  }
}

const wakeValue = new Uint8Array(new BigUint64Array([1n]).buffer);

/** What makes a listener reusable across syncs: same address, binding, service port and source ranges. */
export function signature(f: Frontend): string {
  return `${f.servicePortKey}|${f.binding}|${f.kind}|${f.external}|${f.sourceRanges.join(",")}`;
}
