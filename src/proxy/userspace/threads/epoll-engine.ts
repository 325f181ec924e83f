import { EventLoop } from "./event-loop.ts";
import { EPOLLET, EPOLLIN, type Libc } from "./libc.ts";
import type { EngineContext, RelayEngine } from "./relay-engine.ts";
import { TcpEngine } from "./tcp-engine.ts";

/** The relay engine on epoll: an edge-triggered loop with one read and one write per message. */
export function createEpollEngine(libc: Libc, context: EngineContext): RelayEngine {
  const loop = new EventLoop(libc, context.onError);
  const engine = new TcpEngine(libc, loop, context);
  return {
    kind: "epoll",
    clock: loop.clock(),
    listen: (frontend, balancer) => engine.listen(frontend, balancer),
    unlisten: (id) => engine.unlisten(id),
    closeAll: () => engine.closeAll(),
    run(wakeFd, onWake) {
      const counter = new Uint8Array(8);
      const wake = {
        token: 0,
        onEvent(): void {
          // Reset the eventfd first: a request posted while the queue drains wakes the loop again.
          libc.read(wakeFd, counter, 8);
          onWake();
        },
      };
      if (!loop.add(wakeFd, (EPOLLIN | EPOLLET) >>> 0, wake))
        throw new Error(`Cannot watch the relay thread's eventfd: errno ${libc.errno()}`);
      loop.run();
    },
    stop: () => loop.stop(),
  };
}
