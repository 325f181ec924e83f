import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ServicePort } from "../model/service-port.ts";
import { ManualClock } from "../proxy/sync/manual-clock.ts";
import { applyServiceChanges, ServiceChangeTracker } from "./service-change-tracker.ts";
import { makeService } from "./test-objects.ts";

function tracker(onInvalid?: (kind: string, key: string, reason: string) => void): ServiceChangeTracker {
  return new ServiceChangeTracker({
    family: "IPv4",
    clock: new ManualClock(),
    ...(onInvalid ? { onInvalid } : {}),
  });
}

describe("ServiceChangeTracker", () => {
  const a = makeService("ns", "a", { clusterIP: "10.96.0.1", ports: [{ name: "http", port: 80 }] });
  const a2 = makeService("ns", "a", { clusterIP: "10.96.0.1", ports: [{ name: "http", port: 8080 }] });
  const b = makeService("ns", "b", { clusterIP: "10.96.0.2" });

  const steps: Array<{
    name: string;
    events: Array<[ReturnType<typeof makeService> | undefined, ReturnType<typeof makeService> | undefined]>;
    initial?: Array<ReturnType<typeof makeService>>;
    changed: string[];
    ports: Record<string, number>;
  }> = [
    { name: "an add is a change", events: [[undefined, a]], changed: ["ns/a"], ports: { "ns/a:http": 80 } },
    {
      name: "add then delete cancels out",
      events: [
        [undefined, a],
        [a, undefined],
      ],
      changed: [],
      ports: {},
    },
    {
      name: "updates coalesce into one change with the last state",
      initial: [a],
      events: [
        [a, a2],
        [a2, a],
        [a, a2],
      ],
      changed: ["ns/a"],
      ports: { "ns/a:http": 8080 },
    },
    {
      name: "an update back to the synced state cancels out",
      initial: [a],
      events: [
        [a, a2],
        [a2, a],
      ],
      changed: [],
      ports: { "ns/a:http": 80 },
    },
    {
      name: "an update that changes nothing the proxy uses is no change",
      initial: [a],
      events: [[a, { ...a, metadata: { ...a.metadata, resourceVersion: "99", annotations: { x: "y" } } }]],
      changed: [],
      ports: { "ns/a:http": 80 },
    },
    {
      name: "changes to several services are tracked apart",
      initial: [a],
      events: [
        [undefined, b],
        [a, undefined],
      ],
      changed: ["ns/a", "ns/b"],
      ports: { "ns/b": 80 },
    },
    {
      name: "a service becoming headless loses its ports",
      initial: [a],
      events: [[a, makeService("ns", "a", { clusterIP: "None" })]],
      changed: ["ns/a"],
      ports: {},
    },
    {
      name: "a service labelled for another proxy loses its ports",
      initial: [a],
      events: [
        [
          a,
          { ...a, metadata: { ...a.metadata, labels: { "service.kubernetes.io/service-proxy-name": "x" } } },
        ],
      ],
      changed: ["ns/a"],
      ports: {},
    },
  ];

  for (const step of steps) {
    it(step.name, () => {
      const t = tracker();
      const map = new Map<string, ServicePort>();
      for (const svc of step.initial ?? []) t.update(undefined, svc);
      applyServiceChanges(map, t.checkoutChanges());
      for (const [prev, cur] of step.events) t.update(prev, cur);
      const changes = t.checkoutChanges();
      assert.deepEqual([...changes.changedServices].sort(), step.changed);
      applyServiceChanges(map, changes);
      assert.deepEqual(Object.fromEntries([...map].map(([k, p]) => [k, p.port])), step.ports);
      assert.equal(t.pendingCount, 0, "checkout empties the tracker");
      assert.equal(t.checkoutChanges().changes.size, 0);
    });
  }

  it("reports whether changes are pending", () => {
    const t = tracker();
    assert.equal(t.update(undefined, a), true);
    assert.equal(t.update(a, undefined), false);
    assert.equal(t.pendingCount, 0);
  });

  it("records when a change was first queued", () => {
    const clock = new ManualClock(1000);
    const t = new ServiceChangeTracker({ family: "IPv4", clock });
    t.update(undefined, a);
    void clock.advance(500);
    t.update(a, a2);
    assert.equal(t.checkoutChanges().changes.get("ns/a")?.queuedAt, 1000);
  });

  it("skips a malformed Service with its reason and leaves the others alone", () => {
    const reported: string[] = [];
    const t = tracker((kind, key, reason) => reported.push(`${kind} ${key}: ${reason}`));
    const bad = makeService("ns", "bad", { ports: [{ port: 70000 }] });
    t.update(undefined, b);
    t.update(undefined, bad);
    const map = new Map<string, ServicePort>();
    applyServiceChanges(map, t.checkoutChanges());
    assert.deepEqual([...map.keys()], ["ns/b"]);
    assert.deepEqual(reported, ["Service ns/bad: spec.ports[0].port 70000 is not in 1-65535"]);
  });

  it("removes a Service's ports when it turns malformed", () => {
    const t = tracker(() => {});
    const map = new Map<string, ServicePort>();
    t.update(undefined, a);
    applyServiceChanges(map, t.checkoutChanges());
    t.update(a, makeService("ns", "a", { type: "Weird" }));
    applyServiceChanges(map, t.checkoutChanges());
    assert.equal(map.size, 0);
  });

  it("tracks only its own IP family", () => {
    const v6 = new ServiceChangeTracker({ family: "IPv6" });
    const dual = makeService("ns", "d", { clusterIPs: ["10.96.0.5", "fd00::5"] });
    v6.update(undefined, a);
    v6.update(undefined, dual);
    const changes = v6.checkoutChanges();
    assert.deepEqual([...changes.changedServices], ["ns/d"]);
    assert.equal(changes.changes.get("ns/d")?.current.get("ns/d")?.clusterIP, "fd00::5");
  });
});
