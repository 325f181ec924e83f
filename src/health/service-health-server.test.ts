import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, describe, it } from "node:test";
import { silentLogger } from "../sys/logger.ts";
import { ServiceHealthServer } from "./service-health-server.ts";

/** A port that was free a moment ago (health check ports are fixed numbers, not port 0). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("ServiceHealthServer", () => {
  let healthy = true;
  const hcs = new ServiceHealthServer({
    hosts: ["127.0.0.1"],
    logger: silentLogger(),
    proxyHealthy: () => healthy,
  });
  after(() => hcs.close());

  async function probe(
    port: number,
  ): Promise<{ status: number; body: unknown; weight: string | null; nosniff: string | null }> {
    const res = await fetch(`http://127.0.0.1:${port}/`);
    return {
      status: res.status,
      body: await res.json(),
      weight: res.headers.get("x-load-balancing-endpoint-weight"),
      nosniff: res.headers.get("x-content-type-options"),
    };
  }

  it("answers 503 without local endpoints and 200 with them, in upstream's JSON", async () => {
    const port = await freePort();
    await hcs.syncServices(new Map([["ns/lb", port]]));
    let r = await probe(port);
    assert.equal(r.status, 503);
    assert.deepEqual(r.body, {
      service: { namespace: "ns", name: "lb" },
      localEndpoints: 0,
      serviceProxyHealthy: true,
    });
    assert.equal(r.weight, "0");
    assert.equal(r.nosniff, "nosniff");
    hcs.syncEndpoints(new Map([["ns/lb", 2]]));
    r = await probe(port);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      service: { namespace: "ns", name: "lb" },
      localEndpoints: 2,
      serviceProxyHealthy: true,
    });
    assert.equal(r.weight, "2");
  });

  it("answers 503 while the proxy is unhealthy even with local endpoints", async () => {
    const port = [...hcs.ports().values()][0] ?? 0;
    healthy = false;
    const r = await probe(port);
    healthy = true;
    assert.equal(r.status, 503);
    assert.equal((r.body as { serviceProxyHealthy: boolean }).serviceProxyHealthy, false);
  });

  it("closes the listeners of Services that are gone or moved, and opens new ones", async () => {
    const [oldPort = 0] = hcs.ports().values();
    const newPort = await freePort();
    const other = await freePort();
    await hcs.syncServices(
      new Map([
        ["ns/lb", newPort],
        ["ns/other", other],
      ]),
    );
    assert.deepEqual(Object.fromEntries(hcs.ports()), { "ns/lb": newPort, "ns/other": other });
    await assert.rejects(fetch(`http://127.0.0.1:${oldPort}/`));
    assert.equal((await probe(newPort)).status, 503, "endpoint counts start again at zero");
    hcs.syncEndpoints(new Map([["ns/other", 1]]));
    assert.equal((await probe(other)).status, 200);
    await hcs.syncServices(new Map());
    await assert.rejects(fetch(`http://127.0.0.1:${other}/`));
  });

  it("logs and retries a port it cannot open, without affecting the others", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const taken = (blocker.address() as { port: number }).port;
    const free = await freePort();
    await hcs.syncServices(
      new Map([
        ["ns/a", taken],
        ["ns/b", free],
      ]),
    );
    assert.deepEqual(Object.fromEntries(hcs.ports()), { "ns/b": free });
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    await hcs.syncServices(
      new Map([
        ["ns/a", taken],
        ["ns/b", free],
      ]),
    );
    assert.deepEqual(Object.fromEntries(hcs.ports()), { "ns/a": taken, "ns/b": free });
    await hcs.syncServices(new Map());
  });
});
