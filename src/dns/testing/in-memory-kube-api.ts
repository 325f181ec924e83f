import { KubeConfig } from "@kubernetes/client-node";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Resources the stand-in serves, by their list path. */
export type StandInResource = "services" | "endpointslices" | "namespaces" | "pods";

const paths: Record<StandInResource, string> = {
  services: "/api/v1/services",
  endpointslices: "/apis/discovery.k8s.io/v1/endpointslices",
  namespaces: "/api/v1/namespaces",
  pods: "/api/v1/pods",
};

interface WatchEvent {
  readonly resource: StandInResource;
  readonly rv: number;
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly object: Record<string, unknown>;
}

/** A running stand-in API server. */
export interface InMemoryKubeApi {
  readonly url: string;
  /** A KubeConfig pointing at it. */
  kubeConfig(): KubeConfig;
  /** Creates or replaces an object (keyed by namespace/name), notifying watchers. */
  apply(resource: StandInResource, object: Record<string, unknown>): void;
  /** Deletes an object, notifying watchers. */
  remove(resource: StandInResource, namespace: string, name: string): void;
  close(): Promise<void>;
}

/**
 * A minimal list+watch API server over plain HTTP on loopback, for DNS tests and benchmarks that must
 * not depend on the full embedded API server: cluster-wide list and watch of four resources, nothing
 * else. It is a test double only; the end-to-end tests also run against the real server.
 */
export async function startInMemoryKubeApi(): Promise<InMemoryKubeApi> {
  const objects = new Map<StandInResource, Map<string, Record<string, unknown>>>(
    (Object.keys(paths) as StandInResource[]).map((r) => [r, new Map()]),
  );
  const history: WatchEvent[] = [];
  const watchers = new Set<{ resource: StandInResource; res: ServerResponse }>();
  let rv = 1;

  const emit = (event: WatchEvent): void => {
    history.push(event);
    for (const w of watchers) {
      if (w.resource === event.resource)
        w.res.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`);
    }
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const resource = (Object.keys(paths) as StandInResource[]).find((r) => paths[r] === url.pathname);
    if (req.method !== "GET" || resource === undefined) {
      res.writeHead(404, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify({
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          code: 404,
          reason: "NotFound",
        }),
      );
      return;
    }
    if (url.searchParams.get("watch") === "true") {
      const since = Number(url.searchParams.get("resourceVersion") ?? "0");
      res.writeHead(200, { "Content-Type": "application/json" });
      // The client waits for the headers before it counts the watch as started.
      res.flushHeaders();
      for (const e of history) {
        if (e.resource === resource && e.rv > since)
          res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
      }
      const watcher = { resource, res };
      watchers.add(watcher);
      req.on("close", () => watchers.delete(watcher));
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(
      JSON.stringify({
        apiVersion: resource === "endpointslices" ? "discovery.k8s.io/v1" : "v1",
        kind: "List",
        metadata: { resourceVersion: String(rv) },
        items: [...(objects.get(resource)?.values() ?? [])],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: "standin", server: url, skipTLSVerify: true }],
        users: [{ name: "standin" }],
        contexts: [{ name: "standin", cluster: "standin", user: "standin" }],
        currentContext: "standin",
      });
      return kc;
    },
    apply(resource, object) {
      const meta = (object["metadata"] ?? {}) as Record<string, unknown>;
      const key = `${String(meta["namespace"] ?? "")}/${String(meta["name"] ?? "")}`;
      const store = objects.get(resource);
      const existed = store?.has(key) ?? false;
      rv++;
      const stored = { ...object, metadata: { ...meta, resourceVersion: String(rv) } };
      store?.set(key, stored);
      emit({ resource, rv, type: existed ? "MODIFIED" : "ADDED", object: stored });
    },
    remove(resource, namespace, name) {
      const store = objects.get(resource);
      const key = `${namespace}/${name}`;
      const previous = store?.get(key);
      if (previous === undefined) return;
      store?.delete(key);
      rv++;
      const meta = (previous["metadata"] ?? {}) as Record<string, unknown>;
      emit({
        resource,
        rv,
        type: "DELETED",
        object: { ...previous, metadata: { ...meta, resourceVersion: String(rv) } },
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const w of watchers) w.res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
