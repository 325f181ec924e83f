// Must-show 4: a restore that fails (an unsupported match, as on a kernel missing a module) leaves
// the old rules serving real traffic, increments the failure metric, and the next (full) sync
// recovers. Packets go from a client namespace through a veth pair into a node namespace.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { defaultProxyConfig } from "../../src/config/defaults.ts";
import { RuleApplyError } from "../../src/errors.ts";
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
  commands: [
    "ip",
    "iptables-nft-restore",
    "iptables-legacy-restore",
    "iptables-nft-save",
    "iptables-legacy-save",
  ],
});

const bogusRule = "-A KUBE-SERVICES -m comment --comment kproxy-test -m nosuchmatch --nosuchoption -j ACCEPT";

/** One ClusterIP service 10.96.0.10:80 whose endpoint is the node's backend on `port`. */
function stateWithBackend(lab: VethLab, port: number): ProxyState {
  const svc = { ...syntheticServicePort(0), clusterIP: "10.96.0.10" };
  const ep = { ...syntheticEndpoint(0, 0), ip: lab.nodeIP, port, key: endpointKey(lab.nodeIP, port) };
  return {
    family: "IPv4",
    services: new Map([[svc.key, svc]]),
    endpoints: new Map([[svc.key, [ep]]]),
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
  describe(`a failed iptables-restore (${backend})`, suiteSkip(requirement), () => {
    let lab: VethLab;
    let proxier: IptablesProxier;
    let metrics: Registry;
    let injectFailure = false;

    before(async () => {
      if (requirement !== undefined) throw new Error(`Cannot run: ${requirement}`);
      lab = createVethLab("iptf");
      lab.node.exec("sysctl", ["-w", "net.ipv4.ip_forward=1"]);
      await lab.serve("tcp", 8081, "backend-one");
      await lab.serve("tcp", 8082, "backend-two");
      metrics = new Registry();
      proxier = await createIptablesProxierWith(
        {
          config: { ...defaultProxyConfig, clusterCIDRs: ["10.244.0.0/16"] },
          executor: netnsExecutor(createExecutor(), lab.node.name),
          logger: silentLogger(),
          metrics,
          clock: systemClock,
        },
        {
          backend,
          // Simulates a kernel that lacks a match module: the nat part of the payload gets a rule
          // with a match iptables cannot load.
          transformPayload: (payload) =>
            injectFailure ? payload.replace(/COMMIT\n$/, `${bogusRule}\nCOMMIT\n`) : payload,
        },
      );
    });
    after(() => lab?.close());

    const failures = async (): Promise<number> => {
      const metric = (await metrics.getMetricsAsJSON()).find(
        (m) => m.name === "kubeproxy_sync_proxy_rules_iptables_restore_failures_total",
      );
      return metric?.values.find((v) => v.labels["ip_family"] === "IPv4")?.value ?? 0;
    };

    it("keeps the old rules serving, counts the failure, and recovers on the next sync", async () => {
      const first = stateWithBackend(lab, 8081);
      await proxier.sync({ states: [first], full: true, changedServices: new Set() });
      assert.equal(await lab.ask("tcp", "10.96.0.10", 80), "backend-one");

      injectFailure = true;
      const moved = stateWithBackend(lab, 8082);
      const error = await proxier
        .sync({ states: [moved], full: false, changedServices: new Set(["bench/svc-0"]) })
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      injectFailure = false;
      assert.ok(error instanceof RuleApplyError, `expected RuleApplyError, got ${String(error)}`);
      assert.equal(error.code, "KPROXY_RULE_APPLY_FAILED");
      assert.deepEqual(error.failingLines, [bogusRule]);
      assert.equal(await failures(), 1);
      // The previous rules still DNAT real connections to the old backend.
      assert.equal(await lab.ask("tcp", "10.96.0.10", 80), "backend-one");
      assert.equal(await lab.ask("tcp", "10.96.0.10", 80), "backend-one");

      // The runner retries with a full sync: it audits the kernel and writes the new rules.
      await proxier.sync({ states: [moved], full: true, changedServices: new Set() });
      assert.equal(proxier.lastReports.get("IPv4")?.kind, "audit");
      assert.equal(await lab.ask("tcp", "10.96.0.10", 80), "backend-two");
      assert.equal(await failures(), 1);
      await proxier.cleanup();
      assert.equal(
        await lab.ask("tcp", "10.96.0.10", 80, { timeoutMs: 500 }),
        "",
        "no rules: the ClusterIP leads nowhere",
      );
    });
  });
}
