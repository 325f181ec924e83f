import { getSystemErrorName } from "node:util";
import { ProxyError } from "../../../errors.ts";
import type { PickContext } from "../../../lb/scheduler.ts";
import type { Frontend } from "../frontends.ts";
import type { RelayEndpoint } from "../relay-endpoint.ts";
import type { ServiceBalancer, TrafficKind } from "../service-balancer.ts";
import { relayBindAddress } from "../tcp-relay.ts";
import {
  AF_INET,
  AF_INET6,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  IPV6_V6ONLY,
  SOCK_CLOEXEC,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_LINGER,
  SO_REUSEADDR,
  TCP_NODELAY,
  decodeSockaddr,
  encodeSockaddr,
  type Libc,
} from "./libc.ts";

// What both relay engines do the same way: listening sockets, what an accepted connection is
// (client, destination, traffic policy), choosing an endpoint, resets.

const one = new Uint8Array(new Int32Array([1]).buffer);
/** `struct linger { l_onoff = 1, l_linger = 0 }`: close sends a reset. */
const lingerReset = new Uint8Array(new Int32Array([1, 0]).buffer);

/**
 * Opens a listening socket for `frontend` (`flags`: e.g. SOCK_NONBLOCK); returns it and its port.
 * Throws KPROXY_LISTEN_FAILED naming the address and the error.
 */
export function openListener(libc: Libc, frontend: Frontend, flags: number): { fd: number; port: number } {
  const bind = relayBindAddress(frontend);
  const v6 = frontend.family === "IPv6";
  const fd = libc.socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
  const fail = (what: string, errno: number): never => {
    if (fd >= 0) libc.close(fd);
    throw new ProxyError(
      "KPROXY_LISTEN_FAILED",
      `${what} ${getSystemErrorName(-errno)}: cannot listen on ${bind.host}:${bind.port} for ${frontend.id}`,
    );
  };
  if (fd < 0) fail("socket", libc.errno());
  // As libuv does for Node's listeners: rebinding must not wait for old connections' TIME_WAIT.
  libc.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4);
  if (v6) libc.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, one, 4);
  // Accepted sockets inherit TCP_NODELAY from the listener: one system call per connection less.
  libc.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, one, 4);
  const address = encodeSockaddr(bind.host, bind.port);
  if (libc.bind(fd, address, address.length) !== 0) fail("listen", libc.errno());
  if (libc.listen(fd, 4096) !== 0) fail("listen", libc.errno());
  const name = new Uint8Array(28);
  libc.getsockname(fd, name, new Int32Array([28]));
  return { fd, port: decodeSockaddr(name).port };
}

/** Sets TCP_NODELAY on a socket the relay opened towards an endpoint. */
export function setNoDelay(libc: Libc, fd: number): void {
  libc.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, one, 4);
}

/** Makes the next close of `fd` send a reset instead of a FIN. */
export function lingerForReset(libc: Libc, fd: number): void {
  libc.setsockopt(fd, SOL_SOCKET, SO_LINGER, lingerReset, 8);
}

/** Closes `fd` with a reset. */
export function reset(libc: Libc, fd: number): void {
  lingerForReset(libc, fd);
  libc.close(fd);
}

/** A listener as the accept path sees it. */
export interface AcceptingListener {
  readonly frontend: Frontend;
  readonly balancer: ServiceBalancer;
  readonly allowed: ((ip: string) => boolean) | undefined;
}

/** What a new connection is balanced by: the client, the address it used, its traffic policy. */
export interface Admission {
  readonly pick: PickContext;
  readonly traffic: TrafficKind;
}

/**
 * Looks at a connection just accepted on `listener`: undefined when its source range turns it
 * away (counted, and the connection reset). `peer` is the accepted address if the caller has it;
 * otherwise it is asked for only when something needs it (source ranges, affinity, hashing
 * schedulers, externalTrafficPolicy Local): turning it into text costs more than the accept.
 */
export function admit(
  libc: Libc,
  fd: number,
  listener: AcceptingListener,
  options: {
    readonly peer: Uint8Array | undefined;
    readonly internalSource: (ip: string) => boolean;
    readonly dropped: (servicePortKey: string, reason: "source_range") => void;
  },
): Admission | undefined {
  const { balancer, frontend, allowed } = listener;
  let clientIP = "";
  let clientPort = 0;
  if (
    allowed !== undefined ||
    balancer.needsClientAddress ||
    (frontend.external && balancer.service.externalPolicyLocal)
  ) {
    let raw = options.peer;
    if (raw === undefined) {
      raw = new Uint8Array(28);
      libc.getpeername(fd, raw, new Int32Array([28]));
    }
    const peer = decodeSockaddr(raw);
    clientIP = peer.address;
    clientPort = peer.port;
  }
  if (allowed !== undefined && !allowed(clientIP)) {
    options.dropped(balancer.servicePortKey, "source_range");
    reset(libc, fd);
    return undefined;
  }
  let destinationIP = frontend.address;
  if (frontend.kind === "nodePort") {
    const name = new Uint8Array(28);
    if (libc.getsockname(fd, name, new Int32Array([28])) === 0) destinationIP = decodeSockaddr(name).address;
  }
  const traffic: TrafficKind = !frontend.external
    ? "internal"
    : options.internalSource(clientIP)
      ? "cluster"
      : "external";
  return { pick: { clientIP, clientPort, destinationIP }, traffic };
}

/**
 * The endpoint for a connection's next attempt: not one that already failed for it, unless every
 * endpoint did (then any again). Undefined when there is none at all.
 */
export function chooseEndpoint(
  balancer: ServiceBalancer,
  admission: Admission,
  tried: Set<RelayEndpoint> | undefined,
): RelayEndpoint | undefined {
  let endpoint = balancer.pick(admission.pick, admission.traffic, tried);
  if (endpoint === undefined && tried !== undefined && tried.size > 0) {
    tried.clear();
    endpoint = balancer.pick(admission.pick, admission.traffic, tried);
  }
  return endpoint;
}

/** Endpoint addresses as the kernel takes them, made once per endpoint. */
export class EndpointAddresses {
  readonly #cache = new WeakMap<RelayEndpoint, Uint8Array>();

  get(endpoint: RelayEndpoint): Uint8Array {
    let address = this.#cache.get(endpoint);
    if (address === undefined)
      this.#cache.set(endpoint, (address = encodeSockaddr(endpoint.ip, endpoint.port)));
    return address;
  }
}
