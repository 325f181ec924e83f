/**
 * The client the harness runs inside a namespace (`ip netns exec <ns> node client-agent.ts`):
 * reads one JSON request per line on stdin, runs it (TCP connect, UDP query, HTTP GET), and
 * writes one JSON result per line with the same `id`. Requests run concurrently. One long-lived
 * agent per namespace avoids starting a process for each of the thousands of connections a
 * suite makes.
 *
 * Outcomes: `answered` (a backend answered; which one and the source it saw), `refused` (an RST
 * or an ICMP error came back before the timeout: a REJECT rule, a closed port), `dropped`
 * (nothing came back before the timeout: a DROP rule), `failed` (anything else, with details).
 */
import { createSocket } from "node:dgram";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import type { NameAnswer } from "./name-server.ts";

/** One request to the agent. */
export type ClientRequest =
  | { readonly op: "tcp"; readonly host: string; readonly port: number; readonly timeoutMs: number }
  | {
      readonly op: "udp";
      readonly host: string;
      readonly port: number;
      readonly timeoutMs: number;
      /** Fixed source port, so that successive queries are one conntrack flow. */
      readonly localPort?: number;
    }
  | {
      readonly op: "http";
      readonly host: string;
      readonly port: number;
      readonly path: string;
      readonly timeoutMs: number;
    };

/** What came of one request. */
export type ClientResult =
  | { readonly outcome: "answered"; readonly answer: NameAnswer; readonly localAddress: string }
  | { readonly outcome: "http"; readonly status: number; readonly body: string }
  | { readonly outcome: "refused"; readonly code: string }
  | { readonly outcome: "dropped" }
  | { readonly outcome: "failed"; readonly message: string };

/** Errors that mean "actively rejected": an RST, or an ICMP error turned into errno by the kernel. */
const rejectionCodes = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN"]);

function rejected(err: NodeJS.ErrnoException): ClientResult {
  const code = err.code ?? "";
  return rejectionCodes.has(code)
    ? { outcome: "refused", code }
    : { outcome: "failed", message: `${code} ${err.message}` };
}

function parseAnswer(text: string, localAddress: string): ClientResult {
  try {
    return { outcome: "answered", answer: JSON.parse(text.trim()) as NameAnswer, localAddress };
  } catch {
    return { outcome: "failed", message: `unparsable answer ${JSON.stringify(text)}` };
  }
}

function tcp(host: string, port: number, timeoutMs: number): Promise<ClientResult> {
  return new Promise((resolve) => {
    let data = "";
    let connected = false;
    let localAddress = "";
    const socket = connect({ host, port });
    const done = (result: ClientResult): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () =>
        done(connected ? { outcome: "failed", message: "connected, but no answer" } : { outcome: "dropped" }),
      timeoutMs,
    );
    socket.setEncoding("utf8");
    socket.on("connect", () => {
      connected = true;
      localAddress = socket.localAddress ?? "";
    });
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("end", () =>
      done(
        data === ""
          ? { outcome: "failed", message: "connection closed without an answer" }
          : parseAnswer(data, localAddress),
      ),
    );
    socket.on("error", (err: NodeJS.ErrnoException) =>
      done(data === "" ? rejected(err) : parseAnswer(data, localAddress)),
    );
  });
}

function udp(
  host: string,
  port: number,
  timeoutMs: number,
  localPort: number | undefined,
): Promise<ClientResult> {
  return new Promise((resolve) => {
    const socket = createSocket({ type: "udp4", reuseAddr: localPort !== undefined });
    const done = (result: ClientResult): void => {
      clearTimeout(timer);
      socket.close();
      resolve(result);
    };
    const timer = setTimeout(() => done({ outcome: "dropped" }), timeoutMs);
    // A connected UDP socket receives the ICMP error of an earlier datagram as ECONNREFUSED.
    socket.on("error", (err: NodeJS.ErrnoException) => done(rejected(err)));
    socket.on("message", (msg) => done(parseAnswer(msg.toString("utf8"), socket.address().address)));
    socket.bind(localPort ?? 0, () =>
      socket.connect(port, host, () => socket.send("who?", (err) => err && done(rejected(err)))),
    );
  });
}

function http(host: string, port: number, path: string, timeoutMs: number): Promise<ClientResult> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ outcome: "dropped" });
    }, timeoutMs);
    const req = httpRequest({ host, port, path, method: "GET" }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ outcome: "http", status: res.statusCode ?? 0, body });
      });
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(rejected(err));
    });
    req.end();
  });
}

/** Runs one request. */
export function runClientRequest(req: ClientRequest): Promise<ClientResult> {
  switch (req.op) {
    case "tcp":
      return tcp(req.host, req.port, req.timeoutMs);
    case "udp":
      return udp(req.host, req.port, req.timeoutMs, req.localPort);
    case "http":
      return http(req.host, req.port, req.path, req.timeoutMs);
  }
}

function main(): void {
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    const { id, request } = JSON.parse(line) as { id: number; request: ClientRequest };
    runClientRequest(request).then(
      (result) => process.stdout.write(`${JSON.stringify({ id, result })}\n`),
      (err: unknown) =>
        process.stdout.write(
          `${JSON.stringify({ id, result: { outcome: "failed", message: String(err) } })}\n`,
        ),
    );
  });
  // When stdin closes, requests still running finish and the process exits by itself.
  process.stdout.write("ready\n");
}

if (import.meta.main) main();
