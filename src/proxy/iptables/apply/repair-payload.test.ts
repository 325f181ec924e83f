import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultProxyConfig } from "../../../config/defaults.ts";
import { buildIptablesRuleSet } from "../render/build-iptables-rule-set.ts";
import { formatFullPayload } from "../render/render-iptables.ts";
import { RestoreSimulator } from "../testing/restore-simulator.ts";
import { syntheticState } from "../testing/synthetic-state.ts";
import { jumpRules } from "./jump-rules.ts";
import { formatRepairPayload } from "./repair-payload.ts";

const config = { ...defaultProxyConfig, clusterCIDRs: ["10.244.0.0/16"] };
const features = { randomFully: true, nfacct: false };
const state = syntheticState({ services: 20, endpointsPerService: 2, nodePortEvery: 4 });
const rs = buildIptablesRuleSet(state, { config, features });
const builtins =
  "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n" +
  "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n";

function installed(): RestoreSimulator {
  const sim = new RestoreSimulator();
  sim.apply(builtins);
  sim.apply(formatRepairPayload(rs, sim.dump()).text);
  return sim;
}

describe("formatRepairPayload", () => {
  it("writes everything, with the top-level jumps, on an empty kernel", () => {
    const repair = formatRepairPayload(rs, builtins);
    const full = formatFullPayload(rs, { canary: true });
    const declared = (t: string) =>
      t
        .split("\n")
        .filter((l) => l.startsWith(":"))
        .sort();
    assert.deepEqual(declared(repair.text), declared(full));
    assert.equal(
      repair.insertedJumps.length,
      jumpRules.length + 2,
      "upstream's jumps and the two KUBE-FIREWALL jumps",
    );
  });

  it("finds nothing to do when the kernel holds the rules, whatever the order in KUBE-SERVICES", () => {
    const sim = installed();
    assert.equal(formatRepairPayload(rs, sim.dump()).text, "");
    const first = sim.rules("nat", "KUBE-SERVICES")?.[0] ?? "";
    sim.apply(`*nat\n-D KUBE-SERVICES ${first}\n-I KUBE-SERVICES 3 ${first}\nCOMMIT\n`);
    assert.equal(formatRepairPayload(rs, sim.dump()).text, "");
  });

  it("rewrites a chain that someone changed, keeps the last KUBE-SERVICES rule last", () => {
    const sim = installed();
    const last = (sim.rules("nat", "KUBE-SERVICES") ?? []).at(-1) ?? "";
    sim.apply(`*nat\n-D KUBE-SERVICES ${last}\n-I KUBE-SERVICES 1 ${last}\nCOMMIT\n`);
    const repair = formatRepairPayload(rs, sim.dump());
    assert.deepEqual(repair.writtenChains, ["KUBE-SERVICES"]);
    sim.apply(repair.text);
    assert.equal(formatRepairPayload(rs, sim.dump()).text, "");
  });

  it("deletes stale per-service chains and re-inserts a deleted jump", () => {
    const sim = installed();
    const jump = jumpRules.find((j) => j.from === "PREROUTING");
    sim.apply(
      `*nat\n:KUBE-SEP-STALE - [0:0]\n-A KUBE-SEP-STALE -j KUBE-MARK-MASQ\n-D PREROUTING ${jump?.spec}\nCOMMIT\n`,
    );
    const repair = formatRepairPayload(rs, sim.dump());
    assert.deepEqual(repair.deletedChains, ["KUBE-SEP-STALE"]);
    assert.deepEqual(repair.insertedJumps, [jump]);
    sim.apply(repair.text);
    assert.equal(formatRepairPayload(rs, sim.dump()).text, "");
  });

  it("keeps a canary in mangle only where that table exists", () => {
    assert.doesNotMatch(formatRepairPayload(rs, builtins).text, /\*mangle/);
    assert.match(
      formatRepairPayload(rs, `${builtins}*mangle\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n`).text,
      /\*mangle\n:KUBE-PROXY-CANARY/,
    );
  });
});

describe("formatRepairPayload at scale", () => {
  it("writes 140,000+ chains on a first sync (no argument-count limits)", () => {
    const big = buildIptablesRuleSet(syntheticState({ services: 13_000, endpointsPerService: 10 }), {
      config,
      features,
    });
    const repair = formatRepairPayload(big, builtins);
    assert.ok(repair.writtenChains.length > 140_000, `${repair.writtenChains.length} chains`);
  });
});
