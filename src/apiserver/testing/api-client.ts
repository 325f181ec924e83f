import { request as httpRequest } from "node:http";

/** A response of the API server, body parsed when JSON. */
export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: T;
  readonly text: string;
}

/** Where to send requests: a base URL (`http://127.0.0.1:6443`) or a Unix socket. */
export type ApiTarget = string | { readonly socketPath: string };

/**
 * A minimal HTTP client for tests and tools: one request, JSON in and out, over TCP or the API
 * server's Unix socket (which is how tests reach a server running in a network namespace).
 */
export async function apiRequest<T = unknown>(
  target: ApiTarget,
  method: string,
  path: string,
  options: { body?: unknown; contentType?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const payload =
    options.body === undefined
      ? undefined
      : typeof options.body === "string"
        ? options.body
        : JSON.stringify(options.body);
  const headers: Record<string, string> = { Accept: "application/json", ...(options.headers ?? {}) };
  if (payload !== undefined) {
    headers["Content-Type"] = options.contentType ?? "application/json";
    headers["Content-Length"] = String(Buffer.byteLength(payload));
  }
  const where = requestTarget(target, path);
  return await new Promise<ApiResponse<T>>((resolve, reject) => {
    const req = httpRequest({ ...where, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = text;
        if ((res.headers["content-type"] ?? "").includes("json") && text !== "") {
          try {
            body = JSON.parse(text);
          } catch {
            body = text;
          }
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: body as T, text });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}

/** Where `http.request` sends `path`: host and port of a URL, or a Unix socket. */
function requestTarget(
  target: ApiTarget,
  path: string,
): { hostname: string; port: string; path: string } | { socketPath: string; path: string } {
  if (typeof target !== "string") return { socketPath: target.socketPath, path };
  const u = new URL(path, target);
  return { hostname: u.hostname.replace(/^\[|\]$/g, ""), port: u.port, path: `${u.pathname}${u.search}` };
}

/** One event of a watch stream. */
export interface WatchEvent {
  readonly type: string;
  readonly object: {
    metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> };
    [key: string]: unknown;
  };
}

/**
 * Opens a watch and collects its events; `until` resolves once `count` events (or a predicate)
 * have arrived. `close()` ends the stream.
 */
export function openWatch(
  target: ApiTarget,
  path: string,
): {
  events: WatchEvent[];
  until(pred: (events: WatchEvent[]) => boolean, timeoutMs?: number): Promise<WatchEvent[]>;
  ended: Promise<void>;
  close(): void;
} {
  const events: WatchEvent[] = [];
  const waiters: Array<() => void> = [];
  let endResolve: () => void = () => {};
  const ended = new Promise<void>((r) => (endResolve = r));
  const where = requestTarget(target, path);
  const req = httpRequest(
    { ...where, method: "GET", headers: { Accept: "application/json" }, agent: false },
    (res) => {
      let buffer = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (line.trim() !== "") events.push(JSON.parse(line) as WatchEvent);
        }
        for (const w of waiters) w();
      });
      res.on("end", () => {
        endResolve();
        for (const w of waiters) w();
      });
      res.on("error", () => endResolve());
    },
  );
  req.on("error", () => endResolve());
  req.end();
  return {
    events,
    ended,
    async until(pred, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred(events)) {
        if (Date.now() > deadline) {
          throw new Error(
            `watch ${path}: condition not met within ${timeoutMs} ms; events: ${JSON.stringify(events.map((e) => [e.type, e.object.metadata?.name]))}`,
          );
        }
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
        waiters.length = 0;
      }
      return events;
    },
    close() {
      req.destroy();
    },
  };
}
