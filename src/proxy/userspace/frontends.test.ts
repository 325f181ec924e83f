import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultProxyConfig } from "../../config/defaults.ts";
import { desiredFrontends } from "./frontends.ts";
import { renderPortalRules } from "./portal-rules.ts";
import { endpointSlices, service, syncRequest, testNode } from "./testing/fixtures.ts";

const node = { ...testNode, nodeIPs: ["192.168.0.2"], localAddresses: ["127.0.0.1/8", "192.168.0.2/24"] };

function frontendsOf(portals: boolean, nodePortAddresses: string[] = []) {
  const request = syncRequest(
    [
      service({ name: "a", clusterIP: "10.96.0.10", port: 80, type: "NodePort", nodePort: 30080 }),
      service({
        name: "b",
        clusterIP: "127.100.0.5",
        port: 53,
        protocol: "UDP",
        externalIPs: ["192.168.0.2"],
      }),
      service({ name: "c", clusterIP: "10.96.0.11", port: 9, protocol: "SCTP" }),
      service({
        name: "d",
        clusterIP: "10.96.0.12",
        port: 443,
        type: "LoadBalancer",
        nodePort: 30443,
        loadBalancerIP: "203.0.113.9",
        loadBalancerSourceRanges: ["198.51.100.0/24"],
      }),
      ...endpointSlices("a", [{ ip: "10.244.0.5", port: 8080 }]),
    ],
    { node },
  );
  const state = request.states[0];
  assert.ok(state);
  return desiredFrontends(state, { ...defaultProxyConfig, nodePortAddresses }, { portals });
}

describe("desiredFrontends", () => {
  it("binds local addresses directly and puts the others behind portals as root", () => {
    const { frontends, skipped } = frontendsOf(true);
    const summary = frontends
      .map(
        (f) => `${f.id} ${f.kind} ${f.binding}${f.sourceRanges.length ? ` ${f.sourceRanges.join(",")}` : ""}`,
      )
      .sort();
    assert.deepEqual(summary, [
      "TCP/0.0.0.0:30080 nodePort direct",
      "TCP/0.0.0.0:30443 nodePort direct",
      "TCP/10.96.0.10:80 clusterIP portal",
      "TCP/10.96.0.12:443 clusterIP portal",
      "TCP/203.0.113.9:443 loadBalancer portal 198.51.100.0/24",
      "UDP/127.100.0.5:53 clusterIP direct",
      "UDP/192.168.0.2:53 externalIP direct",
    ]);
    assert.deepEqual(
      skipped.map((s) => s.servicePortKey),
      ["default/c"],
    );
    assert.match(skipped[0]?.reason ?? "", /SCTP/);
  });

  it("without root skips addresses no interface owns, with the reason", () => {
    const { frontends, skipped } = frontendsOf(false);
    assert.ok(frontends.every((f) => f.binding === "direct"));
    assert.ok(skipped.some((s) => s.address === "10.96.0.10" && /not a local address/.test(s.reason)));
  });

  it("honours nodePortAddresses, including 'primary'", () => {
    const ids = (list: string[]): string[] =>
      frontendsOf(true, list)
        .frontends.filter((f) => f.kind === "nodePort")
        .map((f) => f.id)
        .sort();
    assert.deepEqual(ids(["192.168.0.0/16"]), ["TCP/192.168.0.2:30080", "TCP/192.168.0.2:30443"]);
    assert.deepEqual(ids(["127.0.0.0/8", "primary"]), [
      "TCP/127.0.0.1:30080",
      "TCP/127.0.0.1:30443",
      "TCP/192.168.0.2:30080",
      "TCP/192.168.0.2:30443",
    ]);
  });
});

describe("renderPortalRules", () => {
  it("redirects each portal address:port to its relay port from PREROUTING and OUTPUT", () => {
    const { frontends } = frontendsOf(true);
    const portals = frontends
      .filter((f) => f.binding === "portal")
      .map((f, i) => ({ frontend: f, relayPort: 40000 + i }));
    const text = renderPortalRules(portals);
    assert.equal(
      text,
      [
        "*nat",
        ":KUBE-PORTALS-CONTAINER - [0:0]",
        ":KUBE-PORTALS-HOST - [0:0]",
        ":KUBE-NODEPORT-CONTAINER - [0:0]",
        ":KUBE-NODEPORT-HOST - [0:0]",
        '-A KUBE-PORTALS-CONTAINER -m comment --comment "default/a" -p tcp -m tcp -d 10.96.0.10/32 --dport 80 -j REDIRECT --to-ports 40000',
        '-A KUBE-PORTALS-HOST -m comment --comment "default/a" -p tcp -m tcp -d 10.96.0.10/32 --dport 80 -j REDIRECT --to-ports 40000',
        '-A KUBE-PORTALS-CONTAINER -m comment --comment "default/d" -p tcp -m tcp -d 10.96.0.12/32 --dport 443 -j REDIRECT --to-ports 40001',
        '-A KUBE-PORTALS-HOST -m comment --comment "default/d" -p tcp -m tcp -d 10.96.0.12/32 --dport 443 -j REDIRECT --to-ports 40001',
        '-A KUBE-PORTALS-CONTAINER -m comment --comment "default/d loadBalancer" -p tcp -m tcp -d 203.0.113.9/32 --dport 443 -j REDIRECT --to-ports 40002',
        '-A KUBE-PORTALS-HOST -m comment --comment "default/d loadBalancer" -p tcp -m tcp -d 203.0.113.9/32 --dport 443 -j REDIRECT --to-ports 40002',
        "COMMIT",
        "",
      ].join("\n"),
    );
  });
});
