import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import type { Frontend } from "./frontends.ts";
import type { RelayEndpoint } from "./relay-endpoint.ts";
import { relayBindAddress, trafficKind, type Relay, type RelayContext } from "./tcp-relay.ts";
import { sourceRangeFilter } from "./source-ranges.ts";

/** One client address:port's flow: its endpoint and the socket connected to it. */
interface Session {
  readonly clientIP: string;
  readonly clientPort: number;
  /** The frontend socket the client's datagrams arrive on; answers leave through it. */
  readonly via: Socket;
  endpoint: RelayEndpoint | undefined;
  upstream: Socket | undefined;
  /** Datagrams that arrived while the upstream socket was still connecting. */
  pending: Buffer[] | undefined;
  lastActive: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Starts the UDP relay of `frontend`: a session per client address:port, each with its own
 * socket connected to the session's endpoint, so that replies find their way back to the client
 * through the frontend socket (and through conntrack behind a portal). A session ends after
 * `idleTimeoutMs` without traffic either way; one whose endpoint is gone or refuses (ICMP port
 * unreachable) picks a new endpoint on its next datagram instead of dying.
 */
export async function startUdpRelay(
  frontend: Frontend,
  initial: RelayContext,
  options: { readonly idleTimeoutMs: number },
): Promise<Relay> {
  let context = initial;
  let allowed = sourceRangeFilter(frontend.sourceRanges);
  const sessions = new Map<string, Session>();
  const type = frontend.family === "IPv4" ? "udp4" : "udp6";
  // Behind a portal, two sockets share the relay's port: the wildcard one takes what PREROUTING
  // redirects (the receiving interface's address), a loopback one what OUTPUT redirects (the
  // node's own processes: REDIRECT rewrites their destination to 127.0.0.1 or ::1). An answer
  // must leave from the very address the redirected datagram was sent to, or conntrack cannot
  // match it to the flow and never puts the Service address back, and the client (a connected
  // resolver socket, say) drops it. A wildcard socket answers from whatever address the route
  // picks, the node IP, so loopback traffic needs a socket of its own. SO_REUSEPORT lets the
  // two bind one port (only processes of the same user can join it); the kernel delivers each
  // datagram to the socket bound most specifically.
  const portal = frontend.binding === "portal";
  const listeners = [createSocket({ type, reuseAddr: false, reusePort: portal })];
  if (portal) listeners.push(createSocket({ type, reuseAddr: false, reusePort: true }));
  let closed = false;

  const endSession = (key: string, session: Session): void => {
    sessions.delete(key);
    context.metrics.udpSessions.dec();
    if (session.timer !== undefined) clearTimeout(session.timer);
    dropUpstream(session);
  };

  const dropUpstream = (session: Session): void => {
    if (session.upstream !== undefined) {
      session.upstream.close();
      session.upstream = undefined;
      session.pending = undefined;
    }
    if (session.endpoint !== undefined) {
      context.balancer.released(session.endpoint);
      session.endpoint = undefined;
    }
  };

  const armIdleTimer = (key: string, session: Session): void => {
    session.timer = setTimeout(
      () => {
        const idle = Date.now() - session.lastActive;
        if (idle >= options.idleTimeoutMs) endSession(key, session);
        else armIdleTimer(key, session);
      },
      options.idleTimeoutMs - (Date.now() - session.lastActive),
    );
    session.timer.unref();
  };

  const connectSession = (session: Session): boolean => {
    const { balancer } = context;
    const traffic = trafficKind(frontend, context, session.clientIP);
    const endpoint = balancer.pick(
      { clientIP: session.clientIP, clientPort: session.clientPort, destinationIP: frontend.address },
      traffic,
    );
    if (endpoint === undefined) return false;
    balancer.connectSucceeded(endpoint);
    session.endpoint = endpoint;
    const upstream = createSocket(type);
    session.upstream = upstream;
    upstream.on("message", (msg) => {
      session.lastActive = Date.now();
      endpoint.bytesFromEndpoint += msg.length;
      if (!closed) session.via.send(msg, session.clientPort, session.clientIP);
    });
    upstream.on("error", () => {
      // ECONNREFUSED: the endpoint sent ICMP port unreachable. Count it; the next datagram re-picks.
      if (session.upstream !== upstream) return;
      context.balancer.connectFailed(endpoint);
      dropUpstream(session);
    });
    session.pending = [];
    upstream.connect(endpoint.port, endpoint.ip, () => {
      const queued = session.pending ?? [];
      session.pending = undefined;
      if (session.upstream === upstream) for (const msg of queued) upstream.send(msg);
    });
    return true;
  };

  const onMessage = (via: Socket, index: number, msg: Buffer, rinfo: RemoteInfo): void => {
    const { balancer, metrics } = context;
    if (allowed !== undefined && !allowed(rinfo.address)) {
      metrics.dropped(balancer.servicePortKey, "UDP", "source_range");
      return;
    }
    const key = `${index}|${rinfo.address}|${rinfo.port}`;
    let session = sessions.get(key);
    if (session === undefined) {
      session = {
        clientIP: rinfo.address,
        clientPort: rinfo.port,
        via,
        endpoint: undefined,
        upstream: undefined,
        pending: undefined,
        lastActive: Date.now(),
        timer: undefined,
      };
      sessions.set(key, session);
      metrics.udpSessions.inc();
      armIdleTimer(key, session);
    }
    session.lastActive = Date.now();
    if (session.endpoint !== undefined && (session.endpoint.removed || !session.endpoint.available)) {
      dropUpstream(session);
    }
    if (session.upstream === undefined && !connectSession(session)) {
      metrics.dropped(balancer.servicePortKey, "UDP", "no_endpoints");
      return;
    }
    const endpoint = session.endpoint as RelayEndpoint;
    endpoint.bytesToEndpoint += msg.length;
    if (session.pending !== undefined) session.pending.push(msg);
    else (session.upstream as Socket).send(msg);
  };

  const bind = relayBindAddress(frontend);
  const hosts = [bind.host, frontend.family === "IPv4" ? "127.0.0.1" : "::1"];
  let port = bind.port;
  try {
    for (const [index, socket] of listeners.entries()) {
      socket.on("message", (msg: Buffer, rinfo: RemoteInfo) => onMessage(socket, index, msg, rinfo));
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind({ address: hosts[index] ?? bind.host, port, exclusive: true }, () => {
          socket.off("error", reject);
          resolve();
        });
      });
      socket.on("error", (err) =>
        context.logger.error({ frontend: frontend.id, err }, "UDP relay socket error"),
      );
      port = socket.address().port;
    }
  } catch (err) {
    for (const socket of listeners) socket.close();
    throw err;
  }
  return {
    frontend,
    port,
    setContext(next) {
      context = next;
      allowed = sourceRangeFilter(frontend.sourceRanges);
    },
    close() {
      // UDP has no connections to drain: a closed frontend ends its sessions.
      closed = true;
      for (const [key, session] of sessions) endSession(key, session);
      return Promise.all(
        listeners.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))),
      ).then(() => undefined);
    },
  };
}
