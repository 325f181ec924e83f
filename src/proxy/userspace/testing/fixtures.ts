// Test fixtures for the userspace relays: API objects, backends on loopback, and clients.
import type { KubernetesObject } from "@kubernetes/client-node";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { connect, createServer, type Server, type Socket } from "node:net";
import { Registry } from "prom-client";
import { defaultProxyConfig } from "../../../config/defaults.ts";
import type { ProxyConfig } from "../../../config/proxy-config.ts";
import type { NodeInfo } from "../../../model/node-info.ts";
import { proxyStateFromObjects } from "../../../model/proxy-state-from-objects.ts";
import type { Clock } from "../../../sys/clock.ts";
import { silentLogger } from "../../../sys/logger.ts";
import type { Executor } from "../../../sys/executor.ts";
import type { ProxierDeps, SyncRequest } from "../../proxier.ts";

export const testNode: NodeInfo = {
  name: "node-a",
  labels: {},
  nodeIPs: ["127.0.0.1"],
  podCIDRs: [],
  localAddresses: ["127.0.0.1/8"],
  deleting: false,
};

/** A random 127.x.y.z address in a /16 reserved for one test file, so parallel files never collide. */
export function loopbackAddress(second: number, n: number): string {
  return `127.${second}.${(n >> 8) & 255}.${n & 255}`;
}

export interface ServiceSpec {
  name: string;
  clusterIP: string;
  port: number;
  protocol?: "TCP" | "UDP" | "SCTP";
  type?: "ClusterIP" | "NodePort" | "LoadBalancer";
  nodePort?: number;
  externalIPs?: string[];
  loadBalancerIP?: string;
  loadBalancerSourceRanges?: string[];
  externalTrafficPolicy?: "Local" | "Cluster";
  internalTrafficPolicy?: "Local" | "Cluster";
  affinitySeconds?: number;
  scheduler?: string;
}

export function service(spec: ServiceSpec): KubernetesObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      namespace: "default",
      name: spec.name,
      ...(spec.scheduler ? { annotations: { "kproxy.io/scheduler": spec.scheduler } } : {}),
    },
    spec: {
      type: spec.type ?? "ClusterIP",
      clusterIP: spec.clusterIP,
      clusterIPs: [spec.clusterIP],
      ports: [
        {
          port: spec.port,
          protocol: spec.protocol ?? "TCP",
          targetPort: 80,
          ...(spec.nodePort ? { nodePort: spec.nodePort } : {}),
        },
      ],
      ...(spec.externalIPs ? { externalIPs: spec.externalIPs } : {}),
      ...(spec.loadBalancerSourceRanges ? { loadBalancerSourceRanges: spec.loadBalancerSourceRanges } : {}),
      ...(spec.externalTrafficPolicy ? { externalTrafficPolicy: spec.externalTrafficPolicy } : {}),
      ...(spec.internalTrafficPolicy ? { internalTrafficPolicy: spec.internalTrafficPolicy } : {}),
      ...(spec.affinitySeconds
        ? {
            sessionAffinity: "ClientIP",
            sessionAffinityConfig: { clientIP: { timeoutSeconds: spec.affinitySeconds } },
          }
        : {}),
    },
    ...(spec.loadBalancerIP ? { status: { loadBalancer: { ingress: [{ ip: spec.loadBalancerIP }] } } } : {}),
  } as KubernetesObject;
}

export interface EndpointSpec {
  ip: string;
  port: number;
  nodeName?: string;
  ready?: boolean;
}

/** One EndpointSlice per endpoint (each backend listens on its own port). */
export function endpointSlices(
  serviceName: string,
  endpoints: readonly EndpointSpec[],
  protocol: "TCP" | "UDP" = "TCP",
): KubernetesObject[] {
  const addressType = endpoints[0]?.ip.includes(":") ? "IPv6" : "IPv4";
  return endpoints.map(
    (ep, i) =>
      ({
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: {
          namespace: "default",
          name: `${serviceName}-${i}`,
          labels: { "kubernetes.io/service-name": serviceName },
        },
        addressType,
        ports: [{ port: ep.port, protocol }],
        endpoints: [
          {
            addresses: [ep.ip],
            conditions: { ready: ep.ready ?? true },
            nodeName: ep.nodeName ?? "node-a",
          },
        ],
      }) as KubernetesObject,
  );
}

/** A full-sync request for these objects (IPv4, node `testNode`). */
export function syncRequest(
  objects: readonly KubernetesObject[],
  options: { full?: boolean; changed?: readonly string[]; node?: NodeInfo; family?: "IPv4" | "IPv6" } = {},
): SyncRequest {
  const { state } = proxyStateFromObjects(objects, {
    family: options.family ?? "IPv4",
    node: options.node ?? testNode,
  });
  return {
    states: [state],
    full: options.full ?? true,
    changedServices: new Set(options.changed ?? []),
  };
}

/** A clock whose time can be moved forward (timers stay real). */
export function adjustableClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    setTimeout(fn, ms) {
      const t = setTimeout(fn, ms);
      return { cancel: () => clearTimeout(t) };
    },
    advance(ms) {
      offset += ms;
    },
  };
}

const failingExecutor: Executor = {
  run: () => Promise.reject(new Error("no commands in unit tests")),
};

export function testDeps(
  overrides: { config?: Partial<ProxyConfig>; clock?: Clock; executor?: Executor } = {},
): ProxierDeps & {
  registry: Registry;
} {
  const registry = new Registry();
  return {
    config: { ...defaultProxyConfig, mode: "userspace", ...overrides.config },
    executor: overrides.executor ?? failingExecutor,
    logger: silentLogger(),
    metrics: registry,
    registry,
    clock: overrides.clock ?? adjustableClock(),
  };
}

/** A TCP backend that writes its name to every connection, then echoes what it reads. */
export interface TcpBackend {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

export async function startTcpBackend(name: string, ip: string, listenPort = 0): Promise<TcpBackend> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.write(`${name}\n`);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listenPort, ip, resolve);
  });
  const port = (server.address() as { port: number }).port;
  return {
    name,
    ip,
    port,
    server,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A UDP backend that answers every datagram with `name:<datagram>`. */
export async function startUdpBackend(
  name: string,
  ip: string,
): Promise<{ name: string; ip: string; port: number; close(): Promise<void> }> {
  const socket = createSocket(ip.includes(":") ? "udp6" : "udp4");
  socket.on("message", (msg, rinfo) => socket.send(`${name}:${msg.toString()}`, rinfo.port, rinfo.address));
  await new Promise<void>((resolve) => socket.bind(0, ip, resolve));
  return {
    name,
    ip,
    port: socket.address().port,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** Connects, reads the first line (the backend's name) and closes. */
export function fetchName(ip: string, port: number, localAddress?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: ip, port, ...(localAddress ? { localAddress } : {}) });
    socket.setTimeout(5000, () => socket.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      data += chunk;
      const nl = data.indexOf("\n");
      if (nl >= 0) {
        socket.destroy();
        resolve(data.slice(0, nl));
      }
    });
    socket.on("error", reject);
    socket.on("close", () => reject(new Error(`closed before a name arrived (got ${JSON.stringify(data)})`)));
  });
}

/** Sends one datagram from a fresh socket and waits for the answer. */
export function udpRequest(ip: string, port: number, payload: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: UdpSocket = createSocket(ip.includes(":") ? "udp6" : "udp4");
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no UDP answer from ${ip}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("message", (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(msg.toString());
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      socket.close();
      reject(err);
    });
    // Connected, as resolvers such as dig are: the kernel drops an answer from any other source
    // (say, a relay's reply that conntrack could not map back to the Service address).
    socket.connect(port, ip, () => socket.send(payload));
  });
}
