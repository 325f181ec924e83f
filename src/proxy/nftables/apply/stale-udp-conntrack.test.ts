import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { NodeInfo } from "../../../model/node-info.ts";
import { fixtureState, type FixtureService } from "../testing/service-fixtures.ts";
import { staleUdpFlows } from "./stale-udp-conntrack.ts";

const node: NodeInfo = {
  name: "n",
  labels: {},
  nodeIPs: [],
  podCIDRs: [],
  localAddresses: [],
  deleting: false,
};
const dns = (endpoints: FixtureService["endpoints"], protocol: "UDP" | "TCP" = "UDP"): FixtureService => ({
  namespace: "kube-system",
  name: "dns",
  clusterIP: "10.96.0.10",
  port: 53,
  protocol,
  type: "NodePort",
  nodePort: 30053,
  endpoints,
});
const key = "kube-system/dns:p";

describe("staleUdpFlows", () => {
  it("forgets flows NATed to a removed endpoint, on the service address and the NodePort", () => {
    const before = fixtureState(
      [
        dns([
          { ip: "10.1.0.1", port: 53 },
          { ip: "10.1.0.2", port: 53 },
        ]),
      ],
      node,
    );
    const after = fixtureState([dns([{ ip: "10.1.0.2", port: 53 }])], node);
    assert.deepEqual(staleUdpFlows(before, after, [key]), [
      { origDst: "10.96.0.10", dstNat: "10.1.0.1" },
      { origPortDst: 30053, dstNat: "10.1.0.1" },
    ]);
  });

  it("forgets un-NATed flows when a service gets its first endpoint", () => {
    const before = fixtureState([dns([])], node);
    const after = fixtureState([dns([{ ip: "10.1.0.1", port: 53 }])], node);
    assert.deepEqual(staleUdpFlows(before, after, [key]), [
      { origDst: "10.96.0.10", origPortDst: 53 },
      { origPortDst: 30053 },
    ]);
  });

  it("covers a deleted service, and leaves TCP alone", () => {
    const before = fixtureState([dns([{ ip: "10.1.0.1", port: 53 }])], node);
    assert.equal(staleUdpFlows(before, fixtureState([], node), [key]).length, 2);
    const tcp = fixtureState([dns([{ ip: "10.1.0.1", port: 53 }], "TCP")], node);
    assert.deepEqual(staleUdpFlows(tcp, fixtureState([dns([], "TCP")], node), [key]), []);
  });
});
