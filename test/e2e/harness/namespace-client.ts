import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { ClientRequest, ClientResult } from "./client-agent.ts";
import { startNamespaceProcess, type NamespaceProcess } from "./namespace-process.ts";

const agentScript = fileURLToPath(new URL("./client-agent.ts", import.meta.url));

/** Sends TCP, UDP and HTTP requests from inside one namespace, through a long-lived client agent. */
export interface NamespaceClient {
  readonly namespace: string;
  readonly process: NamespaceProcess;
  /** Opens a TCP connection and reads the backend's answer. */
  tcp(host: string, port: number, options?: { timeoutMs?: number }): Promise<ClientResult>;
  /** Sends one UDP datagram and waits for the answer; `localPort` pins the flow's source port. */
  udp(
    host: string,
    port: number,
    options?: { timeoutMs?: number; localPort?: number },
  ): Promise<ClientResult>;
  /** HTTP GET (health-check node ports). */
  http(host: string, port: number, options?: { path?: string; timeoutMs?: number }): Promise<ClientResult>;
  close(): Promise<void>;
}

/** How long a client waits before it calls a connection or datagram dropped. */
export const defaultClientTimeoutMs = 2000;

/** Starts a client agent inside `ns`. */
export async function startNamespaceClient(ns: string): Promise<NamespaceClient> {
  const proc = await startNamespaceProcess(ns, [process.execPath, agentScript], { ready: /^ready$/ });
  const pending = new Map<number, (result: ClientResult) => void>();
  let nextId = 1;
  createInterface({ input: proc.stdout }).on("line", (line) => {
    if (line === "ready") return;
    const { id, result } = JSON.parse(line) as { id: number; result: ClientResult };
    pending.get(id)?.(result);
    pending.delete(id);
  });
  void proc.exited.then((code) => {
    for (const resolve of pending.values())
      resolve({ outcome: "failed", message: `client agent in ${ns} exited (${code}): ${proc.stderrTail()}` });
    pending.clear();
  });
  const send = (request: ClientRequest): Promise<ClientResult> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      proc.stdin.write(`${JSON.stringify({ id, request })}\n`);
    });
  return {
    namespace: ns,
    process: proc,
    tcp: (host, port, options = {}) =>
      send({ op: "tcp", host, port, timeoutMs: options.timeoutMs ?? defaultClientTimeoutMs }),
    udp: (host, port, options = {}) =>
      send({
        op: "udp",
        host,
        port,
        timeoutMs: options.timeoutMs ?? defaultClientTimeoutMs,
        ...(options.localPort === undefined ? {} : { localPort: options.localPort }),
      }),
    http: (host, port, options = {}) =>
      send({
        op: "http",
        host,
        port,
        path: options.path ?? "/",
        timeoutMs: options.timeoutMs ?? defaultClientTimeoutMs,
      }),
    async close() {
      proc.stdin.end();
      await proc.stop(2000);
    },
  };
}
