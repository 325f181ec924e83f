// Must-show 3 of the nftables issue: a one-endpoint change among many services sends a
// transaction whose size does not depend on the number of services (behaviour, not timing:
// the timings are in bench/nftables.bench.ts).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Registry } from "prom-client";
import { defaultProxyConfig } from "../../src/config/defaults.ts";
import type { NodeInfo } from "../../src/model/node-info.ts";
import { newNftablesProxier } from "../../src/proxy/nftables/nftables-proxier.ts";
import { servicePortNames } from "../../src/proxy/nftables/render/chain-names.ts";
import { createTestNetns, removeAll, type TestNetns } from "../../src/proxy/nftables/testing/netns.ts";
import { fixtureState, manyServices } from "../../src/proxy/nftables/testing/service-fixtures.ts";
import { systemClock } from "../../src/sys/clock.ts";
import { silentLogger } from "../../src/sys/logger.ts";
import { missingRequirement, suiteSkip } from "../support/requirements.ts";

const requirement = missingRequirement({ root: true, commands: ["nft", "ip"] });
const node: NodeInfo = {
  name: "node-a",
  labels: {},
  nodeIPs: ["192.168.50.1"],
  podCIDRs: [],
  localAddresses: ["192.168.50.1/24"],
  deleting: false,
};

describe("nftables partial sync size at scale", suiteSkip(requirement), () => {
  const namespaces: TestNetns[] = [];
  after(() => removeAll(namespaces));

  /** Loads `n` services, then moves one endpoint of one service; returns that sync's transaction. */
  async function oneEndpointChange(
    n: number,
  ): Promise<{ text: string; kinds: readonly string[]; chain: string }> {
    const ns = await createTestNetns("nftscale");
    namespaces.push(ns);
    const proxier = await newNftablesProxier(
      {
        config: { ...defaultProxyConfig, mode: "nftables", clusterCIDRs: ["10.0.0.0/8"] },
        executor: ns.executor,
        logger: silentLogger(),
        metrics: new Registry(),
        clock: systemClock,
      },
      { netnsName: ns.name },
    );
    const services = manyServices(n);
    await proxier.sync({ states: [fixtureState(services, node)], full: true, changedServices: new Set() });
    // The same service (by name) in both sizes, so that names have the same length.
    const index = 500;
    const target = services[index];
    assert.ok(target !== undefined);
    const moved = {
      ...target,
      endpoints: [target.endpoints[0], { ip: "10.250.0.1", port: 8080 }].flatMap((e) => e ?? []),
    };
    services[index] = moved;
    await proxier.sync({
      states: [fixtureState(services, node)],
      full: false,
      changedServices: new Set([`${target.namespace}/${target.name}`]),
    });
    const chain = servicePortNames({
      namespace: target.namespace,
      name: target.name,
      port: "p",
      protocol: "TCP",
    }).cluster;
    const listed = await ns.exec("nft", ["list", "chain", "ip", "kproxy", chain]);
    await ns.remove();
    return { text: proxier.lastTransaction, kinds: proxier.lastPlanKinds, chain: listed };
  }

  it("sends the same transaction for a one-endpoint change at 1,000 and at 10,000 services", async () => {
    const small = await oneEndpointChange(1000);
    const large = await oneEndpointChange(10_000);
    assert.deepEqual(small.kinds, ["partial"]);
    assert.deepEqual(large.kinds, ["partial"]);
    assert.equal(large.text.length, small.text.length, `1,000:\n${small.text}\n10,000:\n${large.text}`);
    assert.equal(large.text, small.text);
    // Only that service's chains: its service chain rewritten, one endpoint chain added, one flushed.
    assert.ok(large.text.split("\n").filter(Boolean).length <= 8, large.text);
    assert.match(large.text, /^add chain ip kproxy endpoint-\S+__10\.250\.0\.1\/8080$/m);
    // And the kernel has it.
    assert.match(large.chain, /10\.250\.0\.1\/8080/);
  });
});
