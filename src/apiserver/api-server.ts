import { ProxyError } from "../errors.ts";
import type { Logger } from "../sys/logger.ts";

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
}

/** A running embedded API server. */
export interface ApiServer {
  readonly url: string;
  readonly socketPath: string | undefined;
  close(): Promise<void>;
}

/** Starts the embedded Kubernetes-compatible API server. */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  await Promise.resolve();
  throw new ProxyError(
    "KPROXY_API_UNAVAILABLE",
    `Cannot start the API server on ${options.listen}: not built yet`,
  );
}
