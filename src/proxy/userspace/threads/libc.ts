import type * as Koffi from "koffi";
import { ipToBigInt, bigIntToIP } from "../../../model/ip.ts";

/**
 * The few libc calls the epoll relay makes, through `koffi` (an FFI package with prebuilt
 * binaries, already a dependency of the nftables mode). Each call costs about 60 ns on top of the
 * system call, against several microseconds for a callback from libuv into JavaScript, which is
 * what the relay saves. Linux on x86-64 and arm64 only (the constants below are theirs).
 */
export interface Libc {
  epollCreate(): number;
  /** `epoll_ctl(ADD)`; the event's 64-bit `data` carries `fd` (low half) and `token` (high half). */
  epollAdd(epfd: number, fd: number, events: number, token: number): number;
  epollWait(epfd: number, events: Uint8Array, max: number, timeoutMs: number): number;
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, address: Uint8Array, length: number): number;
  listen(fd: number, backlog: number): number;
  accept(fd: number, address: Uint8Array | null, length: Int32Array | null, flags: number): number;
  connect(fd: number, address: Uint8Array, length: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, length: number): number;
  getsockname(fd: number, address: Uint8Array, length: Int32Array): number;
  /** For the eventfd. */
  read(fd: number, buffer: Uint8Array, length: number): number;
  /** Sockets: recv/send skip the file layer that read/write go through. */
  recv(fd: number, buffer: Uint8Array, length: number): number;
  send(fd: number, buffer: Uint8Array, length: number): number;
  write(fd: number, buffer: Uint8Array, length: number): number;
  shutdown(fd: number, how: number): number;
  close(fd: number): number;
  eventfd(initial: number, flags: number): number;
  getpeername(fd: number, address: Uint8Array, length: Int32Array): number;
  /** io_uring (x86-64 only; undefined elsewhere): setup, enter and register system calls. */
  readonly uring:
    | {
        setup(entries: number, params: Uint8Array): number;
        enter(fd: number, submit: number, wait: number, flags: number, arg: number, argSize: number): number;
        register(fd: number, opcode: number, arg: number, count: number): number;
      }
    | undefined;
  /**
   * Maps `length` bytes (anonymous memory when `fd` is -1): the memory, seen from JavaScript, and
   * its address for the kernel. Undefined when mmap failed.
   */
  map(
    length: number,
    fd: number,
    offset: number,
    populate?: boolean,
  ): { readonly memory: ArrayBuffer; readonly address: number } | undefined;
  /** errno of the last failed call on this thread. */
  errno(): number;
}

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_LINGER = 13;
export const SO_REUSEPORT = 15;
export const IPPROTO_TCP = 6;
export const TCP_NODELAY = 1;
export const IPPROTO_IPV6 = 41;
export const IPV6_V6ONLY = 26;
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const MSG_NOSIGNAL = 0x4000;
export const EPOLLIN = 0x1;
export const EPOLLOUT = 0x4;
export const EPOLLERR = 0x8;
export const EPOLLHUP = 0x10;
export const EPOLLRDHUP = 0x2000;
export const EPOLLET = 0x80000000;
export const EAGAIN = 11;
export const EINTR = 4;
export const EINPROGRESS = 115;
export const EMFILE = 24;
export const ENFILE = 23;
export const EFD_NONBLOCK = 0o4000;
export const EFD_CLOEXEC = 0o2000000;

/**
 * `struct epoll_event` layout: packed (12 bytes, data at offset 4) on x86-64, naturally aligned
 * (16 bytes, data at offset 8) elsewhere. Both offsets are multiples of 4, so a Uint32Array view
 * reads events and the fd stored in `data` directly.
 */
export const epollEventSize = process.arch === "x64" ? 12 : 16;
export const epollDataOffset = process.arch === "x64" ? 4 : 8;

type KoffiModule = typeof Koffi;

let loaded: Libc | null | undefined;

/**
 * libc through koffi, loaded on first use; null when koffi or libc cannot be loaded or the
 * platform is not Linux on x86-64/arm64 (the proxier then relays on Node's own handles).
 */
export async function loadLibc(): Promise<Libc | null> {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.platform !== "linux" || (process.arch !== "x64" && process.arch !== "arm64")) return null;
  try {
    const mod = (await import("koffi")) as KoffiModule & { default?: KoffiModule };
    const koffi = mod.default ?? mod;
    const lib = koffi.load("libc.so.6");
    const f = (signature: string): ((...args: unknown[]) => number) =>
      lib.func(signature) as (...args: unknown[]) => number;
    const epollCreate1 = f("int epoll_create1(int)");
    const epollCtl = f("int epoll_ctl(int, int, int, void *)");
    const epollWait = f("int epoll_wait(int, void *, int, int)");
    const socket = f("int socket(int, int, int)");
    const bind = f("int bind(int, void *, uint32_t)");
    const listen = f("int listen(int, int)");
    const accept4 = f("int accept4(int, void *, void *, int)");
    const connect = f("int connect(int, void *, uint32_t)");
    const setsockopt = f("int setsockopt(int, int, int, void *, uint32_t)");
    const getsockname = f("int getsockname(int, void *, void *)");
    // Declared with int results and lengths (reads and writes are at most 128 KiB): koffi then
    // converts plain 32-bit numbers, measurably cheaper than 64-bit ones on this hot path.
    const read = f("int read(int, void *, int)");
    const recv = f("int recv(int, void *, int, int)");
    const send = f("int send(int, void *, int, int)");
    const shutdown = f("int shutdown(int, int)");
    const close = f("int close(int)");
    const eventfd = f("int eventfd(unsigned int, int)");
    const write = f("int write(int, void *, int)");
    const getpeername = f("int getpeername(int, void *, void *)");
    const mmap = f("void *mmap(void *, size_t, int, int, int, long)");
    // syscall(2) is variadic in C; glibc's x86-64 implementation only moves registers, so a fixed
    // prototype with every argument as a 64-bit integer calls it correctly (and much faster).
    const x64 = process.arch === "x64";
    const syscall = x64 ? f("long syscall(long, long, long, long, long, long, long)") : undefined;
    const syscallPointer = x64 ? f("long syscall(long, long, void *, long, long, long, long)") : undefined;
    const event = new Uint8Array(epollEventSize);
    const event32 = new Uint32Array(event.buffer);
    loaded = {
      epollCreate: () => epollCreate1(SOCK_CLOEXEC),
      epollAdd(epfd, fd, events, token) {
        event32[0] = events >>> 0;
        event32[epollDataOffset / 4] = fd;
        event32[epollDataOffset / 4 + 1] = token;
        return epollCtl(epfd, 1, fd, event);
      },
      epollWait: (epfd, events, max, timeoutMs) => epollWait(epfd, events, max, timeoutMs),
      socket: (d, t, p) => socket(d, t, p),
      bind: (fd, a, l) => bind(fd, a, l),
      listen: (fd, b) => listen(fd, b),
      accept: (fd, a, l, flags) => accept4(fd, a, l, flags),
      connect: (fd, a, l) => connect(fd, a, l),
      setsockopt: (fd, level, name, v, l) => setsockopt(fd, level, name, v, l),
      getsockname: (fd, a, l) => getsockname(fd, a, l),
      read: (fd, b, l) => read(fd, b, l),
      recv: (fd, b, l) => recv(fd, b, l, 0),
      // MSG_NOSIGNAL: a peer that reset must not raise SIGPIPE, whatever the process's handler.
      send: (fd, b, l) => send(fd, b, l, MSG_NOSIGNAL),
      write: (fd, b, l) => write(fd, b, l),
      getpeername: (fd, a, l) => getpeername(fd, a, l),
      uring:
        syscall === undefined || syscallPointer === undefined
          ? undefined
          : {
              setup: (entries, params) => syscallPointer(425, entries, params, 0, 0, 0, 0),
              enter: (fd, submit, wait, flags, arg, argSize) =>
                syscall(426, fd, submit, wait, flags, arg, argSize),
              register: (fd, opcode, arg, count) => syscall(427, fd, opcode, arg, count, 0, 0),
            },
      map(length, fd, offset, populate = true) {
        // PROT_READ|PROT_WRITE; MAP_SHARED for an fd, MAP_PRIVATE|MAP_ANONYMOUS otherwise; MAP_POPULATE.
        const flags = (fd < 0 ? 0x22 : 0x01) | (populate ? 0x8000 : 0);
        const pointer = mmap(null, length, 3, flags, fd, offset) as unknown;
        const raw = pointer === null ? 0n : koffi.address(pointer);
        // MAP_FAILED is (void *)-1.
        if (raw === 0n || raw === 0xffffffffffffffffn) return undefined;
        return { memory: koffi.view(pointer, length), address: Number(raw) };
      },
      shutdown: (fd, how) => shutdown(fd, how),
      close: (fd) => close(fd),
      eventfd: (v, flags) => eventfd(v, flags),
      errno: () => koffi.errno(),
    };
  } catch {
    loaded = null;
  }
  return loaded;
}

/** A `sockaddr_in`/`sockaddr_in6` for `ip`:`port` (16 or 28 bytes). */
export function encodeSockaddr(ip: string, port: number): Uint8Array {
  const v6 = ip.includes(":");
  const out = new Uint8Array(v6 ? 28 : 16);
  const view = new DataView(out.buffer);
  view.setUint16(0, v6 ? AF_INET6 : AF_INET, true);
  view.setUint16(2, port, false);
  let value = ipToBigInt(ip);
  const start = v6 ? 8 : 4;
  const length = v6 ? 16 : 4;
  for (let i = length - 1; i >= 0; i--) {
    out[start + i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}

/** The address and port of a `sockaddr_in`/`sockaddr_in6` (IPv6 in RFC 5952 form). */
export function decodeSockaddr(raw: Uint8Array): { address: string; port: number } {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const port = view.getUint16(2, false);
  if (view.getUint16(0, true) === AF_INET)
    return { address: `${raw[4]}.${raw[5]}.${raw[6]}.${raw[7]}`, port };
  let value = 0n;
  for (let i = 8; i < 24; i++) value = (value << 8n) | BigInt(raw[i] ?? 0);
  // An IPv4-mapped address is written as Node writes it, so that source ranges and affinity match.
  if (value >> 32n === 0xffffn) {
    const v4 = Number(value & 0xffffffffn);
    return { address: `::ffff:${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`, port };
  }
  return { address: bigIntToIP(value, "IPv6"), port };
}
