import { request } from "node:http";
import type { KubeObject } from "../../../src/proxy/testing/conformance-fixtures.ts";

/** A small client of kproxy's embedded API server over its Unix socket (no token needed there). */
export interface ApiClient {
  /** One request; resolves with the status and the parsed JSON body (or the text). */
  call(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<{ status: number; body: unknown }>;
  /** Creates the object; an existing one (409) is replaced with this content. */
  apply(obj: KubeObject): Promise<void>;
  /** Creates the object unless it exists (409 is fine). */
  ensure(obj: KubeObject): Promise<void>;
  /** Writes `status.loadBalancer.ingress` through the `/status` subresource (the harness plays the cloud controller). */
  setLoadBalancerIPs(namespace: string, name: string, ips: readonly string[]): Promise<void>;
}

/** The collection URL of an object's kind in its namespace. */
export function collectionPath(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  const base = obj.apiVersion === "v1" ? "/api/v1" : `/apis/${obj.apiVersion ?? ""}`;
  const plural = `${(obj.kind ?? "").toLowerCase()}s`;
  return ns === undefined ? `${base}/${plural}` : `${base}/namespaces/${ns}/${plural}`;
}

/** A client talking to the API server listening on `socketPath`. */
export function apiClient(socketPath: string): ApiClient {
  const call = (
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
  ): Promise<{ status: number; body: unknown }> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          socketPath,
          path,
          method,
          headers: {
            accept: "application/json",
            ...(payload === undefined
              ? {}
              : { "content-type": contentType, "content-length": Buffer.byteLength(payload) }),
          },
          timeout: 10_000,
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (text += chunk));
          res.on("end", () => {
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON: keep the text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
      req.on("error", reject);
      req.end(payload);
    });
  const check = (what: string, res: { status: number; body: unknown }): void => {
    if (res.status < 200 || res.status >= 300)
      throw new Error(`Cannot ${what}: HTTP ${res.status}: ${JSON.stringify(res.body).slice(0, 2000)}`);
  };
  const itemPath = (obj: KubeObject): string => `${collectionPath(obj)}/${obj.metadata?.name ?? ""}`;
  const describe = (obj: KubeObject): string =>
    `${obj.kind ?? "object"} ${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
  return {
    call,
    async apply(obj) {
      const created = await call("POST", collectionPath(obj), obj);
      if (created.status !== 409) return check(`create ${describe(obj)}`, created);
      const current = await call("GET", itemPath(obj));
      check(`read ${describe(obj)}`, current);
      const resourceVersion = (current.body as KubeObject).metadata?.resourceVersion;
      const replaced = await call("PUT", itemPath(obj), {
        ...obj,
        metadata: { ...obj.metadata, resourceVersion },
      });
      check(`replace ${describe(obj)}`, replaced);
    },
    async ensure(obj) {
      const created = await call("POST", collectionPath(obj), obj);
      if (created.status !== 409) check(`create ${describe(obj)}`, created);
    },
    async setLoadBalancerIPs(namespace, name, ips) {
      const res = await call(
        "PATCH",
        `/api/v1/namespaces/${namespace}/services/${name}/status`,
        { status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } } },
        "application/merge-patch+json",
      );
      check(`set the LoadBalancer IPs of Service ${namespace}/${name}`, res);
    },
  };
}
