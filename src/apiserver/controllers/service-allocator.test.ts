import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError } from "../http/api-error.ts";
import type { KubeObject } from "../registry/resource-strategy.ts";
import { ServiceAllocator } from "./service-allocator.ts";
import { heldBy } from "./service-holdings.ts";

function svc(name: string, spec: Record<string, unknown>): KubeObject {
  return { metadata: { name, namespace: "default" }, spec: { ports: [{ name: "p", port: 80 }], ...spec } };
}

/** Specs as the allocator leaves them; the assertions say what they expect. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

const ranges = {
  serviceClusterIPRange: "10.0.0.0/24,fd00::/120",
  serviceNodePortRange: "30000-30009",
  loadBalancerIPRange: "192.0.2.0/30",
};

describe("ServiceAllocator", () => {
  it("allocates a ClusterIP of the primary family, NodePorts and a LoadBalancer IP", () => {
    const a = new ServiceAllocator(ranges);
    const s = svc("lb", { type: "LoadBalancer", externalTrafficPolicy: "Local" });
    a.allocate(s, undefined).commit();
    const spec = s.spec as Loose;
    assert.equal(spec["clusterIP"], "10.0.0.1");
    assert.deepEqual(spec["ipFamilies"], ["IPv4"]);
    assert.equal(spec["ipFamilyPolicy"], "SingleStack");
    assert.equal(spec["ports"][0].nodePort, 30000);
    assert.equal(spec["healthCheckNodePort"], 30001);
    assert.deepEqual((s.status as Record<string, unknown>)["loadBalancer"], {
      ingress: [{ ip: "192.0.2.1", ipMode: "VIP" }],
    });
    assert.deepEqual(heldBy(s).sort(), ["ip:10.0.0.1", "lb:192.0.2.1", "port:30000", "port:30001"]);
  });

  it("allocates both families for PreferDualStack", () => {
    const a = new ServiceAllocator(ranges);
    const s = svc("dual", { ipFamilyPolicy: "PreferDualStack" });
    a.allocate(s, undefined).commit();
    assert.deepEqual((s.spec as Record<string, unknown>)["clusterIPs"], ["10.0.0.1", "fd00::1"]);
    assert.deepEqual((s.spec as Record<string, unknown>)["ipFamilies"], ["IPv4", "IPv6"]);
  });

  it("rolls back what it took when a request cannot be honoured", () => {
    const a = new ServiceAllocator(ranges);
    a.allocate(
      svc("first", { type: "NodePort", ports: [{ port: 80, nodePort: 30005 }] }),
      undefined,
    ).commit();
    const second = svc("second", {
      type: "NodePort",
      clusterIP: "10.0.0.9",
      ports: [{ port: 80, nodePort: 30005 }],
    });
    assert.throws(
      () => a.allocate(second, undefined),
      (e: unknown) =>
        e instanceof ApiError &&
        e.httpCode === 422 &&
        /spec\.ports\[0\]\.nodePort: Invalid value: 30005: provided port is already allocated/.test(
          e.message,
        ),
    );
    const third = svc("third", { clusterIP: "10.0.0.9" });
    a.allocate(third, undefined).commit();
    assert.equal(
      (third.spec as Record<string, unknown>)["clusterIP"],
      "10.0.0.9",
      "the refused request released its ClusterIP",
    );
  });

  it("releases on commit what the old object held and the new one does not", () => {
    const a = new ServiceAllocator(ranges);
    const old = svc("x", { type: "NodePort" });
    a.allocate(old, undefined).commit();
    const next = structuredClone(old);
    (next.spec as Record<string, unknown>)["type"] = "ClusterIP";
    a.allocate(next, old).commit();
    assert.equal((next.spec as Loose)["ports"][0].nodePort, undefined, "unchanged NodePorts are dropped");
    const claim = svc("y", { type: "NodePort", ports: [{ port: 80, nodePort: 30000 }] });
    a.allocate(claim, undefined).commit();
    a.release(next);
    const reuse = svc("z", { clusterIP: "10.0.0.1" });
    a.allocate(reuse, undefined).commit();
  });

  it("rebuilds its state from stored Services", () => {
    const a = new ServiceAllocator(ranges);
    const stored = svc("kept", {
      type: "NodePort",
      clusterIP: "10.0.0.7",
      clusterIPs: ["10.0.0.7"],
      ports: [{ port: 80, nodePort: 30003 }],
    });
    assert.deepEqual(a.restore(stored), []);
    assert.throws(
      () => a.allocate(svc("clash", { clusterIP: "10.0.0.7" }), undefined),
      /provided IP is already allocated/,
    );
    assert.deepEqual(
      a.restore(
        svc("twin", { type: "NodePort", clusterIP: "10.0.0.7", ports: [{ port: 80, nodePort: 30003 }] }),
      ),
      ["default/twin: 10.0.0.7 is taken", "default/twin: 30003 is taken"],
    );
  });
});
