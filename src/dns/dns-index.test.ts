import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DnsIndex } from "./dns-index.ts";
import { clusterIPService, endpointSlice, headlessService } from "./testing/dns-fixtures.ts";

const zone = "cluster.local";
const newIndex = (): DnsIndex => new DnsIndex({ zone, endpointPodNames: false, externalNameIPs: false });

describe("DnsIndex", () => {
  it("adds, updates and removes a Service's names as its objects change", () => {
    const index = newIndex();
    const svc = headlessService("default", "hl", [{ name: "http", port: 80 }]);
    index.upsertService(svc);
    assert.equal(index.lookup("hl.default.svc.cluster.local"), undefined, "no endpoints yet");
    const slice = endpointSlice(
      "default",
      "hl",
      "hl-1",
      [{ ip: "10.0.0.1" }, { ip: "10.0.0.2" }],
      [{ name: "http", port: 80 }],
    );
    index.upsertEndpointSlice(slice);
    assert.deepEqual(index.lookup("hl.default.svc.cluster.local")?.a, ["10.0.0.1", "10.0.0.2"]);
    assert.deepEqual(index.lookupReverse("2.0.0.10.in-addr.arpa"), ["10-0-0-2.hl.default.svc.cluster.local"]);
    // Scale down: the removed endpoint's name and PTR go with it.
    index.upsertEndpointSlice(
      endpointSlice("default", "hl", "hl-1", [{ ip: "10.0.0.1" }], [{ name: "http", port: 80 }]),
    );
    assert.deepEqual(index.lookup("hl.default.svc.cluster.local")?.a, ["10.0.0.1"]);
    assert.equal(index.lookup("10-0-0-2.hl.default.svc.cluster.local"), undefined);
    assert.equal(index.lookupReverse("2.0.0.10.in-addr.arpa"), undefined);
    index.deleteService(svc);
    assert.equal(index.lookup("hl.default.svc.cluster.local"), undefined);
    assert.equal(index.lookup("10-0-0-1.hl.default.svc.cluster.local"), undefined);
    assert.equal(index.lookupReverse("1.0.0.10.in-addr.arpa"), undefined);
    assert.equal(index.namespaceExists("default"), false);
  });

  it("keeps slices that arrive before their Service, and follows a slice moved to another Service", () => {
    const index = newIndex();
    index.upsertEndpointSlice(endpointSlice("default", "a", "s1", [{ ip: "10.0.0.1" }], []));
    index.upsertService(headlessService("default", "a", []));
    index.upsertService(headlessService("default", "b", []));
    assert.deepEqual(index.lookup("a.default.svc.cluster.local")?.a, ["10.0.0.1"]);
    index.upsertEndpointSlice(endpointSlice("default", "b", "s1", [{ ip: "10.0.0.1" }], []));
    assert.equal(index.lookup("a.default.svc.cluster.local"), undefined);
    assert.deepEqual(index.lookup("b.default.svc.cluster.local")?.a, ["10.0.0.1"]);
    index.deleteEndpointSlice(endpointSlice("default", "b", "s1", [], []));
    assert.equal(index.lookup("b.default.svc.cluster.local"), undefined);
  });

  it("answers a PTR shared by two Services with both names, and drops only the deleted one", () => {
    const index = newIndex();
    const a = headlessService("default", "a", []);
    index.upsertService(a);
    index.upsertService(clusterIPService("default", "b", ["10.96.0.2"], [{ port: 80 }]));
    index.upsertEndpointSlice(endpointSlice("default", "a", "sa", [{ ip: "10.0.0.9" }], []));
    index.upsertEndpointSlice(endpointSlice("default", "b", "sb", [{ ip: "10.0.0.9" }], []));
    assert.deepEqual([...(index.lookupReverse("9.0.0.10.in-addr.arpa") ?? [])].sort(), [
      "10-0-0-9.a.default.svc.cluster.local",
      "10-0-0-9.b.default.svc.cluster.local",
    ]);
    index.deleteService(a);
    assert.deepEqual(index.lookupReverse("9.0.0.10.in-addr.arpa"), ["10-0-0-9.b.default.svc.cluster.local"]);
  });

  it("tracks namespaces and Pod IPs", () => {
    const index = newIndex();
    index.upsertNamespace({ metadata: { name: "empty" } });
    assert.equal(index.namespaceExists("empty"), true);
    const pod = {
      metadata: { namespace: "apps", name: "p" },
      status: { phase: "Running", podIPs: [{ ip: "10.1.0.5" }, { ip: "fd00:0::5" }] },
    };
    index.upsertPod(pod);
    assert.equal(index.podIPExists("apps", "10.1.0.5"), true);
    assert.equal(index.podIPExists("apps", "fd00::5"), true);
    assert.equal(index.podIPExists("other", "10.1.0.5"), false);
    assert.equal(index.namespaceExists("apps"), true);
    const done = { ...pod, status: { ...pod.status, phase: "Succeeded" } };
    index.upsertPod(done, pod);
    assert.equal(index.podIPExists("apps", "10.1.0.5"), false);
    index.deletePod(done);
    assert.equal(index.namespaceExists("apps"), false);
  });
});
