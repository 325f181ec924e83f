import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Counter } from "prom-client";
import { closeHttp, listenHttp } from "./listen-http.ts";
import type { ProxierHealth } from "./proxier-health.ts";

/** A running HTTP server. */
export interface HttpServerHandle {
  /** The bound `host:port`. */
  readonly address: string;
  close(): Promise<void>;
}

/** Counters of answers by status code (`kubeproxy_proxy_healthz_total` / `_livez_total`). */
export interface HealthCounters {
  readonly healthz?: Counter<"code">;
  readonly livez?: Counter<"code">;
}

/**
 * Answers `/healthz` (503 while unhealthy or while this node is being deleted) and `/livez` (503
 * only while unhealthy) with upstream's JSON bodies. Returns undefined for other paths.
 */
export function handleHealthRequest(
  req: IncomingMessage,
  res: ServerResponse,
  options: { readonly health: ProxierHealth; readonly counters?: HealthCounters },
): boolean {
  const path = (req.url ?? "/").split("?")[0];
  if (path !== "/healthz" && path !== "/livez") return false;
  const status = options.health.status();
  const nodeEligible = options.health.nodeEligible;
  const healthy = path === "/healthz" ? status.healthy && nodeEligible : status.healthy;
  const code = healthy ? 200 : 503;
  (path === "/healthz" ? options.counters?.healthz : options.counters?.livez)?.inc({ code: String(code) });
  // Like upstream: a healthy proxy reports lastUpdated as now (older releases reported the last sync loop run).
  const lastUpdated = healthy ? status.currentTime : status.lastUpdated;
  const body: Record<string, unknown> = {
    lastUpdated: formatTime(lastUpdated),
    currentTime: formatTime(status.currentTime),
  };
  if (path === "/healthz") body["nodeEligible"] = nodeEligible;
  res.writeHead(code, { "Content-Type": "application/json", "X-Content-Type-Options": "nosniff" });
  res.end(JSON.stringify(body));
  return true;
}

function formatTime(ms: number): string {
  return ms === 0 ? "0001-01-01T00:00:00Z" : new Date(ms).toISOString();
}

/** Serves `/healthz` and `/livez` on `address` (`healthzBindAddress`). */
export async function startHealthzServer(
  address: string,
  options: { readonly health: ProxierHealth; readonly counters?: HealthCounters },
): Promise<HttpServerHandle> {
  const server = createServer((req, res) => {
    if (!handleHealthRequest(req, res, options)) {
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end("404 page not found\n");
    }
  });
  const bound = await listenHttp(server, address);
  return { address: bound, close: () => closeHttp(server) };
}
