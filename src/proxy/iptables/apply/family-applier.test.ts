import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultProxyConfig } from "../../../config/defaults.ts";
import { RuleApplyError } from "../../../errors.ts";
import type { Clock } from "../../../sys/clock.ts";
import { silentLogger } from "../../../sys/logger.ts";
import { buildIptablesRuleSet } from "../render/build-iptables-rule-set.ts";
import { simulatedIptables } from "../testing/simulated-iptables.ts";
import { syntheticState, withMovedEndpoint } from "../testing/synthetic-state.ts";
import { IptablesFamilyApplier } from "./family-applier.ts";
import { iptablesTools } from "./iptables-tools.ts";
import { formatRepairPayload } from "./repair-payload.ts";

const config = { ...defaultProxyConfig, clusterCIDRs: ["10.244.0.0/16"] };
const features = { randomFully: false, nfacct: false };

function setup(
  transformPayload?: (p: string) => string,
  partialSyncs?: "kproxy" | "upstream",
  backend: "nft" | "legacy" = "nft",
) {
  const { executor, sim, calls } = simulatedIptables();
  let now = 0;
  const clock: Clock = { now: () => now, setTimeout: () => ({ cancel: () => {} }) };
  const applier = new IptablesFamilyApplier({
    tools: iptablesTools(backend, "IPv4"),
    executor,
    logger: silentLogger(),
    clock,
    auditPeriodMs: 60_000,
    ...(transformPayload === undefined ? {} : { transformPayload }),
    ...(partialSyncs === undefined ? {} : { partialSyncs }),
  });
  return { applier, sim, calls, advance: (ms: number) => (now += ms) };
}

const state = syntheticState({ services: 50, endpointsPerService: 3, nodePortEvery: 5 });
const changed = (keys: string[]) => ({ full: false, changedServices: new Set(keys) });
const full = { full: true, changedServices: new Set<string>() };

describe("IptablesFamilyApplier", () => {
  it("audits on the first sync, then writes differences only", async () => {
    const { applier, sim } = setup();
    const first = await applier.sync(state, { config, features, ...full });
    assert.equal(first.kind, "audit");
    assert.match(
      first.payload,
      /^-I PREROUTING 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES$/m,
    );
    assert.equal(formatRepairPayload(buildIptablesRuleSet(state, { config, features }), sim.dump()).text, "");

    const moved = withMovedEndpoint(state, 3, 1, 1);
    const second = await applier.sync(moved, { config, features, ...changed(["bench/svc-3"]) });
    assert.equal(second.kind, "diff");
    assert.equal(second.servicePorts, 1);
    assert.equal(formatRepairPayload(buildIptablesRuleSet(moved, { config, features }), sim.dump()).text, "");

    const none = await applier.sync(moved, { config, features, ...changed([]) });
    assert.equal(none.payload, "", "a partial sync without changes writes nothing");
    const periodic = await applier.sync(moved, { config, features, ...full });
    assert.equal(periodic.kind, "diff");
    assert.match(periodic.payload, /-D KUBE-PROXY-CANARY -j RETURN/, "a full sync probes the canary");
  });

  it("audits again on full syncs once the audit period has passed", async () => {
    const { applier, advance } = setup();
    await applier.sync(state, { config, features, ...full });
    advance(30_000);
    assert.equal((await applier.sync(state, { config, features, ...full })).kind, "diff");
    advance(30_000);
    assert.equal((await applier.sync(state, { config, features, ...full })).kind, "audit");
  });

  it("repairs everything after someone flushed the tables", async () => {
    const { applier, sim } = setup();
    await applier.sync(state, { config, features, ...full });
    sim.apply("*nat\n-F KUBE-PROXY-CANARY\n-F KUBE-SERVICES\nCOMMIT\n");
    const moved = withMovedEndpoint(state, 4, 0, 1);
    const report = await applier.sync(moved, { config, features, ...changed(["bench/svc-4"]) });
    assert.equal(report.canaryTripped, true);
    assert.equal(report.kind, "audit");
    assert.equal(formatRepairPayload(buildIptablesRuleSet(moved, { config, features }), sim.dump()).text, "");
  });

  it("keeps the previous rules when a restore fails, and audits on the next sync", async () => {
    let fail = false;
    const { applier, sim } = setup((p) =>
      fail ? p.replace(/COMMIT\n$/, "-A NO-SUCH-CHAIN -j RETURN\nCOMMIT\n") : p,
    );
    await applier.sync(state, { config, features, ...full });
    const before = sim.dump();
    fail = true;
    const moved = withMovedEndpoint(state, 2, 2, 1);
    await assert.rejects(
      applier.sync(moved, { config, features, ...changed(["bench/svc-2"]) }),
      (err: unknown) => {
        assert.ok(err instanceof RuleApplyError);
        assert.deepEqual(err.failingLines, ["-A NO-SUCH-CHAIN -j RETURN"]);
        return true;
      },
    );
    assert.equal(sim.dump(), before);
    fail = false;
    const retry = await applier.sync(moved, { config, features, ...full });
    assert.equal(retry.kind, "audit");
    assert.equal(formatRepairPayload(buildIptablesRuleSet(moved, { config, features }), sim.dump()).text, "");
  });

  it("can write partial syncs upstream's way, for benchmarks", async () => {
    const { applier, sim } = setup(undefined, "upstream");
    await applier.sync(state, { config, features, ...full });
    const moved = withMovedEndpoint(state, 3, 1, 1);
    const report = await applier.sync(moved, { config, features, ...changed(["bench/svc-3"]) });
    assert.match(report.payload, /^:KUBE-SERVICES - \[0:0\]$/m);
    assert.equal(formatRepairPayload(buildIptablesRuleSet(moved, { config, features }), sim.dump()).text, "");
  });

  it("checks the small mangle canary instead of writing a probe on legacy full syncs without changes", async () => {
    const { applier, sim, calls } = setup(undefined, undefined, "legacy");
    sim.apply("*mangle\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n");
    await applier.sync(state, { config, features, ...full });
    assert.deepEqual(sim.rules("mangle", "KUBE-PROXY-CANARY"), []);
    calls.length = 0;
    const quiet = await applier.sync(state, { config, features, ...full });
    assert.equal(quiet.payload, "");
    assert.deepEqual(calls, ["iptables-legacy -w 60 -t mangle -S KUBE-PROXY-CANARY"]);
    sim.apply("*mangle\n-X KUBE-PROXY-CANARY\nCOMMIT\n");
    const reset = await applier.sync(state, { config, features, ...full });
    assert.equal(reset.canaryTripped, true);
    assert.equal(reset.kind, "audit");
  });
});
