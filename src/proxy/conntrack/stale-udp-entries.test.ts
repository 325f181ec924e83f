import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { endpointKey } from "../../model/endpoint.ts";
import type { ProxyState } from "../../model/proxy-state.ts";
import type { ServicePort } from "../../model/service-port.ts";
import type { Executor } from "../../sys/executor.ts";
import { syntheticEndpoint, syntheticServicePort } from "../iptables/testing/synthetic-state.ts";
import { clearStaleUdpConntrack, conntrackDeleteArgs } from "./clear-stale-udp-conntrack.ts";
import { staleUdpEntries } from "./stale-udp-entries.ts";

function udp(i: number, extra: Partial<ServicePort> = {}): ServicePort {
  const s = syntheticServicePort(i);
  return { ...s, name: { ...s.name, protocol: "UDP" }, protocol: "UDP", port: 53, ...extra };
}

function state(services: [ServicePort, number[]][]): ProxyState {
  return {
    family: "IPv4",
    services: new Map(services.map(([s]) => [s.key, s])),
    endpoints: new Map(
      services.map(([s, ports]) => [
        s.key,
        ports.map((p) => ({
          ...syntheticEndpoint(0, 0),
          ip: "10.244.0.5",
          port: p,
          key: endpointKey("10.244.0.5", p),
        })),
      ]),
    ),
    node: { name: "n", labels: {}, nodeIPs: [], podCIDRs: [], localAddresses: [], deleting: false },
    serviceCIDRs: [],
  };
}

describe("staleUdpEntries", () => {
  const svc = udp(1, { nodePort: 30053, externalIPs: ["192.168.99.1"] });

  it("flushes a service's addresses when it gets its first endpoint", () => {
    const entries = staleUdpEntries(state([[svc, []]]), state([[svc, [5353]]]));
    assert.deepEqual(entries.services, [
      { family: "IPv4", ips: [svc.clusterIP, "192.168.99.1"], port: 53, nodePort: 30053 },
    ]);
    assert.deepEqual(entries.endpoints, []);
  });

  it("lists removed endpoints, including scale-to-zero and deleted Services", () => {
    const before = state([[svc, [5353, 5354]]]);
    const expected = (port: number) => ({
      family: "IPv4",
      endpointIP: "10.244.0.5",
      endpointPort: port,
      serviceIPs: [svc.clusterIP, "192.168.99.1"],
      port: 53,
      nodePort: 30053,
    });
    assert.deepEqual(staleUdpEntries(before, state([[svc, [5353]]])).endpoints, [expected(5354)]);
    assert.deepEqual(staleUdpEntries(before, state([[svc, []]])).endpoints, [expected(5353), expected(5354)]);
    assert.deepEqual(staleUdpEntries(before, state([])).endpoints, [expected(5353), expected(5354)]);
  });

  it("ignores TCP and unchanged services", () => {
    const tcp = syntheticServicePort(2);
    const s = state([
      [svc, [5353]],
      [tcp, [80]],
    ]);
    assert.deepEqual(staleUdpEntries(s, s), { services: [], endpoints: [] });
    assert.deepEqual(staleUdpEntries(state([[tcp, []]]), state([[tcp, [80]]])).services, []);
  });

  it("turns entries into conntrack -D filters", () => {
    const args = conntrackDeleteArgs(staleUdpEntries(state([[svc, [5353]]]), state([[svc, []]])));
    assert.deepEqual(args, [
      [
        "-D",
        "-p",
        "udp",
        "--orig-dst",
        svc.clusterIP,
        "--orig-port-dst",
        "53",
        "--reply-src",
        "10.244.0.5",
        "--reply-port-src",
        "5353",
      ],
      [
        "-D",
        "-p",
        "udp",
        "--orig-dst",
        "192.168.99.1",
        "--orig-port-dst",
        "53",
        "--reply-src",
        "10.244.0.5",
        "--reply-port-src",
        "5353",
      ],
      [
        "-D",
        "-p",
        "udp",
        "--orig-port-dst",
        "30053",
        "--reply-src",
        "10.244.0.5",
        "--reply-port-src",
        "5353",
      ],
    ]);
  });

  it("treats 'nothing matched' as success and reports real failures", async () => {
    const executor: Executor = {
      run: async (_file, args) =>
        args.includes("192.168.99.1")
          ? {
              code: 1,
              stdout: "",
              stderr: "conntrack v1.4.7 (conntrack-tools): Operation failed: invalid parameters",
            }
          : {
              code: args.includes("30053") ? 1 : 0,
              stdout: "",
              stderr: `conntrack v1.4.7 (conntrack-tools): ${args.includes("30053") ? 0 : 2} flow entries have been deleted.`,
            },
    };
    const r = await clearStaleUdpConntrack(
      executor,
      staleUdpEntries(state([[svc, [5353]]]), state([[svc, []]])),
    );
    assert.equal(r.deleted, 2);
    assert.equal(r.failures.length, 1);
    assert.match(r.failures[0] ?? "", /192\.168\.99\.1.*invalid parameters/);
  });
});
