import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Endpoint } from "../model/endpoint.ts";
import { ManualClock } from "../proxy/sync/manual-clock.ts";
import {
  annotationLastChangeTriggerTime,
  applyEndpointsChanges,
  EndpointsChangeTracker,
} from "./endpoints-change-tracker.ts";
import { makeSlice } from "./test-objects.ts";

function tracker(clock = new ManualClock(), onInvalid?: (k: string, key: string, r: string) => void) {
  return new EndpointsChangeTracker({
    family: "IPv4",
    nodeName: "node-1",
    clock,
    ...(onInvalid ? { onInvalid } : {}),
  });
}

function view(map: Map<string, readonly Endpoint[]>): Record<string, string[]> {
  return Object.fromEntries([...map].map(([k, eps]) => [k, eps.map((e) => e.key)]));
}

describe("EndpointsChangeTracker", () => {
  const s1 = makeSlice("ns", "a", "a-1", ["10.0.0.1", "10.0.0.2"]);
  const s1b = makeSlice("ns", "a", "a-1", ["10.0.0.1"]);
  const s2 = makeSlice("ns", "a", "a-2", ["10.0.0.3"]);
  const other = makeSlice("ns", "b", "b-1", ["10.0.1.1"], { portName: "dns", port: 53 });

  const cases: Array<{
    name: string;
    initial?: (typeof s1)[];
    events: Array<[typeof s1, boolean]>;
    changed: string[];
    result: Record<string, string[]>;
  }> = [
    {
      name: "a new slice is a change",
      events: [[s1, false]],
      changed: ["ns/a"],
      result: { "ns/a": ["10.0.0.1:8080", "10.0.0.2:8080"] },
    },
    {
      name: "slices of one Service merge",
      events: [
        [s1, false],
        [s2, false],
      ],
      changed: ["ns/a"],
      result: { "ns/a": ["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"] },
    },
    {
      name: "add then remove cancels out",
      events: [
        [s1, false],
        [s1, true],
      ],
      changed: [],
      result: {},
    },
    {
      name: "an update back to the synced state cancels out",
      initial: [s1],
      events: [
        [s1b, false],
        [s1, false],
      ],
      changed: [],
      result: { "ns/a": ["10.0.0.1:8080", "10.0.0.2:8080"] },
    },
    {
      name: "removing one of two slices keeps the other's endpoints",
      initial: [s1, s2],
      events: [[s1, true]],
      changed: ["ns/a"],
      result: { "ns/a": ["10.0.0.3:8080"] },
    },
    {
      name: "changes to several Services are tracked apart",
      initial: [s1],
      events: [
        [other, false],
        [s1b, false],
      ],
      changed: ["ns/a", "ns/b"],
      result: { "ns/a": ["10.0.0.1:8080"], "ns/b:dns": ["10.0.1.1:53"] },
    },
    {
      name: "a slice of the other family changes nothing",
      events: [[makeSlice("ns", "a", "a-v6", ["fd00::1"], { addressType: "IPv6" }), false]],
      changed: [],
      result: {},
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const t = tracker();
      const map = new Map<string, readonly Endpoint[]>();
      for (const s of c.initial ?? []) t.endpointSliceUpdate(s, false);
      applyEndpointsChanges(map, t.checkoutChanges());
      for (const [slice, removed] of c.events) t.endpointSliceUpdate(slice, removed);
      const changes = t.checkoutChanges();
      assert.deepEqual([...changes.changedServices].sort(), c.changed);
      applyEndpointsChanges(map, changes);
      assert.deepEqual(view(map), c.result);
      assert.equal(t.pendingCount, 0);
    });
  }

  it("marks endpoints on this node local", () => {
    const t = tracker();
    t.endpointSliceUpdate(
      makeSlice("ns", "a", "a-1", [
        { ip: "10.0.0.1", nodeName: "node-1" },
        { ip: "10.0.0.2", nodeName: "node-2" },
      ]),
      false,
    );
    const eps = t.checkoutChanges().changes.get("ns/a")?.current.get("ns/a") ?? [];
    assert.deepEqual(
      eps.map((e) => [e.key, e.isLocal]),
      [
        ["10.0.0.1:8080", true],
        ["10.0.0.2:8080", false],
      ],
    );
  });

  it("takes the trigger time from the slice annotation, else the queue time", async () => {
    const clock = new ManualClock(Date.parse("2026-01-01T00:00:10Z"));
    const t = tracker(clock);
    t.endpointSliceUpdate(s1, false);
    await clock.advance(1000);
    t.endpointSliceUpdate(
      makeSlice("ns", "b", "b-1", ["10.0.1.1"], {
        annotations: { [annotationLastChangeTriggerTime]: "2026-01-01T00:00:05Z" },
      }),
      false,
    );
    const changes = t.checkoutChanges().changes;
    assert.equal(changes.get("ns/a")?.triggeredAt, Date.parse("2026-01-01T00:00:10Z"));
    assert.equal(changes.get("ns/a")?.queuedAt, Date.parse("2026-01-01T00:00:10Z"));
    assert.equal(changes.get("ns/b")?.triggeredAt, Date.parse("2026-01-01T00:00:05Z"));
    assert.equal(changes.get("ns/b")?.queuedAt, Date.parse("2026-01-01T00:00:11Z"));
  });

  it("skips a slice without a service-name label and reports it", () => {
    const reported: string[] = [];
    const t = tracker(new ManualClock(), (kind, key, reason) => reported.push(`${kind} ${key}: ${reason}`));
    assert.equal(
      t.endpointSliceUpdate(makeSlice("ns", "a", "stray", ["10.0.0.9"], { labels: {} }), false),
      false,
    );
    assert.equal(t.endpointSliceUpdate(s1, false), true);
    assert.deepEqual([...t.checkoutChanges().changedServices], ["ns/a"]);
    assert.deepEqual(reported, [
      "EndpointSlice ns/stray: metadata.labels has no kubernetes.io/service-name label",
    ]);
  });
});
