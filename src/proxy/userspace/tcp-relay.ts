import { connect, createServer, type Server, type Socket } from "node:net";
import type { PickContext } from "../../lb/scheduler.ts";
import type { Logger } from "../../sys/logger.ts";
import type { Frontend } from "./frontends.ts";
import type { RelayEndpoint } from "./relay-endpoint.ts";
import type { RelayMetrics } from "./relay-metrics.ts";
import type { RelayTuning } from "./relay-tuning.ts";
import type { ServiceBalancer, TrafficKind } from "./service-balancer.ts";
import { sourceRangeFilter } from "./source-ranges.ts";

/** What a relay needs besides its frontend: the balancer of its service port and the plumbing. */
export interface RelayContext {
  readonly balancer: ServiceBalancer;
  readonly tuning: RelayTuning;
  readonly metrics: RelayMetrics;
  readonly logger: Logger;
  /** True for a client that counts as internal even on an external address (pods, the node itself). */
  readonly internalSource: (ip: string) => boolean;
}

/** A listening relay for one frontend. */
export interface Relay {
  readonly frontend: Frontend;
  /** The port the relay listens on (the service port when bound directly; any free port behind a portal). */
  readonly port: number;
  /** Stops accepting; established connections and sessions drain on their own. */
  close(): Promise<void>;
  /** Points the relay at another balancer (the service port was replaced). */
  setContext(context: RelayContext): void;
}

/** The traffic policy a client of `frontend` falls under (see TrafficKind). */
export function trafficKind(frontend: Frontend, context: RelayContext, clientIP: string): TrafficKind {
  if (!frontend.external) return "internal";
  return context.internalSource(clientIP) ? "cluster" : "external";
}

/** The address a relay binds: the service address itself, or the wildcard behind a portal. */
export function relayBindAddress(frontend: Frontend): { host: string; port: number } {
  if (frontend.binding === "direct") return { host: frontend.address, port: frontend.port };
  return { host: frontend.family === "IPv4" ? "0.0.0.0" : "::", port: 0 };
}

/**
 * Starts the TCP relay of `frontend`: each accepted connection gets an endpoint from the
 * balancer, is dialled with per-attempt timeouts and retried on other endpoints, then the bytes
 * are copied both ways until both sides have closed. Accepting never waits for a dial.
 */
export async function startTcpRelay(frontend: Frontend, initial: RelayContext): Promise<Relay> {
  let context = initial;
  let allowed = sourceRangeFilter(frontend.sourceRanges);
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true });
  server.on("connection", (client) => accept(client, context, frontend, allowed));
  server.on("error", (err) =>
    context.logger.error({ frontend: frontend.id, err }, "TCP relay listener error"),
  );
  const bind = relayBindAddress(frontend);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(
      { host: bind.host, port: bind.port, ipv6Only: frontend.family === "IPv6", backlog: 4096 },
      () => {
        server.off("error", reject);
        resolve();
      },
    );
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : bind.port;
  return {
    frontend,
    port,
    setContext(next) {
      context = next;
      allowed = sourceRangeFilter(frontend.sourceRanges);
    },
    close() {
      // Stop listening now; Server.close's callback would wait for every connection to drain.
      server.close();
      return Promise.resolve();
    },
  };
}

function accept(
  client: Socket,
  context: RelayContext,
  frontend: Frontend,
  allowed: ((ip: string) => boolean) | undefined,
): void {
  const clientIP = client.remoteAddress;
  if (clientIP === undefined) {
    client.destroy();
    return;
  }
  client.on("error", noop);
  const balancer = context.balancer;
  if (allowed !== undefined && !allowed(clientIP)) {
    context.metrics.dropped(balancer.servicePortKey, "TCP", "source_range");
    client.resetAndDestroy();
    return;
  }
  const pick: PickContext = {
    clientIP,
    clientPort: client.remotePort ?? 0,
    // A NodePort may listen on the wildcard address; everything else knows its service address.
    destinationIP: frontend.kind === "nodePort" ? (client.localAddress ?? "") : frontend.address,
  };
  dial(client, context, pick, trafficKind(frontend, context, clientIP), 0, undefined);
}

function noop(): void {}

/** Shared by every upstream socket: `onread` callbacks run one at a time and copy out at once. */
const readBuffer = Buffer.allocUnsafe(256 * 1024);

function dial(
  client: Socket,
  context: RelayContext,
  pick: PickContext,
  traffic: TrafficKind,
  attempt: number,
  tried: Set<RelayEndpoint> | undefined,
): void {
  const { balancer, tuning } = context;
  let endpoint = balancer.pick(pick, traffic, tried);
  if (endpoint === undefined && tried !== undefined && tried.size > 0) {
    // Every endpoint failed once: try the set again while attempts remain (a restart may be over).
    tried.clear();
    endpoint = balancer.pick(pick, traffic, tried);
  }
  if (endpoint === undefined) {
    context.metrics.dropped(balancer.servicePortKey, "TCP", attempt === 0 ? "no_endpoints" : "dial_failed");
    client.resetAndDestroy();
    return;
  }
  const target = endpoint;
  // Replies are read into one process-wide buffer and copied out at their real size: no 64 KiB
  // allocation per read and no Readable-stream bookkeeping on the busier direction (accepted
  // sockets cannot take `onread`, so the client side uses plain 'data' events).
  const upstream = connect({
    host: target.ip,
    port: target.port,
    noDelay: true,
    allowHalfOpen: true,
    onread: {
      buffer: readBuffer,
      callback: (n: number, buf: Uint8Array): boolean => {
        const copy = Buffer.allocUnsafe(n);
        copy.set(buf.subarray(0, n));
        if (client.write(copy)) return true;
        client.once("drain", () => upstream.resume());
        return false;
      },
    },
  });
  const timeout = tuning.connectTimeoutsMs[attempt] ?? 2000;
  const timer = setTimeout(() => upstream.destroy(new Error("connect timeout")), timeout);
  const onClientGone = (): void => {
    clearTimeout(timer);
    upstream.destroy();
  };
  client.once("close", onClientGone);
  upstream.once("error", () => {
    clearTimeout(timer);
    client.off("close", onClientGone);
    if (client.destroyed) return;
    balancer.connectFailed(target);
    if (attempt + 1 >= tuning.connectTimeoutsMs.length) {
      context.metrics.dropped(balancer.servicePortKey, "TCP", "dial_failed");
      client.resetAndDestroy();
      return;
    }
    const next = tried ?? new Set<RelayEndpoint>();
    next.add(target);
    dial(client, context, pick, traffic, attempt + 1, next);
  });
  upstream.once("connect", () => {
    clearTimeout(timer);
    client.off("close", onClientGone);
    balancer.connectSucceeded(target);
    splice(client, upstream, target, balancer);
  });
}

/** Copies bytes both ways, half-closes in step, and accounts for the connection when both sides are done. */
function splice(client: Socket, upstream: Socket, endpoint: RelayEndpoint, balancer: ServiceBalancer): void {
  upstream.on("error", noop);
  let open = 2;
  const done = (): void => {
    if (--open > 0) return;
    endpoint.bytesToEndpoint += upstream.bytesWritten;
    endpoint.bytesFromEndpoint += upstream.bytesRead;
    balancer.released(endpoint);
  };
  // A reset on one side becomes a reset on the other, so that neither waits for a FIN that never comes.
  client.once("close", (hadError) => {
    if (hadError) upstream.resetAndDestroy();
    else if (!upstream.destroyed && upstream.writableEnded && upstream.readableEnded) upstream.destroy();
    done();
  });
  upstream.once("close", (hadError) => {
    if (hadError) client.resetAndDestroy();
    else if (!client.destroyed && client.writableEnded && client.readableEnded) client.destroy();
    done();
  });
  forward(client, upstream);
  upstream.on("end", () => client.end());
  client.resume();
}

/**
 * Copies `from` into `to` with backpressure and passes the FIN on: what `pipe()` does, without
 * the bookkeeping of a general-purpose pipe (measured: fewer listeners per connection).
 */
function forward(from: Socket, to: Socket): void {
  from.on("data", (chunk: Buffer) => {
    if (!to.write(chunk)) from.pause();
  });
  to.on("drain", () => from.resume());
  from.on("end", () => to.end());
}
