import { createServer, type Server, type ServerResponse } from "node:http";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../sys/logger.ts";
import { closeHttp, listenHttp } from "./listen-http.ts";

interface Instance {
  readonly port: number;
  readonly servers: Server[];
  localEndpoints: number;
}

/**
 * The per-Service health check servers (upstream `ServiceHealthServer`): one HTTP listener per
 * `healthCheckNodePort` of a LoadBalancer Service with `externalTrafficPolicy: Local`, answering
 * 200 while this node has local endpoints for the Service and the proxy is healthy, else 503, so
 * that the load balancer only sends traffic to nodes that can serve it. Mode-independent: the
 * runtime updates it after every sync.
 */
export class ServiceHealthServer {
  readonly #hosts: readonly string[];
  readonly #logger: Logger;
  readonly #proxyHealthy: () => boolean;
  readonly #services = new Map<string, Instance>();

  constructor(options: {
    /** Addresses to listen on (default all: `0.0.0.0`), e.g. the node IPs matching nodePortAddresses. */
    readonly hosts?: readonly string[];
    readonly logger: Logger;
    readonly proxyHealthy: () => boolean;
  }) {
    this.#hosts = options.hosts && options.hosts.length > 0 ? options.hosts : ["0.0.0.0"];
    this.#logger = options.logger;
    this.#proxyHealthy = options.proxyHealthy;
  }

  /**
   * Makes exactly `services` (Service `namespace/name` → health check port) served: closes the
   * listeners of Services gone or moved, opens new ones. A port that cannot be opened is logged and
   * retried on the next call.
   */
  async syncServices(services: ReadonlyMap<string, number>): Promise<void> {
    for (const [key, instance] of [...this.#services]) {
      if (services.get(key) !== instance.port) {
        this.#logger.debug({ service: key, port: instance.port }, "closing service health check");
        this.#services.delete(key);
        await Promise.all(instance.servers.map(closeHttp));
      }
    }
    for (const [key, port] of services) {
      if (this.#services.has(key)) continue;
      const servers: Server[] = [];
      try {
        for (const host of this.#hosts) {
          const server = createServer((req, res) => this.#answer(key, res));
          servers.push(server);
          await listenHttp(server, host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);
        }
        this.#services.set(key, { port, servers, localEndpoints: 0 });
        this.#logger.debug({ service: key, port }, "opened service health check");
      } catch (err) {
        await Promise.all(servers.map(closeHttp));
        this.#logger.error(
          { service: key, port, err: errorMessage(err) },
          "cannot open service health check port",
        );
      }
    }
  }

  /** Sets the number of local endpoints per Service; Services not listed have none. */
  syncEndpoints(localEndpoints: ReadonlyMap<string, number>): void {
    for (const [key, instance] of this.#services) instance.localEndpoints = localEndpoints.get(key) ?? 0;
  }

  /** The ports being served, by Service. */
  ports(): Map<string, number> {
    return new Map([...this.#services].map(([key, i]) => [key, i.port]));
  }

  async close(): Promise<void> {
    const all = [...this.#services.values()].flatMap((i) => i.servers);
    this.#services.clear();
    await Promise.all(all.map(closeHttp));
  }

  #answer(key: string, res: ServerResponse): void {
    const instance = this.#services.get(key);
    const count = instance?.localEndpoints ?? 0;
    const healthy = this.#proxyHealthy();
    const [namespace = "", name = ""] = key.split("/");
    res.writeHead(count > 0 && healthy ? 200 : 503, {
      "Content-Type": "application/json",
      "X-Content-Type-Options": "nosniff",
      "X-Load-Balancing-Endpoint-Weight": String(count),
    });
    res.end(
      JSON.stringify({ service: { namespace, name }, localEndpoints: count, serviceProxyHealthy: healthy }),
    );
  }
}
