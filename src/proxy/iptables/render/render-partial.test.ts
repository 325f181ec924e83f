import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultProxyConfig } from "../../../config/defaults.ts";
import type { ProxyState } from "../../../model/proxy-state.ts";
import type { KernelFeatures } from "../../kernel-features.ts";
import { lineDiff } from "../testing/line-diff.ts";
import { RestoreSimulator } from "../testing/restore-simulator.ts";
import { syntheticServicePort, syntheticState, withMovedEndpoint } from "../testing/synthetic-state.ts";
import { buildIptablesRuleSet } from "./build-iptables-rule-set.ts";
import { formatFullPayload } from "./render-iptables.ts";
import { formatPartialPayload, partialSyncPossible } from "./render-partial.ts";
import { sortIptablesRules } from "./sort-iptables-rules.ts";
import { formatUpstreamPartialPayload } from "./upstream-partial-payload.ts";

const config = { ...defaultProxyConfig, clusterCIDRs: ["10.244.0.0/16"] };
const features: KernelFeatures = { randomFully: true, nfacct: false };

/** Applies full(prev) then partial(prev→next) and checks the result equals full(next). */
function assertPartialEqualsFull(prevState: ProxyState, nextState: ProxyState, changed: string[]): string {
  const prev = buildIptablesRuleSet(prevState, { config, features });
  const next = buildIptablesRuleSet(nextState, {
    config,
    features,
    reuse: {
      previous: prev,
      changedServices: new Set(changed),
    },
  });
  const sim = new RestoreSimulator();
  sim.apply(formatFullPayload(prev, { canary: true }));
  const partial = formatPartialPayload(prev, next, { canaryProbe: true });
  sim.apply(partial.text);
  const expected = new RestoreSimulator();
  expected.apply(formatFullPayload(next, { canary: true }));
  const a = sortIptablesRules(sim.dump());
  const e = sortIptablesRules(expected.dump());
  if (a !== e) assert.fail(`partial sync result differs from a full sync:\n${lineDiff(e, a)}`);
  return partial.text;
}

describe("formatPartialPayload", () => {
  const base = syntheticState({ services: 1000, endpointsPerService: 10, nodePortEvery: 10 });

  it("rewrites only the chains of the one service whose endpoint changed, among 1,000", () => {
    const moved = withMovedEndpoint(base, 123, 4, 1);
    const changed = syntheticServicePort(123);
    const text = assertPartialEqualsFull(base, moved, [changed.serviceKey]);
    const prev = buildIptablesRuleSet(base, { config, features });
    const next = buildIptablesRuleSet(moved, {
      config,
      features,
      reuse: {
        previous: prev,
        changedServices: new Set([changed.serviceKey]),
      },
    });
    const partial = formatPartialPayload(prev, next);
    assert.deepEqual(partial.servicePorts, [changed.key]);
    // The service chain and the new endpoint's chain are written; the old endpoint chain goes.
    assert.equal(partial.writtenChains.length, 2);
    assert.ok(partial.writtenChains.every((c) => /^KUBE-(SVC|SEP)-/.test(c)));
    assert.equal(partial.deletedChains.length, 1);
    assert.equal(partial.dispatchEdits, 0, "KUBE-SERVICES is not touched: the ClusterIP rule is unchanged");
    // No other service appears in the payload.
    const others = text.split("\n").filter((l) => /bench\/svc-/.test(l) && !l.includes("bench/svc-123:"));
    assert.deepEqual(others, []);
    assert.ok(text.split("\n").length < 40, `payload is small:\n${text}`);
  });

  it("adds a new service with single-rule inserts above the last KUBE-SERVICES rule", () => {
    const services = new Map(base.services);
    const endpoints = new Map(base.endpoints);
    const extra = syntheticState({ services: 1001, endpointsPerService: 2, nodePortEvery: 10 });
    const svc = syntheticServicePort(1000, { nodePort: 31000 });
    services.set(svc.key, svc);
    endpoints.set(svc.key, extra.endpoints.get(svc.key) ?? []);
    const text = assertPartialEqualsFull(base, { ...base, services, endpoints }, [svc.serviceKey]);
    assert.match(text, /^-I KUBE-SERVICES 1 -m comment --comment "bench\/svc-1000:http cluster IP" /m);
    assert.match(
      text,
      /^-A KUBE-NODEPORTS -m comment --comment bench\/svc-1000:http -m tcp -p tcp --dport 31000 /m,
    );
    assert.doesNotMatch(text, /^:KUBE-SERVICES /m, "the dispatch chain is not redeclared");
  });

  it("deletes a removed service's rules and chains", () => {
    const services = new Map(base.services);
    const svc = syntheticServicePort(10);
    services.delete(svc.key);
    const text = assertPartialEqualsFull(base, { ...base, services }, [svc.serviceKey]);
    assert.equal(
      text.split("\n").filter((l) => l.startsWith("-X ")).length,
      12,
      "SVC, EXT and 10 SEP chains",
    );
    assert.equal(
      text.split("\n").filter((l) => l.startsWith("-D KUBE-")).length,
      2 + 2,
      "ClusterIP, NodePort, canary probes",
    );
  });

  it("turns a service without endpoints into a REJECT rule and back", () => {
    const endpoints = new Map(base.endpoints);
    const svc = syntheticServicePort(7);
    endpoints.set(svc.key, []);
    const text = assertPartialEqualsFull(base, { ...base, endpoints }, [svc.serviceKey]);
    assert.match(
      text,
      /^-A KUBE-SERVICES -m comment --comment "bench\/svc-7:http has no endpoints" .* -j REJECT$/m,
    );
    assertPartialEqualsFull({ ...base, endpoints }, base, [svc.serviceKey]);
  });

  it("writes nothing but the canary probe when nothing changed", () => {
    const prev = buildIptablesRuleSet(base, { config, features });
    const next = buildIptablesRuleSet(base, { config, features });
    assert.equal(formatPartialPayload(prev, next).text, "");
    assert.equal(
      formatPartialPayload(prev, next, { canaryProbe: true }).text,
      "*filter\n-D KUBE-PROXY-CANARY -j RETURN\n-A KUBE-PROXY-CANARY -j RETURN\nCOMMIT\n" +
        "*nat\n-D KUBE-PROXY-CANARY -j RETURN\n-A KUBE-PROXY-CANARY -j RETURN\nCOMMIT\n",
    );
  });

  it("fails the probe when someone flushed the table", () => {
    const prev = buildIptablesRuleSet(base, { config, features });
    const sim = new RestoreSimulator();
    sim.apply(formatFullPayload(prev, { canary: true }));
    sim.apply("*nat\n-F KUBE-PROXY-CANARY\nCOMMIT\n");
    const next = buildIptablesRuleSet(withMovedEndpoint(base, 1, 1, 1), { config, features });
    assert.throws(
      () => sim.apply(formatPartialPayload(prev, next, { canaryProbe: true }).text),
      /line \d+ failed/,
    );
  });

  it("needs a full sync when the context changes (e.g. large-cluster mode or configuration)", () => {
    const prev = buildIptablesRuleSet(base, { config, features });
    const other = buildIptablesRuleSet(base, {
      config: { ...config, clusterCIDRs: ["10.0.0.0/8"] },
      features,
    });
    assert.equal(partialSyncPossible(prev, other), false);
    assert.throws(() => formatPartialPayload(prev, other), /full sync/);
    const small = syntheticState({ services: 50, endpointsPerService: 10 });
    assert.equal(
      partialSyncPossible(
        buildIptablesRuleSet(small, { config, features }),
        buildIptablesRuleSet(base, { config, features }),
      ),
      false,
      "crossing 1,000 endpoints changes the comments of every endpoint rule",
    );
  });

  it("reuses unchanged services by reference", () => {
    const prev = buildIptablesRuleSet(base, { config, features });
    const next = buildIptablesRuleSet(withMovedEndpoint(base, 5, 0, 1), {
      config,
      features,
      reuse: {
        previous: prev,
        changedServices: new Set(["bench/svc-5"]),
      },
    });
    const key = syntheticServicePort(6).key;
    assert.equal(next.services.get(key), prev.services.get(key));
    assert.notEqual(
      next.services.get(syntheticServicePort(5).key),
      prev.services.get(syntheticServicePort(5).key),
    );
  });
});

describe("formatUpstreamPartialPayload (the benchmark's reference)", () => {
  it("rewrites KUBE-SERVICES in full, and reaches the same state", () => {
    const base = syntheticState({ services: 200, endpointsPerService: 3, nodePortEvery: 10 });
    const moved = withMovedEndpoint(base, 20, 1, 1);
    const prev = buildIptablesRuleSet(base, { config, features });
    const next = buildIptablesRuleSet(moved, {
      config,
      features,
      reuse: {
        previous: prev,
        changedServices: new Set(["bench/svc-20"]),
      },
    });
    const text = formatUpstreamPartialPayload(prev, next);
    assert.match(text, /^:KUBE-SERVICES - \[0:0\]$/m);
    assert.equal(text.split("\n").filter((l) => l.startsWith("-A KUBE-SERVICES ")).length, 201);
    const sim = new RestoreSimulator();
    sim.apply(formatFullPayload(prev));
    sim.apply(text);
    const expected = new RestoreSimulator();
    expected.apply(formatFullPayload(next));
    assert.equal(sortIptablesRules(sim.dump()), sortIptablesRules(expected.dump()));
  });
});
