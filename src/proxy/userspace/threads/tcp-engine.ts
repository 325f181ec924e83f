import { getSystemErrorName } from "node:util";
import { ProxyError } from "../../../errors.ts";
import type { Frontend } from "../frontends.ts";
import type { RelayEndpoint } from "../relay-endpoint.ts";
import type { ServiceBalancer } from "../service-balancer.ts";
import { sourceRangeFilter } from "../source-ranges.ts";
import type { DeadlineQueue, EventLoop, Watcher } from "./event-loop.ts";
import type { EngineContext } from "./relay-engine.ts";
import {
  AF_INET,
  AF_INET6,
  EAGAIN,
  EINPROGRESS,
  EINTR,
  EPOLLERR,
  EPOLLET,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  SHUT_WR,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  type Libc,
} from "./libc.ts";
import {
  EndpointAddresses,
  admit,
  chooseEndpoint,
  openListener,
  reset,
  setNoDelay,
  type Admission,
} from "./relay-sockets.ts";

// The TCP relay of the epoll engine: the same behaviour as the relays on Node's handles
// (tcp-relay.ts, raw-tcp-relay.ts) — endpoint choice, per-attempt connect timeouts and retries on
// other endpoints, FIN for FIN, reset for reset, backpressure, draining — with every system call
// made directly. Per relayed message that is one read and one write, from one buffer shared by
// every connection; per connection accept4, socket, setsockopt, connect, two epoll_ctl and the
// closes. Sockets are registered once, edge-triggered, for both directions, and never modified.

const readSize = 128 * 1024;
/** Reads up to this size are held back and written together at the end of the loop's turn. */
const holdSize = 4096;
const holdArenaSize = 256 * 1024;
const holdEnabled = process.env["KPROXY_DEFER"] !== "0";
/** Reads per ready socket before other sockets get a turn. */
const readsPerTurn = 16;
/** Connections accepted per listener before other sockets get a turn. */
const acceptsPerTurn = 64;
const watchEvents = (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) >>> 0;

const dialing = 0;
const open = 1;
const closed = 2;

class Side implements Watcher {
  token = 0;
  readonly conn: Conn;
  readonly fd: number;
  /** True for the client's socket: what it reads goes to the endpoint. */
  readonly isClient: boolean;
  /** epoll said readable and the socket was not read dry since. */
  readable = false;
  /**
   * epoll reported the peer's FIN or an error: reading must go on to the end, because no further
   * edge will announce what already waits behind the data.
   */
  hangup = false;
  /** The peer sent its FIN (read returned 0). */
  eof = false;
  /** Bytes bound for this socket that it could not take yet. */
  pending: Buffer | undefined = undefined;
  pendingStart = 0;
  pendingEnd = 0;
  /** Pass the peer's FIN on once `pending` is out. */
  finAfterFlush = false;
  /** Messages for this socket held back until the end of the turn (see `#hold`). */
  queued = 0;

  constructor(conn: Conn, fd: number, isClient: boolean) {
    this.conn = conn;
    this.fd = fd;
    this.isClient = isClient;
  }

  onEvent(events: number): void {
    this.conn.engine.onSideEvent(this, events);
  }
}

class Conn {
  readonly engine: TcpEngine;
  readonly client: Side;
  upstream: Side | undefined = undefined;
  state = dialing;
  readonly balancer: ServiceBalancer;
  readonly admission: Admission;
  endpoint: RelayEndpoint | undefined = undefined;
  attempt = 0;
  /** Tells a live connect timeout from one left over by an earlier attempt. */
  dialTag = 0;
  tried: Set<RelayEndpoint> | undefined = undefined;
  directionsDone = 0;

  constructor(engine: TcpEngine, fd: number, balancer: ServiceBalancer, admission: Admission) {
    this.engine = engine;
    this.client = new Side(this, fd, true);
    this.balancer = balancer;
    this.admission = admission;
  }
}

class Listener implements Watcher {
  token = 0;
  readonly fd: number;
  readonly frontend: Frontend;
  readonly port: number;
  balancer: ServiceBalancer;
  allowed: ((ip: string) => boolean) | undefined;
  closed = false;
  readonly engine: TcpEngine;

  constructor(engine: TcpEngine, fd: number, frontend: Frontend, balancer: ServiceBalancer, port: number) {
    this.engine = engine;
    this.fd = fd;
    this.frontend = frontend;
    this.balancer = balancer;
    this.port = port;
    this.allowed = sourceRangeFilter(frontend.sourceRanges);
  }

  onEvent(): void {
    this.engine.acceptFrom(this);
  }
}

/** The TCP relays of one epoll loop (one thread): listeners and their connections. */
export class TcpEngine {
  readonly #libc: Libc;
  readonly #loop: EventLoop;
  readonly #context: EngineContext;
  readonly #listeners = new Map<string, Listener>();
  readonly #conns = new Set<Conn>();
  readonly #buffer = Buffer.allocUnsafe(readSize);
  readonly #peer = new Uint8Array(28);
  readonly #peerLength = new Int32Array(1);
  readonly #timeouts: DeadlineQueue<Conn>[];
  readonly #addresses = new EndpointAddresses();
  readonly #arena = Buffer.allocUnsafe(holdArenaSize);
  readonly #scratch = Buffer.allocUnsafe(holdSize);
  #held: (Side | undefined)[] = [];
  #heldStart: number[] = [];
  #heldLength: number[] = [];
  #heldCount = 0;
  #arenaUsed = 0;
  #warnedAccept = false;

  constructor(libc: Libc, loop: EventLoop, context: EngineContext) {
    this.#libc = libc;
    this.#loop = loop;
    this.#context = context;
    loop.turnEnd = () => {
      if (this.#heldCount > 0) this.#writeHeld();
    };
    this.#timeouts = context.tuning.connectTimeoutsMs.map(() =>
      loop.deadlineQueue<Conn>((conn, tag) => {
        if (conn.state === dialing && conn.dialTag === tag) this.#dialFailed(conn);
      }),
    );
  }

  /** Opens the listener of `frontend`; returns the port it listens on. Throws KPROXY_LISTEN_FAILED. */
  listen(frontend: Frontend, balancer: ServiceBalancer): number {
    const { fd, port } = openListener(this.#libc, frontend, SOCK_NONBLOCK);
    const listener = new Listener(this, fd, frontend, balancer, port);
    if (!this.#loop.add(fd, (EPOLLIN | EPOLLET) >>> 0, listener)) {
      const errno = this.#libc.errno();
      this.#libc.close(fd);
      throw new ProxyError(
        "KPROXY_LISTEN_FAILED",
        `epoll_ctl ${getSystemErrorName(-errno)}: cannot watch ${frontend.id}`,
      );
    }
    this.#listeners.set(frontend.id, listener);
    return port;
  }

  /** Stops accepting on `id`; its connections go on until they end (drain). */
  unlisten(id: string): void {
    const listener = this.#listeners.get(id);
    if (listener === undefined) return;
    this.#listeners.delete(id);
    listener.closed = true;
    this.#loop.remove(listener.fd);
    this.#libc.close(listener.fd);
  }

  /** Closes every listener and connection (the thread is stopping). */
  closeAll(): void {
    for (const id of [...this.#listeners.keys()]) this.unlisten(id);
    for (const conn of [...this.#conns]) this.#finish(conn, false, undefined);
  }

  acceptFrom(listener: Listener): void {
    const libc = this.#libc;
    for (let i = 0; i < acceptsPerTurn; i++) {
      if (listener.closed) return;
      this.#peerLength[0] = 28;
      const fd = libc.accept(listener.fd, this.#peer, this.#peerLength, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        const errno = libc.errno();
        if (errno === EAGAIN) return;
        if (errno === EINTR) continue;
        // EMFILE and friends: the connection waits in the backlog; edge-triggered epoll will not
        // say so again, so look again shortly.
        if (!this.#warnedAccept) {
          this.#warnedAccept = true;
          this.#context.warn("accept failed; retrying", {
            frontend: listener.frontend.id,
            error: getSystemErrorName(-errno),
          });
        }
        this.#loop.clock().setTimeout(() => this.acceptFrom(listener), 50);
        return;
      }
      this.#accepted(listener, fd);
    }
    this.#loop.soon(() => this.acceptFrom(listener));
  }

  #accepted(listener: Listener, fd: number): void {
    const admission = admit(this.#libc, fd, listener, {
      peer: this.#peer,
      internalSource: (ip) => this.#context.internalSource(ip),
      dropped: (key, reason) => this.#context.dropped(key, reason),
    });
    if (admission === undefined) return;
    const conn = new Conn(this, fd, listener.balancer, admission);
    this.#conns.add(conn);
    this.#dial(conn);
    if (conn.state !== closed && !this.#loop.add(fd, watchEvents, conn.client))
      this.#finish(conn, true, undefined);
  }

  #dial(conn: Conn): void {
    const libc = this.#libc;
    const endpoint = chooseEndpoint(conn.balancer, conn.admission, conn.tried);
    if (endpoint === undefined) {
      this.#context.dropped(
        conn.balancer.servicePortKey,
        conn.attempt === 0 ? "no_endpoints" : "dial_failed",
      );
      this.#finish(conn, true, undefined);
      return;
    }
    conn.endpoint = endpoint;
    const address = this.#addresses.get(endpoint);
    const fd = libc.socket(
      address.length === 28 ? AF_INET6 : AF_INET,
      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
      0,
    );
    if (fd < 0) {
      this.#context.dropped(conn.balancer.servicePortKey, "dial_failed");
      this.#finish(conn, true, undefined);
      return;
    }
    const upstream = new Side(conn, fd, false);
    conn.upstream = upstream;
    setNoDelay(libc, fd);
    if (libc.connect(fd, address, address.length) !== 0 && libc.errno() !== EINPROGRESS) {
      this.#dialFailed(conn);
      return;
    }
    if (!this.#loop.add(fd, watchEvents, upstream)) {
      this.#dialFailed(conn);
      return;
    }
    conn.dialTag++;
    const timeouts = this.#context.tuning.connectTimeoutsMs;
    const queue = this.#timeouts[Math.min(conn.attempt, timeouts.length - 1)];
    queue?.add(conn, conn.dialTag, this.#loop.now + (timeouts[conn.attempt] ?? 2000));
  }

  /** The current attempt failed (refused, unreachable or timed out): retry elsewhere or give up. */
  #dialFailed(conn: Conn): void {
    const upstream = conn.upstream;
    if (upstream !== undefined) {
      this.#loop.remove(upstream.fd);
      this.#libc.close(upstream.fd);
      conn.upstream = undefined;
    }
    const endpoint = conn.endpoint as RelayEndpoint;
    conn.endpoint = undefined;
    conn.dialTag++;
    conn.balancer.connectFailed(endpoint);
    if (++conn.attempt >= this.#context.tuning.connectTimeoutsMs.length) {
      this.#context.dropped(conn.balancer.servicePortKey, "dial_failed");
      this.#finish(conn, true, undefined);
      return;
    }
    (conn.tried ??= new Set()).add(endpoint);
    this.#dial(conn);
  }

  onSideEvent(side: Side, events: number): void {
    const conn = side.conn;
    if (conn.state === dialing) {
      if (side.isClient) {
        // The client may already send; its bytes wait in the kernel until the endpoint answers.
        if ((events & EPOLLERR) !== 0) this.#finish(conn, false, side);
        else if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) !== 0) {
          side.readable = true;
          if ((events & (EPOLLRDHUP | EPOLLHUP)) !== 0) side.hangup = true;
        }
        return;
      }
      if ((events & (EPOLLERR | EPOLLHUP)) !== 0) return this.#dialFailed(conn);
      if ((events & EPOLLOUT) === 0) return;
      conn.state = open;
      conn.dialTag++;
      conn.balancer.connectSucceeded(conn.endpoint as RelayEndpoint);
      if (conn.client.readable) this.#pump(conn.client);
      if (conn.state === open && (events & (EPOLLIN | EPOLLRDHUP)) !== 0) {
        side.readable = true;
        if ((events & EPOLLRDHUP) !== 0) side.hangup = true;
        this.#pump(side);
      }
      return;
    }
    if (conn.state === closed) return;
    if ((events & EPOLLOUT) !== 0 && side.pending !== undefined) this.#flush(side);
    if (conn.state === closed) return;
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) !== 0) {
      // A reset after this side's FIN: nothing more to read, but the connection is dead.
      if (side.eof && (events & EPOLLERR) !== 0) return this.#finish(conn, true, side);
      side.readable = true;
      if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) !== 0) side.hangup = true;
      this.#pump(side);
    }
  }

  /**
   * Copies what `from` has to its peer until `from` is dry, the peer is full, or its turn is over.
   * Small reads are held back and written together when the turn ends: the peers then wake up once
   * for several messages instead of once each, which costs the whole machine less.
   */
  #pump(from: Side): void {
    const conn = from.conn;
    const to = (from.isClient ? conn.upstream : conn.client) as Side;
    if (from.eof || to.pending !== undefined) return;
    const libc = this.#libc;
    const buffer = this.#buffer;
    const endpoint = conn.endpoint as RelayEndpoint;
    for (let i = 0; i < readsPerTurn; i++) {
      const n = libc.recv(from.fd, buffer, readSize);
      if (n > 0) {
        if (from.isClient) endpoint.bytesToEndpoint += n;
        else endpoint.bytesFromEndpoint += n;
        if (holdEnabled && n <= holdSize && this.#arenaUsed + n <= holdArenaSize) {
          buffer.copy(this.#arena, this.#arenaUsed, 0, n);
          this.#held[this.#heldCount] = to;
          this.#heldStart[this.#heldCount] = this.#arenaUsed;
          this.#heldLength[this.#heldCount++] = n;
          this.#arenaUsed += n;
          to.queued++;
        } else {
          // Bytes held for `to` go first.
          if (to.queued > 0) this.#writeHeld();
          if (!this.#deliver(to, buffer, n)) return;
          if (to.pending !== undefined) return; // full: reading resumes once it drains (EPOLLOUT)
        }
        if (n < readSize && !from.hangup) {
          // A short read emptied the socket: the next data brings a new edge.
          from.readable = false;
          return;
        }
        continue;
      }
      if (n === 0) {
        from.eof = true;
        from.readable = false;
        this.#passFin(to);
        return;
      }
      const errno = libc.errno();
      if (errno === EAGAIN) {
        from.readable = false;
        return;
      }
      if (errno !== EINTR) return this.#finish(conn, true, from);
    }
    this.#loop.soon(() => {
      if (from.conn.state === open && from.readable) this.#pump(from);
    });
  }

  /** Writes the held-back messages, in order. */
  #writeHeld(): void {
    const count = this.#heldCount;
    this.#heldCount = 0;
    this.#arenaUsed = 0;
    for (let i = 0; i < count; i++) {
      const to = this.#held[i] as Side;
      this.#held[i] = undefined;
      to.queued--;
      if (to.conn.state === closed) continue;
      const start = this.#heldStart[i] as number;
      const length = this.#heldLength[i] as number;
      this.#arena.copy(this.#scratch, 0, start, start + length);
      if (!this.#deliver(to, this.#scratch, length)) continue;
      if (to.queued === 0 && to.pending === undefined && to.finAfterFlush) this.#passFin(to);
    }
  }

  /**
   * Writes `source[0, length)` to `to`, or appends it to what `to` already holds back; what the
   * socket does not take is kept until EPOLLOUT. False when the connection failed (and is closed).
   */
  #deliver(to: Side, source: Buffer, length: number): boolean {
    if (to.pending !== undefined) {
      const held = to.pendingEnd - to.pendingStart;
      if (to.pendingEnd + length > to.pending.length) {
        const grown = Buffer.allocUnsafe(Math.max(to.pending.length * 2, held + length));
        to.pending.copy(grown, 0, to.pendingStart, to.pendingEnd);
        to.pending = grown;
        to.pendingStart = 0;
        to.pendingEnd = held;
      }
      source.copy(to.pending, to.pendingEnd, 0, length);
      to.pendingEnd += length;
      return true;
    }
    let written = this.#libc.send(to.fd, source, length);
    if (written === length) return true;
    if (written < 0) {
      if (this.#libc.errno() !== EAGAIN) {
        this.#finish(to.conn, true, to);
        return false;
      }
      written = 0;
    }
    to.pending = Buffer.allocUnsafe(Math.max(readSize, length - written));
    source.copy(to.pending, 0, written, length);
    to.pendingStart = 0;
    to.pendingEnd = length - written;
    return true;
  }

  #flush(to: Side): void {
    const pending = to.pending as Buffer;
    const length = to.pendingEnd - to.pendingStart;
    const written = this.#libc.send(to.fd, pending.subarray(to.pendingStart), length);
    if (written === length) {
      to.pending = undefined;
      const conn = to.conn;
      if (to.finAfterFlush) return this.#passFin(to);
      const from = (to.isClient ? conn.upstream : conn.client) as Side;
      if (from.readable) this.#pump(from);
    } else if (written > 0) to.pendingStart += written;
    else if (this.#libc.errno() !== EAGAIN) this.#finish(to.conn, true, to);
  }

  /** The peer of `to` sent its FIN: pass it on once the bytes before it are out. */
  #passFin(to: Side): void {
    if (to.pending !== undefined || to.queued > 0) {
      to.finAfterFlush = true;
      return;
    }
    to.finAfterFlush = false;
    const conn = to.conn;
    if (this.#libc.shutdown(to.fd, SHUT_WR) !== 0) return this.#finish(conn, true, to);
    if (++conn.directionsDone === 2) this.#finish(conn, false, undefined);
  }

  /**
   * Ends a connection: a clean end (both FINs passed) closes both sockets; a failure resets every
   * socket but the one that failed, so that neither side waits for a FIN that never comes.
   */
  #finish(conn: Conn, reset: boolean, failed: Side | undefined): void {
    if (conn.state === closed) return;
    const wasOpen = conn.state === open;
    conn.state = closed;
    this.#conns.delete(conn);
    for (const side of [conn.client, conn.upstream]) {
      if (side === undefined) continue;
      this.#loop.remove(side.fd);
      if (reset && side !== failed) this.#reset(side.fd);
      else this.#libc.close(side.fd);
    }
    if (wasOpen && conn.endpoint !== undefined) conn.balancer.released(conn.endpoint);
  }

  #reset(fd: number): void {
    reset(this.#libc, fd);
  }
}
