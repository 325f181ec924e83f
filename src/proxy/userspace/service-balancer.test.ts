import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { silentLogger } from "../../sys/logger.ts";
import { Registry } from "prom-client";
import { relayMetrics } from "./relay-metrics.ts";
import { defaultRelayTuning } from "./relay-tuning.ts";
import { ServiceBalancer } from "./service-balancer.ts";
import { adjustableClock, endpointSlices, service, syncRequest, testNode } from "./testing/fixtures.ts";

function balancerFor(objects: ReturnType<typeof service>[], tuning = {}) {
  const state = syncRequest(objects).states[0];
  assert.ok(state);
  const svc = [...state.services.values()][0];
  assert.ok(svc);
  const b = new ServiceBalancer(svc, {
    defaultScheduler: "rr",
    clock: adjustableClock(),
    tuning: { ...defaultRelayTuning, ...tuning },
    metrics: relayMetrics(new Registry()),
    logger: silentLogger(),
  });
  b.update(svc, state.endpoints.get(svc.key) ?? [], testNode);
  return b;
}

const ctx = { clientIP: "203.0.113.7", clientPort: 1000, destinationIP: "10.96.0.1" };

describe("ServiceBalancer", () => {
  it("externalTrafficPolicy Local: external traffic only to local endpoints, internal to all", () => {
    const b = balancerFor([
      service({
        name: "s",
        clusterIP: "10.96.0.1",
        port: 80,
        type: "NodePort",
        nodePort: 30001,
        externalTrafficPolicy: "Local",
      }),
      ...endpointSlices("s", [
        { ip: "10.0.0.1", port: 80, nodeName: "node-a" },
        { ip: "10.0.0.2", port: 80, nodeName: "node-b" },
        { ip: "10.0.0.3", port: 80, nodeName: "node-b" },
      ]),
    ]);
    const external = new Set(Array.from({ length: 6 }, () => b.pick(ctx, "external")?.key));
    assert.deepEqual([...external], ["10.0.0.1:80"]);
    const internal = new Set(Array.from({ length: 6 }, () => b.pick(ctx, "internal")?.key));
    assert.deepEqual([...internal].sort(), ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"]);
    const fromPods = new Set(Array.from({ length: 6 }, () => b.pick(ctx, "cluster")?.key));
    assert.deepEqual([...fromPods].sort(), ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"]);
  });

  it("internalTrafficPolicy Local applies to the ClusterIP only, not to NodePort traffic from pods", () => {
    const b = balancerFor([
      service({
        name: "s",
        clusterIP: "10.96.0.1",
        port: 80,
        type: "NodePort",
        nodePort: 30001,
        internalTrafficPolicy: "Local",
      }),
      ...endpointSlices("s", [
        { ip: "10.0.0.1", port: 80, nodeName: "node-a" },
        { ip: "10.0.0.2", port: 80, nodeName: "node-b" },
      ]),
    ]);
    assert.deepEqual(
      [...new Set(Array.from({ length: 4 }, () => b.pick(ctx, "internal")?.key))],
      ["10.0.0.1:80"],
    );
    for (const traffic of ["cluster", "external"] as const) {
      const seen = new Set(Array.from({ length: 4 }, () => b.pick(ctx, traffic)?.key));
      assert.deepEqual([...seen].sort(), ["10.0.0.1:80", "10.0.0.2:80"], traffic);
    }
  });

  it("never ejects more than half of the endpoints", () => {
    const b = balancerFor(
      [
        service({ name: "s", clusterIP: "10.96.0.1", port: 80 }),
        ...endpointSlices(
          "s",
          [1, 2, 3, 4].map((i) => ({ ip: `10.0.0.${i}`, port: 80 })),
        ),
      ],
      { ejectAfterFailures: 1 },
    );
    for (const ep of b.endpoints) b.connectFailed(ep);
    assert.equal(b.endpoints.filter((ep) => !ep.available).length, 2);
    b.close();
  });

  it("uses the kproxy.io/scheduler annotation, and the default for an unknown name", () => {
    const objects = (scheduler: string) => [
      service({ name: "s", clusterIP: "10.96.0.1", port: 80, scheduler }),
    ];
    assert.equal(balancerFor(objects("mh")).schedulerName, "mh");
    assert.equal(balancerFor(objects("bogus")).schedulerName, "rr");
  });
});
