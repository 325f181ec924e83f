import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultProxyConfig } from "./defaults.ts";
import type { ProxyConfig } from "./proxy-config.ts";
import { validateConfig } from "./validate-config.ts";

function fields(config: ProxyConfig): string[] {
  return validateConfig(config).map((p) => p.field);
}

describe("validateConfig", () => {
  it("accepts the defaults", () => {
    assert.deepEqual(validateConfig(defaultProxyConfig), []);
  });

  const d = defaultProxyConfig;
  const cases: Array<[string, ProxyConfig, string[]]> = [
    ["an unknown mode", { ...d, mode: "kernelspace" as ProxyConfig["mode"] }, ["mode"]],
    ["a bad node name", { ...d, hostnameOverride: "Node_1" }, ["hostnameOverride"]],
    ["bad node IPs", { ...d, nodeIPs: ["1.2.3", "10.0.0.1", "10.0.0.2"] }, ["nodeIPs[0]", "nodeIPs[2]"]],
    ["a bad bind address", { ...d, bindAddress: "x" }, ["bindAddress"]],
    ["a healthz address without port", { ...d, healthzBindAddress: "0.0.0.0" }, ["healthzBindAddress"]],
    ["a metrics port out of range", { ...d, metricsBindAddress: "127.0.0.1:70000" }, ["metricsBindAddress"]],
    ["disabled servers", { ...d, healthzBindAddress: "", metricsBindAddress: "" }, []],
    ["IPv6 servers", { ...d, healthzBindAddress: "[::]:10256", metricsBindAddress: "[::1]:10249" }, []],
    [
      "bad cluster CIDRs",
      { ...d, clusterCIDRs: ["10.0.0.0/8", "10.1.0.0/16", "x"] },
      ["clusterCIDR[1]", "clusterCIDR[2]"],
    ],
    ["dual-stack cluster CIDRs", { ...d, clusterCIDRs: ["10.0.0.0/8", "fd00::/48"] }, []],
    [
      "an unknown detect-local mode",
      { ...d, detectLocalMode: "Magic" as ProxyConfig["detectLocalMode"] },
      ["detectLocalMode"],
    ],
    [
      "BridgeInterface without a bridge",
      { ...d, detectLocalMode: "BridgeInterface" },
      ["detectLocal.bridgeInterface"],
    ],
    [
      "bad nodePortAddresses",
      { ...d, nodePortAddresses: ["primary", "10.0.0.0/8", "eth0"] },
      ["nodePortAddresses[2]"],
    ],
    [
      "bad iptables settings",
      { ...d, iptables: { ...d.iptables, masqueradeBit: 32, syncPeriodMs: 0, minSyncPeriodMs: -1 } },
      ["iptables.masqueradeBit", "iptables.syncPeriod", "iptables.minSyncPeriod"],
    ],
    [
      "a bad nftables layout",
      { ...d, nftables: { ...d.nftables, layout: "x" as "kproxy" } },
      ["nftables.layout"],
    ],
    ["a bad IPVS scheduler", { ...d, ipvs: { ...d.ipvs, scheduler: "fastest" } }, ["ipvs.scheduler"]],
    [
      "a bad userspace scheduler",
      { ...d, userspace: { ...d.userspace, scheduler: "x" } },
      ["userspace.scheduler"],
    ],
    [
      "a bad number of userspace workers",
      { ...d, userspace: { ...d.userspace, workers: -1 } },
      ["userspace.workers"],
    ],
    ["a bad conntrack min", { ...d, conntrack: { ...d.conntrack, min: -1 } }, ["conntrack.min"]],
    ["an OOM score out of range", { ...d, oomScoreAdj: 1001 }, ["oomScoreAdj"]],
    ["negative verbosity", { ...d, verbosity: -1 }, ["logging.verbosity"]],
    [
      "bad embedded API server settings",
      {
        ...d,
        apiserver: {
          ...d.apiserver,
          listen: "localhost",
          serviceClusterIPRange: "10.96.0.0/40",
          serviceNodePortRange: "32767-30000",
          loadBalancerIPRange: "pool",
        },
      },
      [
        "apiserver.listen",
        "apiserver.serviceClusterIPRange",
        "apiserver.serviceNodePortRange",
        "apiserver.loadBalancerIPRange",
      ],
    ],
    [
      "bad DNS settings",
      {
        ...d,
        dns: {
          ...d.dns,
          bindAddress: "53",
          clusterDomain: "",
          ttlSeconds: -5,
          upstreams: ["1.1.1.1", "x:53"],
        },
      },
      ["dns.bindAddress", "dns.clusterDomain", "dns.ttl", "dns.upstreams[1]"],
    ],
    [
      "a DNS TTL above an hour and an unknown pod-records mode",
      { ...d, dns: { ...d.dns, ttlSeconds: 3601, pods: "all" as "disabled" } },
      ["dns.ttl", "dns.pods"],
    ],
  ];
  for (const [name, config, expected] of cases) {
    it(`reports ${name}`, () => assert.deepEqual(fields(config), expected));
  }

  it("gives every problem an example of a valid value", () => {
    const problems = validateConfig({
      ...d,
      mode: "x" as ProxyConfig["mode"],
      iptables: { ...d.iptables, masqueradeBit: -1 },
      conntrack: { ...d.conntrack, maxPerCore: 1.5 },
    });
    assert.equal(problems.length, 3);
    for (const p of problems) assert.ok(p.example, `${p.field} has an example`);
    assert.match(problems[0]?.message ?? "", /"x" is not a proxy mode/);
  });
});
