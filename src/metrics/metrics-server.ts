import { createServer } from "node:http";
import type { Registry } from "prom-client";
import { errorMessage } from "../errors.ts";
import { handleHealthRequest, type HealthCounters, type HttpServerHandle } from "../health/healthz-server.ts";
import { closeHttp, listenHttp } from "../health/listen-http.ts";
import type { ProxierHealth } from "../health/proxier-health.ts";

/**
 * Serves `/metrics` (Prometheus text) on `metricsBindAddress`, plus, as upstream's metrics server
 * does, `/healthz`, `/livez` and `/proxyMode` (the running mode as plain text).
 */
export async function startMetricsServer(
  address: string,
  options: {
    readonly registry: Registry;
    readonly health?: ProxierHealth;
    readonly counters?: HealthCounters;
    readonly mode?: string;
  },
): Promise<HttpServerHandle> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/metrics") {
      options.registry.metrics().then(
        (text) => {
          res.writeHead(200, { "Content-Type": options.registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500, { "Content-Type": "text/plain" });
          res.end(`Cannot collect metrics: ${errorMessage(err)}\n`);
        },
      );
      return;
    }
    if (path === "/proxyMode" && options.mode !== undefined) {
      res.writeHead(200, {
        "Content-Type": "text/plain; charset=utf-8",
        "X-Content-Type-Options": "nosniff",
      });
      res.end(options.mode);
      return;
    }
    if (
      options.health &&
      handleHealthRequest(req, res, { health: options.health, counters: options.counters ?? {} })
    )
      return;
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("404 page not found\n");
  });
  const bound = await listenHttp(server, address);
  return { address: bound, close: () => closeHttp(server) };
}
