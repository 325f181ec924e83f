import { closeSync, openSync } from "node:fs";

/** What one batch got back from the kernel. */
export interface BatchReply {
  readonly acks: number;
  readonly errors: readonly { readonly seq: number; readonly errno: number }[];
}

/** A NETLINK_NETFILTER socket that sends nf_tables batches. */
export interface NetfilterSocket {
  /** Sends a batch and collects the replies (the kernel handles a batch within the send call). */
  transact(batch: Buffer): BatchReply;
  close(): void;
}

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0x80000;
const NETLINK_NETFILTER = 12;
const SOL_SOCKET = 1;
const SO_SNDBUFFORCE = 32;
const SO_RCVBUFFORCE = 33;
const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;
const MSG_DONTWAIT = 0x40;
const CLONE_NEWNET = 0x40000000;
const NLMSG_ERROR = 2;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrlen: number): number;
  recv(fd: number, buf: Buffer, len: number, flags: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  close(fd: number): number;
  setns(fd: number, nstype: number): number;
  errno(): number;
}

let libc: Libc | null | undefined;

/**
 * libc through `koffi` (an FFI package with prebuilt binaries), loaded on first use. Null when
 * koffi is not installed or cannot load: callers then use `nft -f`.
 */
async function loadLibc(): Promise<Libc | null> {
  if (libc !== undefined) return libc;
  try {
    // A computed name, so that koffi stays optional (no type or install dependency).
    const name = "koffi";
    const mod = (await import(name)) as { default?: unknown };
    const koffi = (mod.default ?? mod) as {
      load(path: string): { func(signature: string): (...args: unknown[]) => number };
      errno(): number;
    };
    const lib = koffi.load("libc.so.6");
    const f = (sig: string): ((...args: unknown[]) => number) => lib.func(sig);
    const socket = f("int socket(int, int, int)");
    const sendto = f("long sendto(int, const void *, size_t, int, const void *, uint32_t)");
    const recv = f("long recv(int, _Out_ void *, size_t, int)");
    const setsockopt = f("int setsockopt(int, int, int, const void *, uint32_t)");
    const close = f("int close(int)");
    const setns = f("int setns(int, int)");
    libc = {
      socket: (...a) => socket(...a),
      sendto: (...a) => sendto(...a),
      recv: (...a) => recv(...a),
      setsockopt: (...a) => setsockopt(...a),
      close: (...a) => close(...a),
      setns: (...a) => setns(...a),
      errno: () => koffi.errno(),
    };
  } catch {
    libc = null;
  }
  return libc;
}

/**
 * Opens a netfilter netlink socket, inside the network namespace `netnsPath` (e.g.
 * `/run/netns/NAME`) when given: the calling thread enters it only while the socket is created,
 * and the socket stays bound to it. Returns undefined when FFI is not available.
 */
export async function openNetfilterSocket(
  options: { netnsPath?: string } = {},
): Promise<NetfilterSocket | undefined> {
  const c = await loadLibc();
  if (c === null) return undefined;
  let fd: number;
  if (options.netnsPath === undefined) fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  else {
    const home = openSync("/proc/thread-self/ns/net", "r");
    const target = openSync(options.netnsPath, "r");
    const entered = c.setns(target, CLONE_NEWNET) === 0;
    const enterErrno = c.errno();
    fd = entered ? c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER) : -1;
    const returned = !entered || c.setns(home, CLONE_NEWNET) === 0;
    closeSync(target);
    closeSync(home);
    // Staying in the other namespace would move every later socket of this thread there.
    if (!returned) throw new Error(`Cannot return to this process's network namespace: errno ${c.errno()}`);
    if (!entered) throw new Error(`Cannot enter network namespace ${options.netnsPath}: errno ${enterErrno}`);
  }
  if (fd < 0) throw new Error(`socket(AF_NETLINK, NETLINK_NETFILTER) failed: errno ${c.errno()}`);
  const int = (v: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v, 0);
    return b;
  };
  // Acknowledgements carry only the original header, not the whole message.
  c.setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, int(1), 4);
  c.setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, int(1), 4);
  const kernel = Buffer.alloc(12);
  kernel.writeUInt16LE(AF_NETLINK, 0);
  const buf = Buffer.alloc(1 << 20);
  return {
    transact(batch) {
      // Room for the batch and one acknowledgement (about 36 bytes) per message.
      c.setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, int(Math.max(batch.length * 2, 1 << 20)), 4);
      c.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, int(Math.max(batch.length * 2, 1 << 22)), 4);
      const sent = c.sendto(fd, batch, batch.length, 0, kernel, kernel.length);
      if (sent !== batch.length)
        throw new Error(`sendto(netlink) sent ${sent} of ${batch.length} bytes: errno ${c.errno()}`);
      let acks = 0;
      const errors: { seq: number; errno: number }[] = [];
      for (;;) {
        const n = c.recv(fd, buf, buf.length, MSG_DONTWAIT);
        if (n <= 0) break;
        for (let off = 0; off + 16 <= n;) {
          const len = buf.readUInt32LE(off);
          const type = buf.readUInt16LE(off + 4);
          if (len < 16) break;
          if (type === NLMSG_ERROR) {
            const err = buf.readInt32LE(off + 16);
            const seq = buf.readUInt32LE(off + 20 + 8);
            if (err === 0) acks++;
            else errors.push({ seq, errno: -err });
          }
          off += (len + 3) & ~3;
        }
      }
      return { acks, errors };
    },
    close() {
      c.close(fd);
    },
  };
}
