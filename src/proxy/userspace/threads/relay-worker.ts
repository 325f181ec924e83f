// A relay thread: an io_uring or epoll loop (relay-engine.ts) with the TCP relays and the
// balancers of the service ports it was given. Started by relay-threads.ts; talks to the main thread only through its port (see
// worker-protocol.ts). The thread's own Node event loop never runs while the engine waits, so
// nothing here may rely on promises, timers or events after start-up.
import { receiveMessageOnPort, workerData } from "node:worker_threads";
import { countersOf, type RelayEndpoint } from "../relay-endpoint.ts";
import { internalSourceFilter } from "../internal-source.ts";
import { ServiceBalancer, type BalancerLog } from "../service-balancer.ts";
import { createEpollEngine } from "./epoll-engine.ts";
import { loadLibc } from "./libc.ts";
import type { EngineContext, RelayEngine } from "./relay-engine.ts";
import { createUringEngine } from "./uring-engine.ts";
import type {
  EndpointCounters,
  RelayThreadInit,
  RelayThreadReply,
  RelayThreadRequest,
} from "./worker-protocol.ts";

const init = workerData as RelayThreadInit;
const port = init.port;
const libc = await loadLibc();
if (libc === null) throw new Error("Cannot start a relay thread: libc is not reachable through koffi");

const reply = (message: RelayThreadReply): void => port.postMessage(message);
const log = (level: "debug" | "info" | "warn" | "error", fields: object, message: string): void =>
  reply({ type: "log", level, fields: { ...fields }, message });
const logger: BalancerLog = {
  info: (fields, message) => log("info", fields, message),
  warn: (fields, message) => log("warn", fields, message),
};

// A bug must not take every relayed connection down with it: report it (a few times) and go on.
let errorsReported = 0;
const context: EngineContext = {
  tuning: init.tuning,
  dropped(servicePortKey, reason) {
    const key = `${servicePortKey}|${reason}`;
    dropped.set(key, (dropped.get(key) ?? 0) + 1);
  },
  internalSource: (ip) => internalSource(ip),
  warn: (message, fields) => log("warn", fields, message),
  onError(err) {
    if (errorsReported++ < 20)
      log(
        "error",
        { err: err instanceof Error ? (err.stack ?? err.message) : String(err) },
        "relay thread error",
      );
  },
};
const balancers = new Map<string, ServiceBalancer>();
const exported = new Set<RelayEndpoint>();
const dropped = new Map<string, number>();
let internalSource: (ip: string) => boolean = () => false;
// io_uring where the kernel allows it (fewer system calls per message), epoll otherwise.
const engine: RelayEngine =
  (init.engine !== "epoll" ? createUringEngine(libc, context) : undefined) ??
  createEpollEngine(libc, context);
const clock = engine.clock;

function handle(request: RelayThreadRequest): void {
  switch (request.type) {
    case "sync": {
      if (request.internal !== undefined)
        internalSource = internalSourceFilter(request.internal, request.internal.nodes);
      for (const id of request.unlisten) engine.unlisten(id);
      for (const key of request.remove) {
        balancers.get(key)?.close();
        balancers.delete(key);
      }
      for (const spec of request.upsert) {
        let balancer = balancers.get(spec.key);
        if (balancer === undefined) {
          balancer = new ServiceBalancer(spec.service, {
            defaultScheduler: init.defaultScheduler,
            clock,
            tuning: init.tuning,
            metrics: { endpoints: exported },
            logger,
          });
          balancers.set(spec.key, balancer);
        }
        balancer.update(spec.service, spec.endpoints, spec.node);
      }
      const ports: [string, number][] = [];
      const failures: string[] = [];
      for (const { frontend, balancerKey } of request.listen) {
        const balancer = balancers.get(balancerKey);
        if (balancer === undefined) continue;
        try {
          ports.push([frontend.id, engine.listen(frontend, balancer)]);
        } catch (err) {
          failures.push(`${frontend.id} (${frontend.servicePortKey}): ${(err as Error).message}`);
        }
      }
      reply({ type: "synced", id: request.id, ports, failures });
      return;
    }
    case "snapshot": {
      const endpoints: EndpointCounters[] = [];
      for (const ep of exported) endpoints.push(countersOf(ep));
      reply({ type: "snapshot", id: request.id, endpoints, dropped: [...dropped] });
      return;
    }
    case "stop":
      engine.closeAll();
      for (const balancer of balancers.values()) balancer.close();
      engine.stop();
      reply({ type: "stopped", id: request.id });
      return;
  }
}

reply({ type: "ready", engine: engine.kind });
engine.run(init.wakeFd, () => {
  for (let next = receiveMessageOnPort(port); next !== undefined; next = receiveMessageOnPort(port))
    handle(next.message as RelayThreadRequest);
});
port.close();
