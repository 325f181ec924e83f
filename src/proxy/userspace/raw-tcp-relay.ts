import { getSystemErrorName } from "node:util";
import { ProxyError } from "../../errors.ts";
import type { PickContext } from "../../lb/scheduler.ts";
import type { Frontend } from "./frontends.ts";
import type { RelayEndpoint } from "./relay-endpoint.ts";
import type { ServiceBalancer, TrafficKind } from "./service-balancer.ts";
import { sourceRangeFilter } from "./source-ranges.ts";
import { relayBindAddress, trafficKind, type Relay, type RelayContext } from "./tcp-relay.ts";

// The relay's hot path on Node's own TCP handles (the `tcp_wrap`/`stream_wrap` bindings that
// `net.Socket` is built on): no Socket, stream or event-emitter objects per connection, one read
// buffer for the whole process, and writes straight to the handle. Measured against `net` streams
// it takes markedly less CPU per connection and per request (bench/userspace.bench.ts). When the
// bindings are missing (another Node), the proxier falls back to the stream relay (tcp-relay.ts).

interface PeerInfo {
  address?: string;
  port?: number;
}

/** Node's `TCP` handle, as far as the relay uses it. */
interface TcpHandle {
  onread: ((this: TcpHandle, buffer: ArrayBuffer | undefined) => void) | null;
  onconnection: ((error: number, client: TcpHandle | undefined) => void) | null;
  bind(address: string, port: number): number;
  bind6(address: string, port: number, flags: number): number;
  listen(backlog: number): number;
  connect(req: ConnectReq, address: string, port: number): number;
  connect6(req: ConnectReq, address: string, port: number): number;
  getpeername(out: PeerInfo): number;
  getsockname(out: PeerInfo): number;
  setNoDelay(enable: boolean): number;
  useUserBuffer(buffer: Uint8Array): void;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: WriteReq, data: Uint8Array): number;
  shutdown(req: ShutdownReq): number;
  reset(callback?: () => void): number;
  close(callback?: () => void): void;
}
interface ConnectReq {
  oncomplete: ((status: number) => void) | null;
}
interface WriteReq {
  handle: TcpHandle;
  oncomplete: ((this: WriteReq, status: number) => void) | null;
  async: boolean;
  /** Kept referenced until an asynchronous write completes. */
  buffer: Uint8Array | null;
  direction: Direction | null;
}
interface ShutdownReq {
  handle: TcpHandle;
  oncomplete: ((status: number) => void) | null;
}
interface Bindings {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => ConnectReq;
  WriteWrap: new () => WriteReq;
  ShutdownWrap: new () => ShutdownReq;
  state: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
  socket: number;
  server: number;
  ipv6Only: number;
}

function loadBindings(): Bindings | undefined {
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
    const tcp = binding("tcp_wrap") as {
      TCP: Bindings["TCP"];
      TCPConnectWrap: Bindings["TCPConnectWrap"];
      constants: { SOCKET: number; SERVER: number; UV_TCP_IPV6ONLY: number };
    };
    const stream = binding("stream_wrap") as {
      WriteWrap: Bindings["WriteWrap"];
      ShutdownWrap: Bindings["ShutdownWrap"];
      streamBaseState: Int32Array;
      kReadBytesOrError: number;
      kLastWriteWasAsync: number;
    };
    if (typeof tcp.TCP !== "function" || !(stream.streamBaseState instanceof Int32Array)) return undefined;
    return {
      TCP: tcp.TCP,
      TCPConnectWrap: tcp.TCPConnectWrap,
      WriteWrap: stream.WriteWrap,
      ShutdownWrap: stream.ShutdownWrap,
      state: stream.streamBaseState,
      kReadBytesOrError: stream.kReadBytesOrError,
      kLastWriteWasAsync: stream.kLastWriteWasAsync,
      socket: tcp.constants.SOCKET,
      server: tcp.constants.SERVER,
      ipv6Only: tcp.constants.UV_TCP_IPV6ONLY,
    };
  } catch {
    return undefined;
  }
}

const b = loadBindings();
const uvEOF = -4095;
/** Every read of every connection lands here; the bytes are copied out before the next read. */
const readBufferSize = 128 * 1024;
const readBuffer = Buffer.allocUnsafe(readBufferSize);
/**
 * Write buffers: a read is copied into one and written from it. A write that completes at once
 * (the usual case) hands its buffer straight back; one the kernel could not take whole keeps it
 * until it completes. Reusing them spares an allocation (and garbage) per read.
 */
const writeBuffers: Buffer[] = [];
const maxPooledWriteBuffers = 64;

function takeWriteBuffer(): Buffer {
  return writeBuffers.pop() ?? Buffer.allocUnsafeSlow(readBufferSize);
}

/** A write request object free for the next write (see the write path in `relay`). */
let spareWriteReq: WriteReq | undefined;

function returnWriteBuffer(buffer: Buffer): void {
  if (writeBuffers.length < maxPooledWriteBuffers) writeBuffers.push(buffer);
}

/** True when this Node exposes the handles the fast relay needs. */
export function rawRelayAvailable(): boolean {
  return b !== undefined;
}

/** One direction of a relayed connection. */
interface Direction {
  readonly from: TcpHandle;
  readonly to: TcpHandle;
  readonly conn: Connection;
  readonly toEndpoint: boolean;
  pendingWrites: number;
  paused: boolean;
  done: boolean;
}

interface Connection {
  readonly client: TcpHandle;
  upstream: TcpHandle | undefined;
  endpoint: RelayEndpoint | undefined;
  readonly balancer: ServiceBalancer;
  closed: boolean;
  halfDone: number;
}

/**
 * Starts the TCP relay of `frontend` on raw handles: same behaviour as `startTcpRelay` (endpoint
 * choice, per-attempt timeouts and retries, half-close, reset for reset, draining).
 */
export async function startRawTcpRelay(frontend: Frontend, initial: RelayContext): Promise<Relay> {
  if (b === undefined)
    throw new ProxyError(
      "KPROXY_LISTEN_FAILED",
      "Cannot start the raw TCP relay: Node's tcp_wrap binding is missing",
    );
  let context = initial;
  let allowed = sourceRangeFilter(frontend.sourceRanges);
  const bind = relayBindAddress(frontend);
  const server = new b.TCP(b.server);
  let err =
    frontend.family === "IPv4"
      ? server.bind(bind.host, bind.port)
      : server.bind6(bind.host, bind.port, b.ipv6Only);
  if (err === 0) err = server.listen(4096);
  if (err !== 0) {
    server.close();
    throw new ProxyError(
      "KPROXY_LISTEN_FAILED",
      `listen ${getSystemErrorName(err)}: cannot listen on ${bind.host}:${bind.port} for ${frontend.id}`,
    );
  }
  server.onconnection = (error, client) => {
    if (error === 0 && client !== undefined) accept(client, context, frontend, allowed);
  };
  const name: PeerInfo = {};
  server.getsockname(name);
  return {
    frontend,
    port: name.port ?? bind.port,
    setContext(next) {
      context = next;
      allowed = sourceRangeFilter(frontend.sourceRanges);
    },
    close() {
      server.close();
      return Promise.resolve();
    },
  };
}

function accept(
  client: TcpHandle,
  context: RelayContext,
  frontend: Frontend,
  allowed: ((ip: string) => boolean) | undefined,
): void {
  const balancer = context.balancer;
  // The peer's address costs a system call; only source ranges, affinity, hashing schedulers and
  // externalTrafficPolicy Local look at it.
  const peer: PeerInfo = {};
  if (
    allowed !== undefined ||
    balancer.needsClientAddress ||
    (frontend.external && balancer.service.externalPolicyLocal)
  )
    client.getpeername(peer);
  const clientIP = peer.address ?? "";
  if (allowed !== undefined && !allowed(clientIP)) {
    context.metrics.dropped(balancer.servicePortKey, "TCP", "source_range");
    client.reset();
    return;
  }
  client.setNoDelay(true);
  let destinationIP = frontend.address;
  if (frontend.kind === "nodePort") {
    const local: PeerInfo = {};
    client.getsockname(local);
    destinationIP = local.address ?? "";
  }
  const pick: PickContext = { clientIP, clientPort: peer.port ?? 0, destinationIP };
  const conn: Connection = {
    client,
    upstream: undefined,
    endpoint: undefined,
    balancer,
    closed: false,
    halfDone: 0,
  };
  dial(conn, context, pick, trafficKind(frontend, context, clientIP), 0, undefined);
}

function dial(
  conn: Connection,
  context: RelayContext,
  pick: PickContext,
  traffic: TrafficKind,
  attempt: number,
  tried: Set<RelayEndpoint> | undefined,
): void {
  const bindings = b as Bindings;
  const { balancer, tuning } = context;
  let endpoint = balancer.pick(pick, traffic, tried);
  if (endpoint === undefined && tried !== undefined && tried.size > 0) {
    tried.clear();
    endpoint = balancer.pick(pick, traffic, tried);
  }
  if (endpoint === undefined) {
    context.metrics.dropped(balancer.servicePortKey, "TCP", attempt === 0 ? "no_endpoints" : "dial_failed");
    conn.closed = true;
    conn.client.reset();
    return;
  }
  const target = endpoint;
  const upstream = new bindings.TCP(bindings.socket);
  const req = new bindings.TCPConnectWrap();
  let settled = false;
  const failed = (): void => {
    balancer.connectFailed(target);
    if (attempt + 1 >= tuning.connectTimeoutsMs.length) {
      context.metrics.dropped(balancer.servicePortKey, "TCP", "dial_failed");
      conn.closed = true;
      conn.client.reset();
      return;
    }
    const next = tried ?? new Set<RelayEndpoint>();
    next.add(target);
    dial(conn, context, pick, traffic, attempt + 1, next);
  };
  const timer = setTimeout(() => {
    if (settled) return;
    settled = true;
    upstream.close();
    failed();
  }, tuning.connectTimeoutsMs[attempt] ?? 2000);
  req.oncomplete = (status) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    if (status !== 0) {
      upstream.close();
      failed();
      return;
    }
    balancer.connectSucceeded(target);
    conn.upstream = upstream;
    conn.endpoint = target;
    upstream.setNoDelay(true);
    relay(conn, conn.client, upstream, true);
    relay(conn, upstream, conn.client, false);
  };
  const err = target.ip.includes(":")
    ? upstream.connect6(req, target.ip, target.port)
    : upstream.connect(req, target.ip, target.port);
  if (err !== 0) {
    settled = true;
    clearTimeout(timer);
    upstream.close();
    failed();
  }
}

function relay(conn: Connection, from: TcpHandle, to: TcpHandle, toEndpoint: boolean): void {
  const direction: Direction = { from, to, conn, toEndpoint, pendingWrites: 0, paused: false, done: false };
  from.useUserBuffer(readBuffer);
  from.onread = function onread() {
    const bindings = b as Bindings;
    const n = bindings.state[bindings.kReadBytesOrError] as number;
    if (conn.closed) return;
    if (n > 0) {
      const pooled = takeWriteBuffer();
      readBuffer.copy(pooled, 0, 0, n);
      const chunk = pooled.subarray(0, n);
      const endpoint = conn.endpoint as RelayEndpoint;
      if (toEndpoint) endpoint.bytesToEndpoint += n;
      else endpoint.bytesFromEndpoint += n;
      // A write request the C++ side did not keep (its write completed at once) is reused.
      const req = spareWriteReq ?? new bindings.WriteWrap();
      spareWriteReq = undefined;
      req.handle = to;
      req.oncomplete = onWriteComplete;
      req.async = false;
      req.direction = direction;
      req.buffer = null;
      const err = to.writeBuffer(req, chunk);
      if (err !== 0) {
        returnWriteBuffer(pooled);
        return abort(conn, direction.to);
      }
      if (bindings.state[bindings.kLastWriteWasAsync] === 0) {
        returnWriteBuffer(pooled);
        req.direction = null;
        spareWriteReq = req;
      } else {
        req.async = true;
        req.buffer = pooled;
        direction.pendingWrites++;
        if (!direction.paused) {
          direction.paused = true;
          from.readStop();
        }
      }
    } else if (n === uvEOF) {
      from.readStop();
      endOf(direction);
    } else if (n < 0) {
      abort(conn, from);
    }
  };
  from.readStart();
}

function ignoreRead(): void {}

function onWriteComplete(this: WriteReq, status: number): void {
  const direction = this.direction as Direction;
  if (this.buffer !== null) returnWriteBuffer(this.buffer as Buffer);
  this.buffer = null;
  direction.pendingWrites--;
  if (direction.conn.closed) return;
  if (status < 0) return abort(direction.conn, direction.to);
  if (direction.pendingWrites === 0 && direction.paused && !direction.done) {
    direction.paused = false;
    direction.from.readStart();
  }
}

/** `from` sent its FIN: pass it on once the queued writes are out (libuv orders the shutdown after them). */
function endOf(direction: Direction): void {
  const bindings = b as Bindings;
  direction.done = true;
  const req = new bindings.ShutdownWrap();
  req.handle = direction.to;
  req.oncomplete = (status) => {
    const conn = direction.conn;
    if (conn.closed) return;
    if (status < 0) return abort(conn, direction.to);
    if (++conn.halfDone === 2) finish(conn, false);
  };
  if (direction.to.shutdown(req) !== 0) abort(direction.conn, direction.to);
}

/** One side failed or was reset: reset the other, so that neither waits for a FIN that never comes. */
function abort(conn: Connection, failed: TcpHandle): void {
  if (conn.closed) return;
  finish(conn, true, failed);
}

function finish(conn: Connection, reset: boolean, failed?: TcpHandle): void {
  conn.closed = true;
  for (const handle of [conn.client, conn.upstream]) {
    if (handle === undefined) continue;
    handle.onread = ignoreRead; // the binding takes functions only
    if (reset && handle !== failed) handle.reset();
    else handle.close();
  }
  if (conn.endpoint !== undefined) conn.balancer.released(conn.endpoint);
}
