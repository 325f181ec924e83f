import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import type { KubernetesListObject, V1Service } from "@kubernetes/client-node";
import { silentLogger } from "../sys/logger.ts";
import { loadKubeConfig } from "./kube-config.ts";
import { ObjectSource } from "./object-source.ts";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("ObjectSource stopped while it starts", () => {
  // A server that answers watches by holding them open (the lists come from the test's list
  // function), counting the watches that are open.
  let open = 0;
  const held = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    open++;
    held.add(res);
    res.writeHead(200, { "Content-Type": "application/json" });
    res.flushHeaders();
    req.on("close", () => {
      open--;
      held.delete(res);
    });
  });
  after(async () => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const list = (items: V1Service[]): KubernetesListObject<V1Service> => ({
    apiVersion: "v1",
    kind: "ServiceList",
    metadata: { resourceVersion: "7" },
    items,
  });
  const web: V1Service = { metadata: { name: "web", namespace: "default" }, spec: { ports: [{ port: 80 }] } };

  async function sourceWithGatedList(): Promise<{
    source: ObjectSource<V1Service>;
    events: string[];
    listed: Promise<void>;
    release: () => void;
  }> {
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const events: string[] = [];
    let release = (): void => undefined;
    let listCalled = (): void => undefined;
    const listed = new Promise<void>((resolve) => (listCalled = resolve));
    const source = new ObjectSource<V1Service>({
      kubeConfig: loadKubeConfig({ kubeconfig: "", master: `http://127.0.0.1:${port}` }),
      path: "/api/v1/services",
      list: () =>
        new Promise((resolve) => {
          listCalled();
          release = () => resolve(list([web]));
        }),
      handlers: { add: (o) => events.push(`add ${o.metadata?.name ?? ""}`) },
      logger: silentLogger(),
    });
    return { source, events, listed, release: () => release() };
  }

  it("a list that ends after stop() delivers nothing and opens no watch", async () => {
    const { source, events, listed, release } = await sourceWithGatedList();
    const started = source.start();
    await listed;
    source.stop();
    await started;
    release();
    await sleep(300);
    assert.deepEqual(events, []);
    assert.equal(open, 0, "no watch is left open");
  });

  it("a running source closes its watch on stop()", async () => {
    const { source, events, listed, release } = await sourceWithGatedList();
    const started = source.start();
    await listed;
    release();
    await started;
    assert.deepEqual(events, ["add web"]);
    for (let i = 0; open === 0 && i < 100; i++) await sleep(10);
    assert.equal(open, 1, "the watch is open while the source runs");
    source.stop();
    for (let i = 0; open > 0 && i < 100; i++) await sleep(10);
    assert.equal(open, 0, "the watch closed");
  });
});
