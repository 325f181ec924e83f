// Must-show 3 of the nftables issue: a one-endpoint change among many services sends a
// transaction whose size does not depend on the number of services, made only of map and set
// element operations (behaviour, not timing: the timings are in bench/nftables.bench.ts).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Registry } from "prom-client";
import { defaultProxyConfig } from "../../src/config/defaults.ts";
import type { NodeInfo } from "../../src/model/node-info.ts";
import { newNftablesProxier } from "../../src/proxy/nftables/nftables-proxier.ts";
import { createTestNetns, removeAll, type TestNetns } from "../../src/proxy/nftables/testing/netns.ts";
import {
  fixtureState,
  manyServices,
  type FixtureService,
} from "../../src/proxy/nftables/testing/service-fixtures.ts";
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

/** The one-endpoint changes of the issue, each applied to the previous state of service 500. */
const changes: readonly { name: string; endpoints: (s: FixtureService) => FixtureService["endpoints"] }[] = [
  { name: "endpoint added", endpoints: (s) => [...s.endpoints, { ip: "10.250.0.1", port: 8080 }] },
  {
    name: "endpoint not ready",
    endpoints: (s) => s.endpoints.map((e, i) => (i === 0 ? { ...e, ready: false } : e)),
  },
  { name: "endpoint removed", endpoints: (s) => s.endpoints.slice(0, -1) },
  // The last ready endpoint goes (the service now rejects), then one becomes ready again.
  { name: "last endpoint removed", endpoints: (s) => s.endpoints.slice(0, 1) },
  { name: "endpoint ready again", endpoints: (s) => s.endpoints.map((e) => ({ ...e, ready: true })) },
];

interface ChangeResult {
  readonly name: string;
  readonly text: string;
  readonly kinds: readonly string[];
  readonly path: string;
}

describe("nftables partial sync size at scale", suiteSkip(requirement), () => {
  const namespaces: TestNetns[] = [];
  after(() => removeAll(namespaces));

  /** Loads `n` services, then applies each change to one service; returns each sync's transaction. */
  async function oneEndpointChanges(n: number): Promise<{ results: ChangeResult[]; endpointMap: string }> {
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
    const results: ChangeResult[] = [];
    let endpointMap = "";
    for (const change of changes) {
      const target = services[index];
      assert.ok(target !== undefined);
      services[index] = { ...target, endpoints: change.endpoints(target) };
      await proxier.sync({
        states: [fixtureState(services, node)],
        full: false,
        changedServices: new Set([`${target.namespace}/${target.name}`]),
      });
      results.push({
        name: change.name,
        text: proxier.lastTransaction,
        kinds: proxier.lastPlanKinds,
        path: proxier.lastApplyPath,
      });
      if (change.name === "endpoint added") {
        const map = /element ip kproxy (endpoints-tcp-\d+) /.exec(proxier.lastTransaction)?.[1] ?? "";
        endpointMap = await ns.exec("nft", ["list", "map", "ip", "kproxy", map]);
      }
    }
    await proxier.close();
    await ns.remove();
    return { results, endpointMap };
  }

  it("sends the same element-only transaction for one-endpoint changes at 1,000 and at 10,000 services", async (t) => {
    const small = await oneEndpointChanges(1000);
    const large = await oneEndpointChanges(10_000);
    for (const [i, change] of changes.entries()) {
      const s = small.results[i];
      const l = large.results[i];
      assert.ok(s !== undefined && l !== undefined);
      assert.deepEqual(s.kinds, ["partial"], change.name);
      assert.deepEqual(l.kinds, ["partial"], change.name);
      assert.equal(l.text, s.text, `${change.name}: 1,000:\n${s.text}\n10,000:\n${l.text}`);
      const lines = l.text.split("\n").filter(Boolean);
      // Only map and set elements: no chain and no rule is added, flushed or deleted.
      assert.deepEqual(
        lines.filter((line) => !/^(add|delete) element ip kproxy /.test(line)),
        [],
        `${change.name}:\n${l.text}`,
      );
      assert.ok(lines.length > 0 && lines.length <= 8, `${change.name}:\n${l.text}`);
      assert.equal(l.path, "netlink", change.name);
      t.diagnostic(`${change.name}: ${lines.length} commands, ${l.text.length} bytes, sent by ${l.path}`);
    }
    // The added endpoint owns a third of the service's numbers, and the kernel has it.
    assert.match(
      large.results[0]?.text ?? "",
      /^add element ip kproxy endpoints-tcp-\d+ \{ \d+-\d+ : 10\.250\.0\.1 \. 8080 \}$/m,
    );
    assert.match(large.endpointMap, /10\.250\.0\.1 \. 8080/);
    // Not ready: the first endpoint's numbers go to the others, and its hairpin pair goes.
    assert.doesNotMatch(large.results[1]?.text ?? "", /: 10\.100\./);
    assert.match(
      large.results[1]?.text ?? "",
      /^delete element ip kproxy hairpin-endpoints \{ 10\.100\.1\.244 \. 10\.100\.1\.244 \}$/m,
    );
    // Removed: the one endpoint left gets every number.
    assert.match(
      large.results[2]?.text ?? "",
      /^add element ip kproxy endpoints-tcp-\d+ \{ (\d+)-\d+ : 10\.101\.1\.244 \. 8080 \}$/m,
    );
    // No endpoint left: the service's address now goes to reject-chain; and back.
    assert.match(
      large.results[3]?.text ?? "",
      /^delete element ip kproxy service-ips \{ 172\.16\.1\.244 \. tcp \. 80 \}$/m,
    );
    assert.match(
      large.results[3]?.text ?? "",
      /^add element ip kproxy no-endpoint-services \{ 172\.16\.1\.244 .* : goto reject-chain \}$/m,
    );
    assert.match(
      large.results[4]?.text ?? "",
      /^add element ip kproxy service-ips \{ 172\.16\.1\.244 \. tcp \. 80 : goto service-/m,
    );
  });
});
