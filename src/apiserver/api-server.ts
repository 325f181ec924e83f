import { chmodSync, lstatSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { ProxyError, UsageError, errorMessage } from "../errors.ts";
import type { Logger } from "../sys/logger.ts";
import { EndpointSliceController } from "./controllers/endpoint-slice-controller.ts";
import { ServiceAllocator } from "./controllers/service-allocator.ts";
import { createRequestHandler } from "./http/request-handler.ts";
import { loadTokenFile } from "./http/token-auth.ts";
import { hostPort, isLoopback, parseListenAddress } from "./listen-address.ts";
import type { ResourceStrategy } from "./registry/resource-strategy.ts";
import { builtinStrategies } from "./registry/strategies.ts";
import { ResourceRegistry } from "./rest/resource-registry.ts";
import { ObjectStore } from "./store/object-store.ts";
import { SqliteStore } from "./store/sqlite-store.ts";

/** How to run the embedded API server. */
export interface ApiServerOptions {
  /** `host:port`, e.g. "127.0.0.1:6443"; port 0 picks a free port. */
  listen: string;
  /** Also serve on this Unix socket (mode 0600; no token needed there). */
  socketPath?: string;
  /** SQLite data directory; "" keeps the store in memory. */
  dataDir: string;
  /** e.g. "10.96.0.0/12", or one CIDR per family separated by a comma. */
  serviceClusterIPRange: string;
  /** e.g. "30000-32767". */
  serviceNodePortRange: string;
  /** "" = no LoadBalancer IP allocation. */
  loadBalancerIPRange: string;
  tokenFile?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  logger: Logger;
  /** Resource strategies to serve (default: the registry's built-in ones). */
  strategies?: readonly ResourceStrategy[];
  /** How often a watch that allows bookmarks gets one (default 15 s). */
  bookmarkIntervalMs?: number;
  /** Events kept per resource for watches that resume (default 20,000). */
  watchCacheSize?: number;
}

/** A running embedded API server. */
export interface ApiServer {
  readonly url: string;
  readonly socketPath: string | undefined;
  close(): Promise<void>;
}

/** Removes a socket left by a server that did not stop cleanly; refuses to remove anything else. */
function removeStaleSocket(path: string): void {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket) {
    throw new UsageError(
      `Cannot serve on the Unix socket ${path}: a file that is not a socket is in the way`,
    );
  }
  rmSync(path, { force: true });
}

/** Namespaces every cluster starts with. */
const initialNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"];

async function listen(
  server: Server,
  target: { host: string; port: number } | { path: string },
): Promise<void> {
  const where = "path" in target ? target.path : hostPort(target.host, target.port);
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error): void =>
      reject(
        new ProxyError("KPROXY_LISTEN_FAILED", `Cannot listen on ${where}: ${err.message}`, { cause: err }),
      );
    server.once("error", fail);
    const done = (): void => {
      server.off("error", fail);
      resolve();
    };
    if ("path" in target) server.listen(target.path, done);
    else server.listen(target.port, target.host, done);
  });
}

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    // Watches are long-lived: end them rather than wait for their timeouts.
    server.closeAllConnections();
  });
}

/**
 * Starts the embedded Kubernetes-compatible API server: the store (SQLite in `dataDir`), Service
 * allocation, the EndpointSlice controller, and HTTP(S) on `listen` plus, optionally, a Unix
 * socket. Listening beyond loopback requires `tokenFile` (bearer tokens).
 */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { logger } = options;
  const address = parseListenAddress(options.listen);
  if (!isLoopback(address.host) && options.tokenFile === undefined) {
    throw new UsageError(
      `Cannot listen on ${options.listen} without --token-file: beyond loopback the API server needs bearer tokens; listen on 127.0.0.1 or pass a token file`,
    );
  }
  if ((options.tlsCertFile === undefined) !== (options.tlsKeyFile === undefined)) {
    throw new UsageError(
      "Cannot serve TLS with only one of --tls-cert-file and --tls-private-key-file: pass both",
    );
  }
  const tokens = options.tokenFile === undefined ? undefined : loadTokenFile(options.tokenFile);
  let tls: { cert: Buffer; key: Buffer } | undefined;
  if (options.tlsCertFile !== undefined && options.tlsKeyFile !== undefined) {
    try {
      tls = { cert: readFileSync(options.tlsCertFile), key: readFileSync(options.tlsKeyFile) };
    } catch (err) {
      throw new UsageError(`Cannot read the TLS certificate or key: ${errorMessage(err)}`);
    }
  }
  const allocator = new ServiceAllocator(options);
  const db = SqliteStore.open(options.dataDir);
  const store = new ObjectStore(db, {
    logger,
    ...(options.watchCacheSize ? { ringSize: options.watchCacheSize } : {}),
  });
  const registry = new ResourceRegistry({
    store,
    strategies: options.strategies ?? builtinStrategies(),
    allocator,
    logger,
  });
  const servers: Server[] = [];
  let controller: EndpointSliceController | undefined;
  try {
    registry.restore();
    const namespaces = registry.strategy("", "namespaces");
    for (const name of initialNamespaces) {
      if (namespaces !== undefined && store.get("/namespaces", "", name) === undefined) {
        await registry.create(namespaces, "", {
          metadata: { name },
          spec: { finalizers: ["kubernetes"] },
          status: { phase: "Active" },
        });
      }
    }
    controller = new EndpointSliceController({ registry, logger });
    controller.start();

    let url = "";
    const bookmarkIntervalMs = options.bookmarkIntervalMs ?? 15_000;
    const tcpHandler = createRequestHandler({
      registry,
      logger,
      tokens,
      serverAddress: () => url.replace(/^https?:\/\//, ""),
      bookmarkIntervalMs,
    });
    const tcp = tls
      ? createHttpsServer({ cert: tls.cert, key: tls.key }, tcpHandler)
      : createHttpServer(tcpHandler);
    servers.push(tcp);
    await listen(tcp, address);
    const port = (tcp.address() as AddressInfo).port;
    // Listening on every address: clients on this machine reach it through loopback.
    const reachable = address.host === "0.0.0.0" ? "127.0.0.1" : address.host === "::" ? "::1" : address.host;
    url = `${tls ? "https" : "http"}://${hostPort(reachable, port)}`;
    if (options.socketPath !== undefined) {
      removeStaleSocket(options.socketPath);
      const unix = createHttpServer(
        createRequestHandler({
          registry,
          logger,
          tokens: undefined,
          serverAddress: () => url.replace(/^https?:\/\//, ""),
          bookmarkIntervalMs,
        }),
      );
      servers.push(unix);
      await listen(unix, { path: options.socketPath });
      chmodSync(options.socketPath, 0o600);
    }
    logger.info(
      { url, socketPath: options.socketPath, dataDir: options.dataDir || "(memory)" },
      "API server listening",
    );
    let closed: Promise<void> | undefined;
    return {
      url,
      socketPath: options.socketPath,
      close() {
        closed ??= (async () => {
          controller?.stop();
          await Promise.all(servers.map(closeServer));
          if (options.socketPath !== undefined) rmSync(options.socketPath, { force: true });
          registry.close();
          store.close();
        })();
        return closed;
      },
    };
  } catch (err) {
    controller?.stop();
    await Promise.all(servers.map(closeServer));
    registry.close();
    store.close();
    throw err;
  }
}
