import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { isLoopback } from "../listen-address.ts";

/** A response: status code and parsed JSON body (undefined when not JSON). */
export interface RestResponse {
  readonly status: number;
  readonly body: Record<string, unknown> | undefined;
}

/**
 * A small JSON client for one API server URL with an optional bearer token. Over HTTPS to a
 * loopback address the certificate is not verified: that is kproxy's own server with a
 * self-signed certificate, reached from the same machine.
 */
export class RestClient {
  readonly #url: URL;
  readonly #token: string | undefined;

  constructor(url: string, token?: string) {
    this.#url = new URL(url);
    this.#token = token;
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
  ): Promise<RestResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { Accept: "application/json" };
    if (this.#token !== undefined) headers["Authorization"] = `Bearer ${this.#token}`;
    if (payload !== undefined) {
      headers["Content-Type"] = contentType;
      headers["Content-Length"] = String(Buffer.byteLength(payload));
    }
    const https = this.#url.protocol === "https:";
    const hostname = this.#url.hostname.replace(/^\[|\]$/g, "");
    const options = {
      hostname,
      port: this.#url.port,
      path,
      method,
      headers,
      ...(https && isLoopback(hostname) ? { rejectUnauthorized: false } : {}),
    };
    return await new Promise<RestResponse>((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(options, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          let parsed: Record<string, unknown> | undefined;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(payload);
    });
  }
}
