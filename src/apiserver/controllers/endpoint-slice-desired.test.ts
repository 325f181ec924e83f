import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "../registry/resource-strategy.ts";
import { desiredSliceGroups } from "./endpoint-slice-desired.ts";

function pod(
  name: string,
  ip: string | string[],
  extra: { ready?: boolean; terminating?: boolean; phase?: string; port?: number; node?: string } = {},
): KubeObject {
  const ips = Array.isArray(ip) ? ip : [ip];
  return {
    metadata: {
      name,
      namespace: "ns",
      uid: `uid-${name}`,
      labels: { app: "web" },
      ...(extra.terminating ? { deletionTimestamp: "2025-01-01T00:00:00Z" } : {}),
    },
    spec: {
      nodeName: extra.node ?? "n1",
      containers: [
        { name: "c", ports: extra.port === undefined ? [] : [{ name: "http", containerPort: extra.port }] },
      ],
    },
    status: {
      phase: extra.phase ?? "Running",
      podIP: ips[0],
      podIPs: ips.map((i) => ({ ip: i })),
      conditions: [{ type: "Ready", status: extra.ready === false ? "False" : "True" }],
    },
  };
}

const svc: KubeObject = {
  metadata: { name: "web", namespace: "ns" },
  spec: {
    selector: { app: "web" },
    ipFamilies: ["IPv4"],
    ports: [
      { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
      { name: "dns", port: 53, targetPort: 5353, protocol: "UDP" },
    ],
  },
};
const zones = (node: string): string | undefined => ({ n1: "zone-a" })[node];

describe("desiredSliceGroups", () => {
  it("resolves named ports per Pod and groups Pods by their resolved ports", () => {
    const groups = desiredSliceGroups(
      svc,
      [pod("a", "10.0.0.2", { port: 8080 }), pod("b", "10.0.0.1", { port: 8080 }), pod("c", "10.0.0.3")],
      zones,
    );
    assert.deepEqual(
      groups.map((g) => [
        g.ports.map((p) => `${p.name}:${p.port}/${p.protocol}`),
        g.endpoints.map((e) => e.addresses[0]),
      ]),
      [
        [["dns:5353/UDP"], ["10.0.0.3"]],
        [
          ["http:8080/TCP", "dns:5353/UDP"],
          ["10.0.0.1", "10.0.0.2"],
        ],
      ],
    );
  });

  it("sets conditions from readiness and deletion, with node, zone and target", () => {
    const [group] = desiredSliceGroups(
      { ...svc, spec: { ...(svc.spec as object), ports: [{ port: 80 }] } },
      [
        pod("ready", "10.0.0.1"),
        pod("unready", "10.0.0.2", { ready: false }),
        pod("leaving", "10.0.0.3", { terminating: true }),
        pod("done", "10.0.0.4", { phase: "Succeeded" }),
      ],
      zones,
    );
    assert.deepEqual(
      group?.endpoints.map((e) => [e.addresses[0], e.conditions]),
      [
        ["10.0.0.1", { ready: true, serving: true, terminating: false }],
        ["10.0.0.2", { ready: false, serving: false, terminating: false }],
        ["10.0.0.3", { ready: false, serving: true, terminating: true }],
      ],
    );
    assert.equal(group?.endpoints[0]?.zone, "zone-a");
    assert.equal(group?.endpoints[0]?.nodeName, "n1");
    assert.deepEqual(group?.endpoints[0]?.targetRef, {
      kind: "Pod",
      namespace: "ns",
      name: "ready",
      uid: "uid-ready",
    });
    assert.equal(group?.ports[0]?.port, 80, "targetPort defaults to port");
  });

  it("publishes unready Pods as ready with publishNotReadyAddresses", () => {
    const [group] = desiredSliceGroups(
      { ...svc, spec: { ...(svc.spec as object), publishNotReadyAddresses: true, ports: [{ port: 80 }] } },
      [pod("u", "10.0.0.2", { ready: false })],
      zones,
    );
    assert.deepEqual(group?.endpoints[0]?.conditions, { ready: true, serving: true, terminating: false });
  });

  it("keeps only the Service's address families and skips Pods without an IP", () => {
    const dual = desiredSliceGroups(
      { ...svc, spec: { ...(svc.spec as object), ipFamilies: ["IPv4", "IPv6"], ports: [{ port: 80 }] } },
      [pod("d", ["10.0.0.1", "fd00::1"]), pod("none", [])],
      zones,
    );
    assert.deepEqual(
      dual.map((g) => [g.addressType, g.endpoints.map((e) => e.addresses[0])]),
      [
        ["IPv4", ["10.0.0.1"]],
        ["IPv6", ["fd00::1"]],
      ],
    );
    const v4 = desiredSliceGroups(
      { ...svc, spec: { ...(svc.spec as object), ports: [{ port: 80 }] } },
      [pod("d", ["10.0.0.1", "fd00::1"])],
      zones,
    );
    assert.deepEqual(
      v4.map((g) => g.addressType),
      ["IPv4"],
    );
  });
});
