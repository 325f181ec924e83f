import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultProxyConfig } from "./defaults.ts";
import { parseConfigFile } from "./parse-config-file.ts";

function parse(text: string) {
  return parseConfigFile(text, { source: "test.yaml", base: defaultProxyConfig });
}

describe("parseConfigFile", () => {
  it("maps upstream field names and kproxy's extensions onto ProxyConfig", () => {
    const { config, problems } = parse(`
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
hostnameOverride: node-7
bindAddress: 0.0.0.0
healthzBindAddress: 127.0.0.1:0
metricsBindAddress: 127.0.0.1:0
clientConnection:
  kubeconfig: /etc/kube/config
  qps: 20
clusterCIDR: 10.244.0.0/16,fd00:244::/56
detectLocalMode: NodeCIDR
nodePortAddresses: [primary]
iptables:
  masqueradeBit: 15
  syncPeriod: 1m0s
  minSyncPeriod: 250ms
  localhostNodePorts: false
nftables:
  masqueradeAll: true
  minSyncPeriod: 0s
  layout: upstream
ipvs:
  scheduler: wrr
conntrack:
  maxPerCore: 0
  tcpEstablishedTimeout: 2h0m0s
configSyncPeriod: 5m
oomScoreAdj: -500
logging:
  verbosity: 4
  format: text
featureGates:
  SomeGate: true
winkernel:
  networkName: x
userspace:
  udpIdleTimeout: 10s
  scheduler: p2c
  workers: 3
apiserver:
  listen: 127.0.0.1:0
  manifests: [examples/]
dns:
  enabled: true
  ttl: 30
`);
    assert.deepEqual(problems, []);
    assert.equal(config.mode, "nftables");
    assert.equal(config.hostnameOverride, "node-7");
    assert.equal(config.healthzBindAddress, "127.0.0.1:0");
    assert.equal(config.clientConnection.kubeconfig, "/etc/kube/config");
    assert.equal(config.clientConnection.qps, 20);
    assert.equal(config.clientConnection.burst, defaultProxyConfig.clientConnection.burst);
    assert.deepEqual(config.clusterCIDRs, ["10.244.0.0/16", "fd00:244::/56"]);
    assert.equal(config.detectLocalMode, "NodeCIDR");
    assert.deepEqual(config.nodePortAddresses, ["primary"]);
    assert.deepEqual(config.iptables, {
      masqueradeAll: false,
      masqueradeBit: 15,
      localhostNodePorts: false,
      syncPeriodMs: 60_000,
      minSyncPeriodMs: 250,
    });
    assert.equal(config.nftables.masqueradeAll, true);
    assert.equal(config.nftables.minSyncPeriodMs, 0);
    assert.equal(config.nftables.syncPeriodMs, 30_000);
    assert.equal(config.nftables.layout, "upstream");
    assert.equal(config.ipvs.scheduler, "wrr");
    assert.equal(config.conntrack.maxPerCore, 0);
    assert.equal(config.conntrack.tcpEstablishedTimeoutMs, 7_200_000);
    assert.equal(config.configSyncPeriodMs, 300_000);
    assert.equal(config.oomScoreAdj, -500);
    assert.equal(config.verbosity, 4);
    assert.equal(config.userspace.udpIdleTimeoutMs, 10_000);
    assert.equal(config.userspace.scheduler, "p2c");
    assert.equal(config.userspace.workers, 3);
    assert.equal(config.apiserver.listen, "127.0.0.1:0");
    assert.deepEqual(config.apiserver.manifests, ["examples/"]);
    assert.equal(config.apiserver.serviceClusterIPRange, "10.96.0.0/12");
    assert.equal(config.dns.enabled, true);
    assert.equal(config.dns.ttlSeconds, 30);
  });

  it("keeps the defaults for an empty file and for an empty mode", () => {
    assert.deepEqual(parse(""), { config: defaultProxyConfig, problems: [] });
    assert.equal(parse('mode: ""').config.mode, defaultProxyConfig.mode);
  });

  it("reports every structural problem with its field path, and merges the rest", () => {
    const { config, problems } = parse(`
apiVersion: kubeproxy.config.k8s.io/v1beta9
kind: Something
mode: ipvs
iptables:
  masqueradeBit: "fourteen"
  syncPeriod: 10
  minSyncPerod: 1s
conntrack: [1, 2]
nodePortAddresses: 10.0.0.0/8
bindAddressHardFail: "yes"
unknownTop: 1
`);
    assert.deepEqual(
      problems.map((p) => p.field),
      [
        "iptables.masqueradeBit",
        "iptables.syncPeriod",
        "iptables.minSyncPerod",
        "conntrack",
        "nodePortAddresses",
        "bindAddressHardFail",
        "unknownTop",
        "apiVersion",
        "kind",
      ],
    );
    assert.match(problems[0]?.message ?? "", /integer.*"fourteen"/);
    assert.match(problems[1]?.message ?? "", /duration/);
    assert.equal(problems[1]?.example, "30s");
    assert.match(problems[2]?.message ?? "", /did you mean minSyncPeriod/);
    assert.equal(problems[7]?.example, "kubeproxy.config.k8s.io/v1alpha1");
    assert.equal(config.mode, "ipvs");
    assert.equal(config.iptables.masqueradeBit, defaultProxyConfig.iptables.masqueradeBit);
  });

  it("reports malformed YAML and non-mapping documents", () => {
    assert.match(parse("mode: [unclosed").problems[0]?.message ?? "", /not valid YAML/);
    assert.match(parse("- a\n- b").problems[0]?.message ?? "", /must be a YAML mapping/);
  });
});
