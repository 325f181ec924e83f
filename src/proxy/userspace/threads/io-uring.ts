import type { Libc } from "./libc.ts";

// An io_uring driven from JavaScript (x86-64): the rings are mapped into the thread and read and
// written through typed arrays, and one io_uring_enter submits a turn's requests and waits for
// completions. On x86-64, stores become visible in program order and V8 keeps typed-array stores
// in order, which is all the ring protocol needs from this side (the kernel reads the tail with
// acquire semantics and publishes completions with release semantics).

export const IORING_OP_NOP = 0;
export const IORING_OP_ACCEPT = 13;
export const IORING_OP_ASYNC_CANCEL = 14;
export const IORING_OP_LINK_TIMEOUT = 15;
export const IORING_OP_CONNECT = 16;
export const IORING_OP_CLOSE = 19;
export const IORING_OP_READ = 22;
export const IORING_OP_SEND = 26;
export const IORING_OP_RECV = 27;
export const IOSQE_IO_LINK = 1 << 2;
export const IOSQE_IO_HARDLINK = 1 << 3;
export const IOSQE_BUFFER_SELECT = 1 << 5;
export const IOSQE_CQE_SKIP_SUCCESS = 1 << 6;
export const IORING_ACCEPT_MULTISHOT = 1;
export const IORING_ASYNC_CANCEL_ALL = 1;
export const IORING_ASYNC_CANCEL_FD = 2;
export const IORING_CQE_F_BUFFER = 1;
export const IORING_CQE_F_MORE = 2;

const IORING_SETUP_CQSIZE = 1 << 3;
const IORING_SETUP_SUBMIT_ALL = 1 << 7;
const IORING_SETUP_COOP_TASKRUN = 1 << 8;
const IORING_SETUP_SINGLE_ISSUER = 1 << 12;
const IORING_SETUP_DEFER_TASKRUN = 1 << 13;
const IORING_FEAT_SINGLE_MMAP = 1;
const IORING_FEAT_NODROP = 2;
const IORING_FEAT_EXT_ARG = 1 << 8;
const IORING_ENTER_GETEVENTS = 1;
const IORING_ENTER_EXT_ARG = 8;
const IORING_REGISTER_PBUF_RING = 22;
const IORING_OFF_SQES = 0x10000000;
const ETIME = 62;
const EINTR = 4;
const EBUSY = 16;

/** A completion as the ring returns it; `user` and `user2` are the two halves of user_data. */
export type CompletionHandler = (user: number, user2: number, res: number, flags: number) => void;

/** One io_uring, created and used by a single thread. */
export class IoUring {
  readonly fd: number;
  readonly #libc: Libc;
  readonly #ring: Uint32Array;
  readonly #sqes: Uint32Array;
  readonly #sqHead: number;
  readonly #sqTail: number;
  readonly #sqMask: number;
  readonly #sqEntries: number;
  readonly #cqHead: number;
  readonly #cqTail: number;
  readonly #cqMask: number;
  readonly #cqes: number;
  /** The mapped memory, referenced for as long as the ring lives. */
  readonly mappings: readonly ArrayBuffer[];
  /** `struct io_uring_getevents_arg` and its timespec, for waits with a timeout. */
  readonly #wait: Uint32Array;
  readonly #waitAddress: number;
  #tail: number;
  #unsubmitted = 0;

  private constructor(libc: Libc, fd: number, params: DataView) {
    this.#libc = libc;
    this.fd = fd;
    const sqEntries = params.getUint32(0, true);
    const cqEntries = params.getUint32(4, true);
    const sq = (offset: number): number => params.getUint32(40 + offset, true);
    const cq = (offset: number): number => params.getUint32(80 + offset, true);
    const ringSize = Math.max(sq(24) + sqEntries * 4, cq(20) + cqEntries * 16);
    const ring = libc.map(ringSize, fd, 0);
    const sqes = libc.map(sqEntries * 64, fd, IORING_OFF_SQES);
    const wait = libc.map(4096, -1, 0);
    if (ring === undefined || sqes === undefined || wait === undefined)
      throw new Error(`Cannot map the io_uring: errno ${libc.errno()}`);
    this.mappings = [ring.memory, sqes.memory, wait.memory];
    this.#ring = new Uint32Array(ring.memory);
    this.#sqes = new Uint32Array(sqes.memory);
    this.#sqHead = sq(0) / 4;
    this.#sqTail = sq(4) / 4;
    this.#sqMask = this.#ring[sq(8) / 4] as number;
    this.#sqEntries = sqEntries;
    this.#cqHead = cq(0) / 4;
    this.#cqTail = cq(4) / 4;
    this.#cqMask = this.#ring[cq(8) / 4] as number;
    this.#cqes = cq(20) / 4;
    // The submission array maps ring slots to SQE indexes; slot i always holds SQE i.
    const array = sq(24) / 4;
    for (let i = 0; i < sqEntries; i++) this.#ring[array + i] = i;
    this.#tail = this.#ring[this.#sqTail] as number;
    this.#wait = new Uint32Array(wait.memory);
    this.#waitAddress = wait.address;
    // getevents_arg { sigmask = 0, sigmask_sz = 0, pad, ts = &timespec (at byte 32) }.
    const ts = wait.address + 32;
    this.#wait[4] = ts % 2 ** 32;
    this.#wait[5] = Math.floor(ts / 2 ** 32);
  }

  /**
   * Creates a ring with `entries` submission slots, or returns undefined when this kernel cannot
   * give the features the relay relies on (deferred task running, single issuer, no dropped
   * completions, waits with a timeout; Linux 6.1 and later) or io_uring is disabled.
   */
  static create(libc: Libc, entries: number, completions: number): IoUring | undefined {
    if (libc.uring === undefined) return undefined;
    const params = new Uint8Array(120);
    const view = new DataView(params.buffer);
    view.setUint32(4, completions, true);
    view.setUint32(
      8,
      IORING_SETUP_CQSIZE |
        IORING_SETUP_SUBMIT_ALL |
        IORING_SETUP_COOP_TASKRUN |
        IORING_SETUP_SINGLE_ISSUER |
        IORING_SETUP_DEFER_TASKRUN,
      true,
    );
    const fd = libc.uring.setup(entries, params);
    if (fd < 0) return undefined;
    const features = view.getUint32(20, true);
    const needed = IORING_FEAT_SINGLE_MMAP | IORING_FEAT_NODROP | IORING_FEAT_EXT_ARG;
    if ((features & needed) !== needed) {
      libc.close(fd);
      return undefined;
    }
    return new IoUring(libc, fd, view);
  }

  /**
   * Queues one request. `user`/`user2` come back with its completion; `address` is a native
   * address (a Number: addresses stay below 2^53).
   */
  push(
    op: number,
    flags: number,
    fd: number,
    address: number,
    length: number,
    opFlags: number,
    user: number,
    user2: number,
    offset = 0,
    ioprio = 0,
    bufferGroup = 0,
  ): void {
    if (this.#tail - (this.#ring[this.#sqHead] as number) >= this.#sqEntries) this.#submitOnly();
    const w = ((this.#tail & this.#sqMask) >>> 0) * 16;
    const s = this.#sqes;
    s[w] = op | (flags << 8) | (ioprio << 16);
    s[w + 1] = fd;
    // -1: "the current position" (for reads of an eventfd).
    s[w + 2] = offset < 0 ? 0xffffffff : offset % 2 ** 32;
    s[w + 3] = offset < 0 ? 0xffffffff : Math.floor(offset / 2 ** 32);
    s[w + 4] = address % 2 ** 32;
    s[w + 5] = Math.floor(address / 2 ** 32);
    s[w + 6] = length;
    s[w + 7] = opFlags;
    s[w + 8] = user;
    s[w + 9] = user2;
    s[w + 10] = bufferGroup;
    s[w + 11] = 0;
    s[w + 12] = 0;
    s[w + 13] = 0;
    s[w + 14] = 0;
    s[w + 15] = 0;
    this.#tail = (this.#tail + 1) >>> 0;
    this.#ring[this.#sqTail] = this.#tail;
    this.#unsubmitted++;
  }

  /** The submission queue is full: hand it to the kernel without waiting. */
  #submitOnly(): void {
    const libc = this.#libc;
    const n = this.#unsubmitted;
    this.#unsubmitted = 0;
    libc.uring?.enter(this.fd, n, 0, IORING_ENTER_GETEVENTS, 0, 0);
  }

  /**
   * Submits what was queued and waits until at least one completion is there, or `timeoutMs`
   * passed (-1: no limit, 0: do not wait); then hands every completion to `handler`.
   */
  run(timeoutMs: number, handler: CompletionHandler): void {
    const libc = this.#libc;
    const n = this.#unsubmitted;
    this.#unsubmitted = 0;
    const head = this.#ring[this.#cqHead] as number;
    const ready = head !== this.#ring[this.#cqTail];
    let flags = IORING_ENTER_GETEVENTS;
    let arg = 0;
    let argSize = 0;
    if (timeoutMs >= 0 && !ready) {
      flags |= IORING_ENTER_EXT_ARG;
      arg = this.#waitAddress;
      argSize = 24;
      // timespec { tv_sec (i64), tv_nsec (i64) } at byte 32.
      this.#wait[8] = Math.floor(timeoutMs / 1000);
      this.#wait[9] = 0;
      this.#wait[10] = (timeoutMs % 1000) * 1_000_000;
      this.#wait[11] = 0;
    }
    const result = libc.uring?.enter(this.fd, n, ready || timeoutMs === 0 ? 0 : 1, flags, arg, argSize) ?? -1;
    if (result < 0) {
      const errno = libc.errno();
      if (errno !== ETIME && errno !== EINTR && errno !== EBUSY)
        throw new Error(`io_uring_enter failed: errno ${errno}`);
    }
    this.drain(handler);
  }

  /** Hands every completion there is to `handler`. */
  drain(handler: CompletionHandler): void {
    const ring = this.#ring;
    let head = ring[this.#cqHead] as number;
    for (;;) {
      const tail = ring[this.#cqTail] as number;
      if (head === tail) break;
      while (head !== tail) {
        const e = this.#cqes + ((head & this.#cqMask) >>> 0) * 4;
        const user = ring[e] as number;
        const user2 = ring[e + 1] as number;
        const res = (ring[e + 2] as number) | 0;
        const flags = ring[e + 3] as number;
        head = (head + 1) >>> 0;
        // Free the slot before handling: the handler may queue requests that complete inline.
        ring[this.#cqHead] = head;
        handler(user, user2, res, flags);
      }
    }
  }

  /**
   * Registers a ring of `count` provided buffers of `size` bytes each (group `group`), or returns
   * undefined when the kernel refuses. Receives that select a buffer take one from it.
   */
  bufferRing(count: number, size: number, group: number): BufferRing | undefined {
    const libc = this.#libc;
    const ring = libc.map(count * 16, -1, 0);
    // Not populated: pages become resident as buffers are first used.
    const buffers = libc.map(count * size, -1, 0, false);
    const reg = libc.map(4096, -1, 0);
    if (ring === undefined || buffers === undefined || reg === undefined) return undefined;
    // io_uring_buf_reg { ring_addr u64, ring_entries u32, bgid u16, flags u16, resv[3] u64 }.
    const r = new Uint32Array(reg.memory);
    r[0] = ring.address % 2 ** 32;
    r[1] = Math.floor(ring.address / 2 ** 32);
    r[2] = count;
    r[3] = group;
    if ((libc.uring?.register(this.fd, IORING_REGISTER_PBUF_RING, reg.address, 1) ?? -1) < 0)
      return undefined;
    const buffer = new BufferRing(ring, buffers, count, size);
    for (let bid = 0; bid < count; bid++) buffer.give(bid);
    return buffer;
  }
}

/** Buffers the kernel picks from for receives (`IOSQE_BUFFER_SELECT`); returned after use. */
export class BufferRing {
  readonly size: number;
  readonly count: number;
  /** Every buffer, as JavaScript sees them (buffer `bid` starts at `bid * size`). */
  readonly bytes: Buffer;
  readonly #entries: Uint32Array;
  readonly #tail: Uint16Array;
  readonly #base: number;
  readonly #mask: number;
  #next = 0;
  /** The mapped memory, referenced for as long as the ring lives. */
  readonly mappings: readonly ArrayBuffer[];

  constructor(
    ring: { readonly memory: ArrayBuffer; readonly address: number },
    buffers: { readonly memory: ArrayBuffer; readonly address: number },
    count: number,
    size: number,
  ) {
    this.mappings = [ring.memory, buffers.memory];
    this.#entries = new Uint32Array(ring.memory);
    this.#tail = new Uint16Array(ring.memory);
    this.#base = buffers.address;
    this.bytes = Buffer.from(buffers.memory);
    this.size = size;
    this.count = count;
    this.#mask = count - 1;
  }

  /** The native address of buffer `bid`. */
  address(bid: number): number {
    return this.#base + bid * this.size;
  }

  /** Hands buffer `bid` (back) to the kernel. */
  give(bid: number): void {
    // io_uring_buf { addr u64, len u32, bid u16, resv u16 }; the ring's tail overlays entry 0's
    // resv, so the entry is written without touching it.
    const w = (this.#next & this.#mask) * 4;
    const address = this.#base + bid * this.size;
    this.#entries[w] = address % 2 ** 32;
    this.#entries[w + 1] = Math.floor(address / 2 ** 32);
    this.#entries[w + 2] = this.size;
    this.#tail[w * 2 + 6] = bid;
    this.#next = (this.#next + 1) & 0xffff;
    this.#tail[7] = this.#next;
  }
}
