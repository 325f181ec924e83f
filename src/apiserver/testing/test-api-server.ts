import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../sys/logger.ts";
import { startApiServer, type ApiServer, type ApiServerOptions } from "../api-server.ts";

/** A server for tests: loopback, port 0, in memory unless a data dir is given. */
export async function startTestApiServer(overrides: Partial<ApiServerOptions> = {}): Promise<ApiServer> {
  return await startApiServer({
    listen: "127.0.0.1:0",
    dataDir: "",
    serviceClusterIPRange: "10.96.0.0/16",
    serviceNodePortRange: "30000-32767",
    loadBalancerIPRange: "",
    logger: silentLogger(),
    ...overrides,
  });
}

/** A temporary directory (`kp-<what>-XXXX`) and its removal. */
export function tempDir(what: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `kp-${what}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
