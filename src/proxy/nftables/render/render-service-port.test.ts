import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultProxyConfig } from "../../../config/defaults.ts";
import type { ProxyConfig } from "../../../config/proxy-config.ts";
import type { NodeInfo } from "../../../model/node-info.ts";
import { fixtureState, type FixtureService } from "../testing/service-fixtures.ts";
import { EndpointBlocks } from "./endpoint-blocks.ts";
import type { NftObjects } from "./nft-ruleset.ts";
import { buildNftablesRuleset } from "./render-nftables.ts";

const node: NodeInfo = {
  name: "node-a",
  labels: {},
  nodeIPs: ["192.168.50.1"],
  podCIDRs: [],
  localAddresses: ["192.168.50.1/24"],
  deleting: false,
};
const config: ProxyConfig = { ...defaultProxyConfig, mode: "nftables", clusterCIDRs: ["10.0.0.0/8"] };

const endpoints = [
  { ip: "10.1.0.1", port: 8080, nodeName: "node-a" },
  { ip: "10.1.0.2", port: 8080, nodeName: "node-b" },
  { ip: "10.1.0.3", port: 8080, nodeName: "node-a", ready: false },
];

/** The objects of one service port rendered with `eps`, with one allocator across renders. */
function render(
  svc: FixtureService,
  eps: FixtureService["endpoints"],
  blocks: EndpointBlocks,
  layout = "kproxy",
): NftObjects {
  const ruleset = buildNftablesRuleset(
    fixtureState([{ ...svc, endpoints: eps }], node),
    { ...config, nftables: { ...config.nftables, layout: layout as "kproxy" | "upstream" } },
    { blocks },
  );
  const objects = [...ruleset.services.values()][0];
  assert.ok(objects);
  return objects;
}

const variants: readonly FixtureService[] = [
  { namespace: "ns", name: "plain", clusterIP: "172.30.0.1", port: 80, endpoints: [] },
  {
    namespace: "ns",
    name: "local",
    clusterIP: "172.30.0.2",
    port: 80,
    type: "LoadBalancer",
    nodePort: 30002,
    loadBalancerIPs: ["203.0.113.2"],
    sourceRanges: ["198.51.100.0/24"],
    externalTrafficPolicyLocal: true,
    endpoints: [],
  },
  {
    namespace: "ns",
    name: "udp",
    clusterIP: "172.30.0.3",
    port: 53,
    protocol: "UDP",
    type: "NodePort",
    nodePort: 30003,
    externalIPs: ["198.18.0.3"],
    endpoints: [],
  },
];

describe("renderServicePort, kproxy layout", () => {
  for (const svc of variants) {
    it(`${svc.name}: endpoint changes change map elements only, never chains or rules`, () => {
      const blocks = new EndpointBlocks();
      const renders = [[], endpoints.slice(0, 1), endpoints.slice(0, 2), endpoints, endpoints.slice(1)].map(
        (eps) => render(svc, eps, blocks),
      );
      const first = renders[0];
      assert.ok(first);
      for (const r of renders) {
        assert.deepEqual(r.chains, first.chains);
        assert.deepEqual(r.sets, []);
      }
      // No endpoint chain: the choice is one rule per chain, and the endpoints are elements.
      assert.ok(first.chains.every((c) => !c.name.startsWith("endpoint-")));
      const choices = first.chains.flatMap((c) => c.rules.filter((r) => r.includes(" map @endpoints-")));
      assert.equal(choices.length, svc.externalTrafficPolicyLocal ? 2 : 1);
      const two = renders[2];
      assert.ok(two);
      const ranges = two.elements.filter((e) => e.set.startsWith("endpoints-"));
      const local = svc.externalTrafficPolicyLocal ? 1 : 0;
      assert.equal(ranges.length, 2 + local, JSON.stringify(ranges));
      assert.ok(ranges.some((e) => e.rest === " : 10.1.0.2 . 8080"));
      assert.deepEqual(
        two.elements.filter((e) => e.set === "hairpin-endpoints").map((e) => e.key),
        ["10.1.0.1 . 10.1.0.1", "10.1.0.2 . 10.1.0.2"],
      );
    });
  }

  it("keeps per-endpoint chains and affinity sets for ClientIP affinity", () => {
    const svc: FixtureService = { ...variants[0], name: "sticky", affinitySeconds: 60 } as FixtureService;
    const objects = render(svc, endpoints.slice(0, 2), new EndpointBlocks());
    assert.equal(objects.sets.length, 2);
    assert.equal(objects.chains.filter((c) => c.name.startsWith("endpoint-")).length, 2);
    // The hairpin check is the shared one after DNAT, not a rule per endpoint chain.
    const endpointRules = objects.chains
      .filter((c) => c.name.startsWith("endpoint-"))
      .flatMap((c) => c.rules);
    assert.ok(
      endpointRules.every((r) => !r.includes("mark-for-masquerade")),
      endpointRules.join("\n"),
    );
    assert.equal(objects.elements.filter((e) => e.set === "hairpin-endpoints").length, 2);
  });

  it("uses no endpoint map in the upstream layout", () => {
    const objects = render(
      variants[0] as FixtureService,
      endpoints.slice(0, 2),
      new EndpointBlocks(),
      "upstream",
    );
    assert.ok(
      objects.elements.every((e) => !e.set.startsWith("endpoints-") && e.set !== "hairpin-endpoints"),
    );
    assert.equal(objects.chains.filter((c) => c.name.startsWith("endpoint-")).length, 2);
  });
});
