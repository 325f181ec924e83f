import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultProxyConfig } from "../../../config/defaults.ts";
import { buildIptablesRuleSet } from "../render/build-iptables-rule-set.ts";
import { RestoreSimulator } from "../testing/restore-simulator.ts";
import { syntheticState } from "../testing/synthetic-state.ts";
import { formatCleanupPayload } from "./cleanup-payload.ts";
import { formatRepairPayload } from "./repair-payload.ts";

const userRules =
  "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:USER - [0:0]\n" +
  "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n-A FORWARD -j USER\n-A USER -s 192.0.2.0/24 -j DROP\nCOMMIT\n" +
  "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n" +
  "-A POSTROUTING -s 198.51.100.0/24 -j MASQUERADE\nCOMMIT\n";

function installedOver(base: string): RestoreSimulator {
  const sim = new RestoreSimulator();
  sim.apply(base);
  const rs = buildIptablesRuleSet(
    syntheticState({ services: 10, endpointsPerService: 2, nodePortEvery: 3 }),
    {
      config: defaultProxyConfig,
      features: {
        randomFully: false,
        nfacct: false,
      },
    },
  );
  sim.apply(formatRepairPayload(rs, sim.dump()).text);
  return sim;
}

describe("formatCleanupPayload", () => {
  it("removes kproxy's jumps and chains and leaves everything else as it was", () => {
    const clean = new RestoreSimulator();
    clean.apply(userRules);
    const sim = installedOver(userRules);
    assert.notEqual(sim.dump(), clean.dump());
    sim.apply(formatCleanupPayload(sim.dump()));
    assert.equal(sim.dump(), clean.dump());
    assert.equal(formatCleanupPayload(sim.dump()), "", "nothing left to remove");
  });

  it("leaves KUBE-FIREWALL and its jumps to kubelet where kubelet manages iptables", () => {
    const sim = installedOver(userRules.replace("*nat\n", "*nat\n:KUBE-KUBELET-CANARY - [0:0]\n"));
    sim.apply(formatCleanupPayload(sim.dump()));
    assert.match(sim.dump(), /^:KUBE-FIREWALL /m);
    assert.match(sim.dump(), /^-A INPUT -j KUBE-FIREWALL$/m);
    assert.doesNotMatch(sim.dump(), /KUBE-SERVICES|KUBE-SVC-|KUBE-SEP-/);
  });

  it("flushes but keeps a chain that someone else's rule jumps to", () => {
    const sim = installedOver(userRules);
    sim.apply("*nat\n-A POSTROUTING -j KUBE-POSTROUTING -m comment --comment user\nCOMMIT\n");
    const payload = formatCleanupPayload(sim.dump());
    assert.doesNotMatch(payload, /^-X KUBE-POSTROUTING$/m);
    sim.apply(payload);
    assert.deepEqual(sim.rules("nat", "KUBE-POSTROUTING"), []);
  });
});
