// Stale UDP conntrack entries with real UDP flows: a client keeps sending from one source port
// (one conntrack entry, refreshed by every packet) while the Service's endpoints change.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { defaultProxyConfig } from "../../src/config/defaults.ts";
import { endpointKey } from "../../src/model/endpoint.ts";
import type { ProxyState } from "../../src/model/proxy-state.ts";
import type { IptablesBackend } from "../../src/proxy/iptables/apply/iptables-tools.ts";
import {
  createIptablesProxierWith,
  type IptablesProxier,
} from "../../src/proxy/iptables/iptables-proxier.ts";
import { netnsExecutor } from "../../src/proxy/iptables/testing/netns.ts";
import { syntheticEndpoint, syntheticServicePort } from "../../src/proxy/iptables/testing/synthetic-state.ts";
import { createVethLab, type VethLab } from "../../src/proxy/iptables/testing/veth-lab.ts";
import { createExecutor } from "../../src/sys/executor.ts";
import { systemClock } from "../../src/sys/clock.ts";
import { silentLogger } from "../../src/sys/logger.ts";
import { missingRequirement, suiteSkip } from "../support/requirements.ts";

const requirement = missingRequirement({
  root: true,
  commands: ["ip", "conntrack", "iptables-nft-restore", "iptables-legacy-restore"],
});
const serviceIP = "10.96.0.53";

/** A UDP service `serviceIP:53` (absent when `ports` is undefined) with endpoints on the node's ports. */
function udpState(lab: VethLab, ports: number[] | undefined): ProxyState {
  const svc = { ...syntheticServicePort(0), clusterIP: serviceIP, port: 53, protocol: "UDP" as const };
  const name = { ...svc.name, protocol: "UDP" as const };
  const service = { ...svc, name };
  const eps = (ports ?? []).map((port) => ({
    ...syntheticEndpoint(0, 0),
    ip: lab.nodeIP,
    port,
    key: endpointKey(lab.nodeIP, port),
  }));
  return {
    family: "IPv4",
    services: ports === undefined ? new Map() : new Map([[service.key, service]]),
    endpoints: ports === undefined ? new Map() : new Map([[service.key, eps]]),
    node: {
      name: "node-a",
      labels: {},
      nodeIPs: [lab.nodeIP],
      podCIDRs: [],
      localAddresses: [`${lab.nodeIP}/24`],
      deleting: false,
    },
    serviceCIDRs: [],
  };
}

for (const backend of ["legacy", "nft"] as const satisfies readonly IptablesBackend[]) {
  describe(`stale UDP conntrack entries (${backend})`, suiteSkip(requirement), () => {
    let lab: VethLab;
    let proxier: IptablesProxier;
    const sync = (state: ProxyState, full = false): Promise<void> =>
      proxier.sync({ states: [state], full, changedServices: new Set(["bench/svc-0"]) });
    const entries = (): string =>
      lab.node.exec("conntrack", ["-L", "-p", "udp", "--orig-dst", serviceIP]).trim();
    // Every request uses the same source port: the same flow, the same conntrack entry.
    const ask = (): Promise<string> => lab.ask("udp", serviceIP, 53, { sourcePort: 40053, timeoutMs: 700 });

    before(async () => {
      if (requirement !== undefined) throw new Error(`Cannot run: ${requirement}`);
      lab = createVethLab("iptct");
      lab.node.exec("sysctl", ["-w", "net.ipv4.ip_forward=1"]);
      // A default route into a veth pair whose other end goes nowhere, like a node's uplink:
      // packets to unknown addresses leave the node (and their conntrack entries are confirmed).
      lab.node.exec("ip", ["link", "add", "kpu0", "type", "veth", "peer", "name", "kpu1"]);
      lab.node.exec("ip", ["addr", "add", "10.78.0.1/24", "dev", "kpu0"]);
      lab.node.exec("ip", ["link", "set", "kpu0", "up"]);
      lab.node.exec("ip", ["link", "set", "kpu1", "up"]);
      lab.node.exec("ip", ["neigh", "add", "10.78.0.2", "lladdr", "02:00:00:00:00:01", "dev", "kpu0"]);
      lab.node.exec("ip", ["route", "add", "default", "via", "10.78.0.2"]);
      await lab.serve("udp", 5301, "udp-one");
      await lab.serve("udp", 5302, "udp-two");
      proxier = await createIptablesProxierWith(
        {
          config: { ...defaultProxyConfig, clusterCIDRs: ["10.244.0.0/16"] },
          executor: netnsExecutor(createExecutor(), lab.node.name),
          logger: silentLogger(),
          metrics: new Registry(),
          clock: systemClock,
        },
        { backend },
      );
    });
    after(() => lab?.close());

    it("moves a flow to the new endpoint when its endpoint is replaced", async () => {
      await sync(udpState(lab, [5301]), true);
      assert.equal(await ask(), "udp-one");
      await sync(udpState(lab, [5302]));
      assert.equal(await ask(), "udp-two", "the old entry still DNATed to the removed endpoint");
    });

    it("deletes the entries of a flow when the Service scales to zero (kubernetes#139628)", async () => {
      assert.match(entries(), /sport=40053/);
      await sync(udpState(lab, []));
      assert.doesNotMatch(entries(), /sport=40053/, "no entry may keep DNATing to the gone endpoint");
    });

    it("deletes the entries of a flow when the Service is deleted", async () => {
      assert.equal(await ask(), "", "no endpoints: rejected");
      await sync(udpState(lab, [5301]));
      assert.equal(await ask(), "udp-one");
      assert.match(entries(), /sport=40053/);
      await sync(udpState(lab, undefined));
      assert.doesNotMatch(entries(), /sport=40053/);
    });

    it("answers a flow that started before the Service had rules, once it has an endpoint", async () => {
      // Without rules the packets follow the node's default route and leave an entry without DNAT.
      assert.equal(await ask(), "");
      assert.match(entries(), /sport=40053.*\[UNREPLIED\]/);
      await sync(udpState(lab, [5302]));
      assert.equal(await ask(), "udp-two", "the entry without DNAT was not deleted");
    });
  });
}
