import { performance } from "node:perf_hooks";
import type { Frontend } from "../frontends.ts";
import type { RelayEndpoint } from "../relay-endpoint.ts";
import type { ServiceBalancer } from "../service-balancer.ts";
import { sourceRangeFilter } from "../source-ranges.ts";
import {
  IORING_ACCEPT_MULTISHOT,
  IORING_ASYNC_CANCEL_ALL,
  IORING_ASYNC_CANCEL_FD,
  IORING_CQE_F_BUFFER,
  IORING_CQE_F_MORE,
  IORING_OP_ACCEPT,
  IORING_OP_ASYNC_CANCEL,
  IORING_OP_CLOSE,
  IORING_OP_CONNECT,
  IORING_OP_LINK_TIMEOUT,
  IORING_OP_READ,
  IORING_OP_RECV,
  IORING_OP_SEND,
  IOSQE_BUFFER_SELECT,
  IOSQE_CQE_SKIP_SUCCESS,
  IOSQE_IO_HARDLINK,
  IOSQE_IO_LINK,
  IoUring,
  type BufferRing,
} from "./io-uring.ts";
import {
  AF_INET,
  AF_INET6,
  MSG_NOSIGNAL,
  SHUT_RD,
  SHUT_WR,
  SOCK_CLOEXEC,
  SOCK_STREAM,
  type Libc,
} from "./libc.ts";
import type { EngineContext, RelayEngine } from "./relay-engine.ts";
import {
  EndpointAddresses,
  admit,
  chooseEndpoint,
  lingerForReset,
  openListener,
  setNoDelay,
  type Admission,
} from "./relay-sockets.ts";
import { TimerList } from "./timer-list.ts";

// The relay engine on io_uring. Per relayed message the kernel completes a receive into a buffer
// it picks from a shared pool and a send from that buffer; the thread only reads completions and
// writes requests in shared memory, and one io_uring_enter per turn submits and waits for all of
// them. Against epoll (one read and one write system call per message) that saves most of the
// per-call cost, which dominates small messages, above all on virtual machines.
//
// Per direction at most one send is in flight and one received buffer waits behind it; the next
// receive is asked for only then, so a slow reader holds back its writer (backpressure) and
// bytes keep their order. Receives that find the pool empty (-ENOBUFS) are asked for again as
// buffers come back. A connection's requests carry its slot and a generation in user_data, so
// completions that arrive after it closed are recognised (their buffers go back to the pool).
// Closing cancels a socket's requests and closes it in one linked pair: io_uring holds a
// reference to a socket while a request on it is pending, so a plain close would leave it open.

const kindAccept = 1;
const kindConnect = 2;
const kindRecvClient = 3;
const kindRecvUpstream = 4;
const kindSendUpstream = 5;
const kindSendClient = 6;
const kindWake = 7;
const kindIgnore = 8;
const noBuffer = 0xffff;
const ENOBUFS = 105;
const EMFILE = 24;
const ENFILE = 23;
const MSG_WAITALL = 0x100;
const bufferCount = 512;
const bufferSize = 32 * 1024;
const bufferGroup = 1;
const slotsPerBlock = 4096;
const slotBytes = 32;

const dialing = 0;
const open = 1;
const closed = 2;

/** One direction of a connection: what `from` sends is written to `to`. */
class Direction {
  readonly towardsEndpoint: boolean;
  fromFd = -1;
  toFd = -1;
  recvArmed = false;
  /** Buffer being sent (noBuffer: none), and how far. */
  sending = noBuffer;
  sendOffset = 0;
  sendLength = 0;
  /** A received buffer waiting behind the send (noBuffer: none). */
  queued = noBuffer;
  queuedLength = 0;
  /** `from` sent its FIN. */
  eof = false;

  constructor(towardsEndpoint: boolean) {
    this.towardsEndpoint = towardsEndpoint;
  }
}

class Conn {
  readonly slot: number;
  readonly gen: number;
  readonly clientFd: number;
  upstreamFd = -1;
  state = dialing;
  readonly balancer: ServiceBalancer;
  readonly admission: Admission;
  endpoint: RelayEndpoint | undefined = undefined;
  attempt = 0;
  tried: Set<RelayEndpoint> | undefined = undefined;
  readonly up = new Direction(true);
  readonly down = new Direction(false);
  directionsDone = 0;

  constructor(slot: number, gen: number, fd: number, balancer: ServiceBalancer, admission: Admission) {
    this.slot = slot;
    this.gen = gen;
    this.clientFd = fd;
    this.balancer = balancer;
    this.admission = admission;
  }
}

interface Listener {
  readonly index: number;
  readonly gen: number;
  readonly fd: number;
  readonly frontend: Frontend;
  readonly balancer: ServiceBalancer;
  readonly allowed: ((ip: string) => boolean) | undefined;
  closed: boolean;
}

/** The relay engine on io_uring; undefined where io_uring cannot serve (then epoll does). */
export function createUringEngine(libc: Libc, context: EngineContext): RelayEngine | undefined {
  const ring = IoUring.create(libc, 4096, 65536);
  if (ring === undefined) return undefined;
  const pool = ring.bufferRing(bufferCount, bufferSize, bufferGroup);
  const scratch = libc.map(4096, -1, 0);
  if (pool === undefined || scratch === undefined) {
    libc.close(ring.fd);
    return undefined;
  }
  return new UringEngine(libc, context, ring, pool, scratch);
}

class UringEngine implements RelayEngine {
  readonly kind = "io_uring";
  readonly #libc: Libc;
  readonly #context: EngineContext;
  readonly #ring: IoUring;
  readonly #pool: BufferRing;
  readonly #timers = new TimerList();
  readonly clock = this.#timers.clock();
  readonly #listeners: (Listener | undefined)[] = [];
  readonly #listenerById = new Map<string, Listener>();
  #listenerGen = 0;
  readonly #conns: (Conn | undefined)[] = [];
  readonly #gens: number[] = [];
  readonly #freeSlots: number[] = [];
  /** Native memory per connection slot (the endpoint's address for connect). */
  readonly #blocks: { bytes: Uint8Array; address: number }[] = [];
  readonly #addresses = new EndpointAddresses();
  /** Directions whose receive found the pool empty, to ask again as buffers come back. */
  #starved: { conn: Conn; dir: Direction }[] = [];
  /** Connect timeouts (one timespec per attempt) and the eventfd's counter, in native memory. */
  readonly #scratch: { memory: ArrayBuffer; address: number };
  #wakeFd = -1;
  #onWake: () => void = () => undefined;
  #stopped = false;
  readonly #handler = (user: number, user2: number, res: number, flags: number): void => {
    try {
      this.#complete(user, user2, res, flags);
    } catch (err) {
      this.#context.onError(err);
    }
  };

  constructor(
    libc: Libc,
    context: EngineContext,
    ring: IoUring,
    pool: BufferRing,
    scratch: { memory: ArrayBuffer; address: number },
  ) {
    this.#libc = libc;
    this.#context = context;
    this.#ring = ring;
    this.#pool = pool;
    this.#scratch = scratch;
    const words = new Uint32Array(scratch.memory);
    context.tuning.connectTimeoutsMs.forEach((ms, i) => {
      // __kernel_timespec { tv_sec i64, tv_nsec i64 } at byte 64 + 16 i.
      words[16 + i * 4] = Math.floor(ms / 1000);
      words[18 + i * 4] = (ms % 1000) * 1_000_000;
    });
  }

  listen(frontend: Frontend, balancer: ServiceBalancer): number {
    // Blocking sockets: io_uring waits for readiness itself.
    const { fd, port } = openListener(this.#libc, frontend, 0);
    let index = this.#listeners.indexOf(undefined);
    if (index < 0) index = this.#listeners.length;
    const listener: Listener = {
      index,
      gen: (this.#listenerGen = (this.#listenerGen + 1) & 0xffff),
      fd,
      frontend,
      balancer,
      allowed: sourceRangeFilter(frontend.sourceRanges),
      closed: false,
    };
    this.#listeners[index] = listener;
    this.#listenerById.set(frontend.id, listener);
    this.#armAccept(listener);
    return port;
  }

  #armAccept(listener: Listener): void {
    this.#ring.push(
      IORING_OP_ACCEPT,
      0,
      listener.fd,
      0,
      0,
      SOCK_CLOEXEC,
      (listener.index << 4) | kindAccept,
      listener.gen,
      0,
      IORING_ACCEPT_MULTISHOT,
    );
  }

  unlisten(id: string): void {
    const listener = this.#listenerById.get(id);
    if (listener === undefined) return;
    this.#listenerById.delete(id);
    this.#listeners[listener.index] = undefined;
    listener.closed = true;
    // The ring holds the socket open until the accept's cancel completes, after the sync has
    // returned; shutting it down stops listening now, so that from here on a connection is
    // refused rather than accepted and reset.
    this.#libc.shutdown(listener.fd, SHUT_RD);
    this.#cancelAndClose(listener.fd);
  }

  closeAll(): void {
    for (const id of [...this.#listenerById.keys()]) this.unlisten(id);
    for (const conn of this.#conns) if (conn !== undefined) this.#finish(conn, false, -1);
  }

  run(wakeFd: number, onWake: () => void): void {
    this.#wakeFd = wakeFd;
    this.#onWake = onWake;
    this.#armWake();
    const onError = this.#context.onError;
    while (!this.#stopped) {
      this.#ring.run(this.#timers.sleepMs(1000), this.#handler);
      this.#timers.runDue(performance.now(), onError);
    }
    // Submit the last cancels and closes, then let the ring go (closing it ends what is left).
    this.#ring.run(0, this.#handler);
    this.#libc.close(this.#ring.fd);
  }

  stop(): void {
    this.#stopped = true;
  }

  #armWake(): void {
    this.#ring.push(IORING_OP_READ, 0, this.#wakeFd, this.#scratch.address, 8, 0, kindWake, 0, -1);
  }

  #complete(user: number, user2: number, res: number, flags: number): void {
    const kind = user & 15;
    const index = user >>> 4;
    switch (kind) {
      case kindRecvClient:
      case kindRecvUpstream:
        return this.#received(index, user2 >>> 16, kind === kindRecvClient, res, flags);
      case kindSendUpstream:
      case kindSendClient:
        return this.#sent(index, user2 >>> 16, user2 & 0xffff, kind === kindSendUpstream, res);
      case kindAccept:
        return this.#acceptedOn(index, user2, res, flags);
      case kindConnect:
        return this.#connected(index, user2 >>> 16, res);
      case kindWake:
        if (!this.#stopped) this.#armWake();
        return this.#onWake();
    }
  }

  #acceptedOn(index: number, listenerGen: number, res: number, flags: number): void {
    const listener = this.#listeners[index];
    const live = listener !== undefined && listener.gen === listenerGen && !listener.closed;
    if (res >= 0 && !live) {
      this.#libc.close(res);
      return;
    }
    if (!live) return;
    if ((flags & IORING_CQE_F_MORE) === 0) {
      // The multishot accept ended (an error, or resources ran out): ask again, later if needed.
      if (res === -EMFILE || res === -ENFILE) {
        this.#context.warn("accept failed; retrying", { frontend: listener.frontend.id, errno: -res });
        this.#timers.add(() => {
          if (!listener.closed) this.#armAccept(listener);
        }, 50);
      } else this.#armAccept(listener);
    }
    if (res < 0) return;
    const admission = admit(this.#libc, res, listener, {
      peer: undefined,
      internalSource: (ip) => this.#context.internalSource(ip),
      dropped: (key, reason) => this.#context.dropped(key, reason),
    });
    if (admission === undefined) return;
    const slot = this.#freeSlots.pop() ?? this.#conns.length;
    const gen = ((this.#gens[slot] ?? 0) + 1) & 0xffff;
    this.#gens[slot] = gen;
    const conn = new Conn(slot, gen, res, listener.balancer, admission);
    conn.up.fromFd = res;
    conn.down.toFd = res;
    this.#conns[slot] = conn;
    this.#dial(conn);
  }

  #slotMemory(slot: number): { bytes: Uint8Array; offset: number; address: number } {
    const blockIndex = Math.floor(slot / slotsPerBlock);
    while (this.#blocks.length <= blockIndex) {
      const block = this.#libc.map(slotsPerBlock * slotBytes, -1, 0);
      if (block === undefined) throw new Error(`Cannot map connection memory: errno ${this.#libc.errno()}`);
      this.#blocks.push({ bytes: new Uint8Array(block.memory), address: block.address });
    }
    const block = this.#blocks[blockIndex] as { bytes: Uint8Array; address: number };
    const offset = (slot % slotsPerBlock) * slotBytes;
    return { bytes: block.bytes, offset, address: block.address + offset };
  }

  #dial(conn: Conn): void {
    const libc = this.#libc;
    const endpoint = chooseEndpoint(conn.balancer, conn.admission, conn.tried);
    if (endpoint === undefined) {
      this.#context.dropped(
        conn.balancer.servicePortKey,
        conn.attempt === 0 ? "no_endpoints" : "dial_failed",
      );
      return this.#finish(conn, true, -1);
    }
    conn.endpoint = endpoint;
    const address = this.#addresses.get(endpoint);
    const fd = libc.socket(address.length === 28 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      this.#context.dropped(conn.balancer.servicePortKey, "dial_failed");
      return this.#finish(conn, true, -1);
    }
    conn.upstreamFd = fd;
    conn.up.toFd = fd;
    conn.down.fromFd = fd;
    setNoDelay(libc, fd);
    const memory = this.#slotMemory(conn.slot);
    memory.bytes.set(address, memory.offset);
    const timeouts = this.#context.tuning.connectTimeoutsMs;
    const attempt = Math.min(conn.attempt, timeouts.length - 1);
    // The connect, and a timeout linked to it that cancels it (-ECANCELED) when it fires first.
    this.#ring.push(
      IORING_OP_CONNECT,
      IOSQE_IO_LINK,
      fd,
      memory.address,
      0,
      0,
      (conn.slot << 4) | kindConnect,
      (conn.gen << 16) | noBuffer,
      address.length,
    );
    this.#ring.push(
      IORING_OP_LINK_TIMEOUT,
      0,
      -1,
      this.#scratch.address + 64 + attempt * 16,
      1,
      0,
      kindIgnore,
      0,
    );
  }

  #connected(slot: number, gen: number, res: number): void {
    const conn = this.#conns[slot];
    if (conn === undefined || conn.gen !== gen || conn.state !== dialing) return;
    const endpoint = conn.endpoint as RelayEndpoint;
    if (res === 0) {
      conn.state = open;
      conn.balancer.connectSucceeded(endpoint);
      this.#armRecv(conn, conn.up);
      this.#armRecv(conn, conn.down);
      return;
    }
    // Refused, unreachable, or cancelled by its timeout: try another endpoint.
    this.#libc.close(conn.upstreamFd);
    conn.upstreamFd = -1;
    conn.endpoint = undefined;
    conn.balancer.connectFailed(endpoint);
    if (++conn.attempt >= this.#context.tuning.connectTimeoutsMs.length) {
      this.#context.dropped(conn.balancer.servicePortKey, "dial_failed");
      return this.#finish(conn, true, -1);
    }
    (conn.tried ??= new Set()).add(endpoint);
    this.#dial(conn);
  }

  #armRecv(conn: Conn, dir: Direction): void {
    dir.recvArmed = true;
    this.#ring.push(
      IORING_OP_RECV,
      IOSQE_BUFFER_SELECT,
      dir.fromFd,
      0,
      0,
      0,
      (conn.slot << 4) | (dir.towardsEndpoint ? kindRecvClient : kindRecvUpstream),
      (conn.gen << 16) | noBuffer,
      0,
      0,
      bufferGroup,
    );
  }

  #received(slot: number, gen: number, fromClient: boolean, res: number, flags: number): void {
    const bid = (flags & IORING_CQE_F_BUFFER) !== 0 ? flags >>> 16 : noBuffer;
    const conn = this.#conns[slot];
    if (conn === undefined || conn.gen !== gen || conn.state !== open) {
      if (bid !== noBuffer) this.#give(bid);
      return;
    }
    const dir = fromClient ? conn.up : conn.down;
    dir.recvArmed = false;
    if (res > 0) {
      const endpoint = conn.endpoint as RelayEndpoint;
      if (fromClient) endpoint.bytesToEndpoint += res;
      else endpoint.bytesFromEndpoint += res;
      if (dir.sending === noBuffer) {
        this.#send(conn, dir, bid, 0, res);
        this.#armRecv(conn, dir);
      } else {
        dir.queued = bid;
        dir.queuedLength = res;
      }
      return;
    }
    if (bid !== noBuffer) this.#give(bid);
    if (res === 0) {
      dir.eof = true;
      if (dir.sending === noBuffer) this.#passFin(conn, dir);
      return;
    }
    if (res === -ENOBUFS) {
      this.#starved.push({ conn, dir });
      return;
    }
    this.#finish(conn, true, dir.fromFd);
  }

  #send(conn: Conn, dir: Direction, bid: number, offset: number, length: number): void {
    dir.sending = bid;
    dir.sendOffset = offset;
    dir.sendLength = length;
    this.#ring.push(
      IORING_OP_SEND,
      0,
      dir.toFd,
      this.#pool.address(bid) + offset,
      length - offset,
      MSG_NOSIGNAL | MSG_WAITALL,
      (conn.slot << 4) | (dir.towardsEndpoint ? kindSendUpstream : kindSendClient),
      (conn.gen << 16) | bid,
    );
  }

  #sent(slot: number, gen: number, bid: number, towardsEndpoint: boolean, res: number): void {
    const conn = this.#conns[slot];
    if (conn === undefined || conn.gen !== gen || conn.state !== open) {
      this.#give(bid);
      return;
    }
    const dir = towardsEndpoint ? conn.up : conn.down;
    if (res < 0) {
      this.#give(bid);
      return this.#finish(conn, true, dir.toFd);
    }
    if (dir.sendOffset + res < dir.sendLength) {
      this.#send(conn, dir, bid, dir.sendOffset + res, dir.sendLength);
      return;
    }
    this.#give(bid);
    dir.sending = noBuffer;
    if (dir.queued !== noBuffer) {
      const queued = dir.queued;
      dir.queued = noBuffer;
      this.#send(conn, dir, queued, 0, dir.queuedLength);
      if (!dir.eof && !dir.recvArmed) this.#armRecv(conn, dir);
    } else if (dir.eof) this.#passFin(conn, dir);
  }

  /** Returns a buffer to the pool, and lets a starved receive try again. */
  #give(bid: number): void {
    this.#pool.give(bid);
    while (this.#starved.length > 0) {
      const next = this.#starved.shift() as { conn: Conn; dir: Direction };
      if (next.conn.state !== open || this.#conns[next.conn.slot] !== next.conn) continue;
      if (!next.dir.recvArmed && !next.dir.eof) this.#armRecv(next.conn, next.dir);
      return;
    }
  }

  /** `dir`'s sender sent its FIN and everything before it is out: pass it on. */
  #passFin(conn: Conn, dir: Direction): void {
    if (this.#libc.shutdown(dir.toFd, SHUT_WR) !== 0) return this.#finish(conn, true, dir.toFd);
    if (++conn.directionsDone === 2) this.#finish(conn, false, -1);
  }

  /**
   * Ends a connection: a clean end closes both sockets; a failure resets every socket but the
   * one that failed, so that neither side waits for a FIN that never comes.
   */
  #finish(conn: Conn, resetOthers: boolean, failedFd: number): void {
    if (conn.state === closed) return;
    const wasOpen = conn.state === open;
    conn.state = closed;
    this.#conns[conn.slot] = undefined;
    this.#freeSlots.push(conn.slot);
    for (const fd of [conn.clientFd, conn.upstreamFd]) {
      if (fd < 0) continue;
      if (resetOthers && fd !== failedFd) lingerForReset(this.#libc, fd);
      // Requests may be pending on an open connection's sockets, and on the endpoint's socket
      // while it connects; nothing was ever asked of the client's socket before that.
      if (wasOpen || fd === conn.upstreamFd) this.#cancelAndClose(fd);
      else this.#libc.close(fd);
    }
    if (wasOpen && conn.endpoint !== undefined) conn.balancer.released(conn.endpoint);
  }

  /** Cancels every request on `fd`, then closes it, in one linked pair. */
  #cancelAndClose(fd: number): void {
    this.#ring.push(
      IORING_OP_ASYNC_CANCEL,
      IOSQE_IO_HARDLINK | IOSQE_CQE_SKIP_SUCCESS,
      fd,
      0,
      0,
      IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL,
      kindIgnore,
      0,
    );
    this.#ring.push(IORING_OP_CLOSE, IOSQE_CQE_SKIP_SUCCESS, fd, 0, 0, 0, kindIgnore, 0);
  }
}
