import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { eventStrategy } from "./event-strategy.ts";
import type { KubeObject } from "./resource-strategy.ts";

const strategy = eventStrategy();
const now = new Date("2024-03-01T12:00:00Z");

function event(): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: "web.17b", namespace: "default" },
    involvedObject: { kind: "Service", namespace: "default", name: "web", uid: "u1", apiVersion: "v1" },
    reason: "AllocationFailed",
    message: "  no free node ports \n",
    type: "Warning",
    source: { component: "kproxy-apiserver", host: "node-1" },
    firstTimestamp: "2024-03-01T11:50:00Z",
    lastTimestamp: "2024-03-01T11:59:00Z",
    count: 3,
  };
}

function lines(problems: ReadonlyArray<{ field: string; message: string }>): string[] {
  return problems.map((p) => `${p.field}: ${p.message}`);
}

describe("eventStrategy", () => {
  it("accepts a legacy event whose object is in its namespace", () => {
    assert.deepEqual(lines(strategy.validate(event())), []);
  });

  it("rejects an involvedObject in another namespace", () => {
    const e = event();
    (e.involvedObject as Record<string, unknown>).namespace = "other";
    assert.deepEqual(lines(strategy.validate(e)), [
      'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
    ]);
  });

  it("requires the reporting fields of new-style events", () => {
    const e = event();
    e.eventTime = "2024-03-01T11:59:00.000000Z";
    delete e.reason;
    assert.deepEqual(lines(strategy.validate(e)), [
      "reportingComponent: Required value",
      "reportingInstance: Required value",
      "action: Required value",
      "reason: Required value",
    ]);
  });

  it("shows kubectl's event columns", () => {
    assert.deepEqual(
      strategy.tableColumns.map((c) => [c.name, c.priority]),
      [
        ["Last Seen", 0],
        ["Type", 0],
        ["Reason", 0],
        ["Object", 0],
        ["Subobject", 1],
        ["Source", 1],
        ["Message", 0],
        ["First Seen", 1],
        ["Count", 1],
        ["Name", 1],
      ],
    );
    assert.deepEqual(strategy.tableRow(event(), now), [
      "60s",
      "Warning",
      "AllocationFailed",
      "service/web",
      "",
      "kproxy-apiserver, node-1",
      "no free node ports",
      "10m",
      3,
      "web.17b",
    ]);
  });

  it("a new-style singleton event counts once and is seen at its eventTime", () => {
    const e: KubeObject = {
      metadata: { name: "x", namespace: "default" },
      involvedObject: { kind: "Node", name: "node-1" },
      eventTime: "2024-03-01T11:59:30.123456Z",
      reportingComponent: "kproxy",
      type: "Normal",
      reason: "Started",
    };
    assert.deepEqual(strategy.tableRow(e, now), [
      "29s",
      "Normal",
      "Started",
      "node/node-1",
      "",
      "kproxy",
      "",
      "29s",
      1,
      "x",
    ]);
  });

  it("serves the involvedObject field selectors kubectl describe uses", () => {
    assert.equal(strategy.fieldValue?.(event(), "involvedObject.name"), "web");
    assert.equal(strategy.fieldValue?.(event(), "involvedObject.kind"), "Service");
    assert.equal(strategy.fieldValue?.(event(), "involvedObject.uid"), "u1");
    assert.equal(strategy.fieldValue?.(event(), "involvedObject.fieldPath"), "");
    assert.equal(strategy.fieldValue?.(event(), "source"), "kproxy-apiserver");
    assert.equal(strategy.fieldValue?.(event(), "involvedObject.bogus"), undefined);
    assert.equal(strategy.fieldValue?.(event(), "message"), undefined);
  });
});
