import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubernetesObject } from "@kubernetes/client-node";
import { defaultProxyConfig } from "../../../config/defaults.ts";
import type { ProxyConfig } from "../../../config/proxy-config.ts";
import type { NodeInfo } from "../../../model/node-info.ts";
import type { IPFamily } from "../../../model/protocol.ts";
import { baselineKernelFeatures } from "../../kernel-features.ts";
import { fixtureState } from "../testing/render-fixtures.ts";
import { checkRuleJumps } from "./check-rule-jumps.ts";
import { renderIptables } from "./render-iptables.ts";

const node: NodeInfo = {
  name: "node-a",
  labels: {},
  nodeIPs: ["192.168.0.2"],
  podCIDRs: ["10.244.1.0/24"],
  localAddresses: ["127.0.0.1/8", "192.168.0.2/24", "192.168.1.2/24"],
  deleting: false,
};
const config: ProxyConfig = { ...defaultProxyConfig, clusterCIDRs: ["10.244.0.0/16"] };

interface SvcOptions {
  type?: string;
  protocol?: string;
  nodePort?: number;
  externalIPs?: string[];
  lb?: string[];
  sourceRanges?: string[];
  etp?: string;
  itp?: string;
  affinity?: boolean;
  clusterIP?: string;
  family?: IPFamily;
}

function service(name: string, o: SvcOptions = {}): KubernetesObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { namespace: "ns", name },
    spec: {
      type: o.type ?? "ClusterIP",
      clusterIP: o.clusterIP ?? "172.30.0.10",
      externalIPs: o.externalIPs,
      externalTrafficPolicy: o.etp,
      internalTrafficPolicy: o.itp,
      loadBalancerSourceRanges: o.sourceRanges,
      sessionAffinity: o.affinity ? "ClientIP" : "None",
      ports: [{ name: "p", port: 80, protocol: o.protocol ?? "TCP", nodePort: o.nodePort }],
    },
    status: { loadBalancer: { ingress: (o.lb ?? []).map((ip) => ({ ip })) } },
  } as KubernetesObject;
}

function slice(
  svc: string,
  eps: { ip: string; node?: string }[],
  o: { protocol?: string; family?: IPFamily } = {},
) {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { namespace: "ns", name: `${svc}-1`, labels: { "kubernetes.io/service-name": svc } },
    addressType: o.family ?? "IPv4",
    endpoints: eps.map((e) => ({ addresses: [e.ip], nodeName: e.node })),
    ports: [{ name: "p", port: 8080, protocol: o.protocol ?? "TCP" }],
  } as KubernetesObject;
}

function render(
  objects: KubernetesObject[],
  o: { config?: Partial<ProxyConfig>; family?: IPFamily; node?: NodeInfo } = {},
): string {
  const c = { ...config, ...o.config };
  const { state } = fixtureState(objects, {
    config: c,
    node: o.node ?? node,
    features: baselineKernelFeatures,
    family: o.family ?? "IPv4",
  });
  const out = renderIptables(state, c, baselineKernelFeatures);
  assert.deepEqual(checkRuleJumps(out), [], "every jump must have its chain");
  return out;
}

function lines(out: string, re: RegExp): string[] {
  return out.split("\n").filter((l) => re.test(l));
}

describe("servicePortRules", () => {
  it("picks each of n endpoints with probability 1/(n-i), ten decimals", () => {
    const out = render([
      service("a"),
      slice("a", [{ ip: "10.244.2.1" }, { ip: "10.244.2.2" }, { ip: "10.244.2.3" }]),
    ]);
    const svc = lines(out, /^-A KUBE-SVC-\S+ .*-> /);
    assert.equal(svc.length, 3);
    assert.match(svc[0] ?? "", /-m statistic --mode random --probability 0\.3333333333 -j KUBE-SEP-/);
    assert.match(svc[1] ?? "", /-m statistic --mode random --probability 0\.5000000000 -j KUBE-SEP-/);
    assert.doesNotMatch(svc[2] ?? "", /statistic/);
  });

  it("rejects in filter when a service has no endpoints, for every address", () => {
    const out = render([
      service("a", { type: "LoadBalancer", nodePort: 30001, externalIPs: ["192.168.99.1"], lb: ["1.2.3.4"] }),
    ]);
    assert.deepEqual(lines(out, /REJECT/), [
      `-A KUBE-SERVICES -m comment --comment "ns/a:p has no endpoints" -m tcp -p tcp -d 172.30.0.10 --dport 80 -j REJECT`,
      `-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns/a:p has no endpoints" -m tcp -p tcp -d 192.168.99.1 --dport 80 -j REJECT`,
      `-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns/a:p has no endpoints" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j REJECT`,
      `-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns/a:p has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30001 -j REJECT`,
    ]);
    assert.equal(lines(out, /KUBE-SVC-|KUBE-EXT-/).length, 0);
  });

  it("drops ClusterIP traffic under internalTrafficPolicy Local without local endpoints", () => {
    const out = render([service("a", { itp: "Local" }), slice("a", [{ ip: "10.244.2.1", node: "node-b" }])]);
    assert.deepEqual(
      lines(out, /DROP$/).filter((l) => l.includes("ns/a")),
      [
        `-A KUBE-SERVICES -m comment --comment "ns/a:p has no local endpoints" -m tcp -p tcp -d 172.30.0.10 --dport 80 -j DROP`,
      ],
    );
    assert.equal(lines(out, /^-A KUBE-SERVICES .*cluster IP/).length, 0);
  });

  it("sends ClusterIP traffic to KUBE-SVL under internalTrafficPolicy Local", () => {
    const out = render([
      service("a", { itp: "Local" }),
      slice("a", [
        { ip: "10.244.1.5", node: "node-a" },
        { ip: "10.244.2.1", node: "node-b" },
      ]),
    ]);
    const [jump] = lines(out, /^-A KUBE-SERVICES .*cluster IP/);
    assert.match(jump ?? "", /-j KUBE-SVL-/);
    assert.equal(lines(out, /^-A KUBE-SVL-.*-> 10\.244\.1\.5:8080/).length, 1);
    assert.equal(lines(out, /10\.244\.2\.1/).length, 0, "remote endpoint unused");
  });

  it("keeps the client source for external traffic under externalTrafficPolicy Local", () => {
    const out = render([
      service("a", { type: "NodePort", nodePort: 30080, etp: "Local" }),
      slice("a", [
        { ip: "10.244.1.5", node: "node-a" },
        { ip: "10.244.2.1", node: "node-b" },
      ]),
    ]);
    const ext = lines(out, /^-A KUBE-EXT-/);
    assert.equal(ext.length, 4);
    assert.match(
      ext[0] ?? "",
      /"pod traffic for ns\/a:p external destinations" -s 10\.244\.0\.0\/16 -j KUBE-SVC-/,
    );
    assert.match(ext[1] ?? "", /--src-type LOCAL -j KUBE-MARK-MASQ$/);
    assert.match(ext[2] ?? "", /--src-type LOCAL -j KUBE-SVC-/);
    assert.match(ext[3] ?? "", /^-A KUBE-EXT-\S+ -j KUBE-SVL-/);
    assert.equal(lines(out, /masquerade traffic for/).length, 0);
  });

  it("drops external traffic under externalTrafficPolicy Local without local endpoints, accepting the health check", () => {
    const svc = service("a", { type: "LoadBalancer", nodePort: 30080, etp: "Local", lb: ["5.6.7.8"] });
    (svc as { spec: { healthCheckNodePort: number } }).spec.healthCheckNodePort = 32000;
    const out = render([svc, slice("a", [{ ip: "10.244.2.1", node: "node-b" }])]);
    assert.equal(lines(out, /^-A KUBE-EXTERNAL-SERVICES .*has no local endpoints.* -j DROP$/).length, 2);
    assert.deepEqual(lines(out, /health check/), [
      `-A KUBE-NODEPORTS -m comment --comment "ns/a:p health check node port" -m tcp -p tcp --dport 32000 -j ACCEPT`,
    ]);
    assert.equal(lines(out, /^-A KUBE-EXT-\S+ -j KUBE-SVL-/).length, 0);
  });

  it("masquerades every ClusterIP packet with masqueradeAll", () => {
    const out = render([service("a"), slice("a", [{ ip: "10.244.2.1" }])], {
      config: { iptables: { ...config.iptables, masqueradeAll: true } },
    });
    assert.deepEqual(lines(out, /^-A KUBE-SVC-.*KUBE-MARK-MASQ$/), [
      `-A KUBE-SVC-${lines(out, /^:KUBE-SVC-/)[0]?.slice(10, 26)} -m comment --comment "ns/a:p cluster IP" -m tcp -p tcp -d 172.30.0.10 --dport 80 -j KUBE-MARK-MASQ`,
    ]);
  });

  for (const [mode, extra, notLocal] of [
    ["NodeCIDR", {}, "! -s 10.244.1.0/24"],
    ["BridgeInterface", { detectLocal: { bridgeInterface: "cbr0", interfaceNamePrefix: "" } }, "! -i cbr0"],
    [
      "InterfaceNamePrefix",
      { detectLocal: { bridgeInterface: "", interfaceNamePrefix: "veth" } },
      "! -i veth+",
    ],
  ] as const) {
    it(`detects local traffic with detectLocalMode ${mode}`, () => {
      const out = render([service("a"), slice("a", [{ ip: "10.244.2.1" }])], {
        config: { detectLocalMode: mode, ...extra },
      });
      assert.equal(
        lines(out, /^-A KUBE-SVC-.*KUBE-MARK-MASQ$/)[0]?.endsWith(`${notLocal} -j KUBE-MARK-MASQ`),
        true,
      );
    });
  }

  it("writes no detector rules with detectLocalMode None", () => {
    const out = render(
      [
        service("a", { type: "NodePort", nodePort: 30080, etp: "Local" }),
        slice("a", [{ ip: "10.244.1.5", node: "node-a" }]),
      ],
      { config: { detectLocalMode: "None" } },
    );
    assert.equal(lines(out, /^-A KUBE-SVC-.*KUBE-MARK-MASQ$/).length, 0);
    assert.equal(lines(out, /pod traffic for/).length, 0);
  });

  it("limits NodePorts to nodePortAddresses", () => {
    const out = render(
      [service("a", { type: "NodePort", nodePort: 30080 }), slice("a", [{ ip: "10.244.2.1" }])],
      {
        config: { nodePortAddresses: ["192.168.1.0/24", "2001:db8::/64"] },
      },
    );
    assert.deepEqual(lines(out, /-j KUBE-NODEPORTS$/), [
      `-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -d 192.168.1.2 -j KUBE-NODEPORTS`,
    ]);
    // 127.0.0.1 is outside the configured ranges: no localhost NodePorts, no anti-martian rule.
    assert.equal(lines(out, /KUBE-FIREWALL/).length, 0);
  });

  it("accepts `primary` in nodePortAddresses", () => {
    const out = render(
      [service("a", { type: "NodePort", nodePort: 30080 }), slice("a", [{ ip: "10.244.2.1" }])],
      {
        config: { nodePortAddresses: ["primary"] },
      },
    );
    assert.equal(lines(out, /-d 192\.168\.0\.2 -j KUBE-NODEPORTS$/).length, 1);
  });

  it("excludes 127.0.0.0/8 from NodePorts when localhost NodePorts are off", () => {
    const out = render(
      [service("a", { type: "NodePort", nodePort: 30080 }), slice("a", [{ ip: "10.244.2.1" }])],
      {
        config: { iptables: { ...config.iptables, localhostNodePorts: false } },
      },
    );
    assert.equal(lines(out, /--dst-type LOCAL ! -d 127\.0\.0\.0\/8 -j KUBE-NODEPORTS$/).length, 1);
    assert.equal(lines(out, /KUBE-FIREWALL/).length, 0);
  });

  it("renders IPv6 without localhost NodePorts and with bracketed DNAT targets", () => {
    const node6: NodeInfo = {
      ...node,
      nodeIPs: ["2001:db8::2"],
      localAddresses: ["::1/128", "2001:db8::2/64"],
    };
    const out = render(
      [
        service("a", { type: "NodePort", nodePort: 30080, clusterIP: "fd00:10:96::a" }),
        slice("a", [{ ip: "fd00:10:244::5" }], { family: "IPv6" }),
      ],
      { family: "IPv6", node: node6, config: { clusterCIDRs: ["fd00:10:244::/48"] } },
    );
    assert.equal(lines(out, /--dst-type LOCAL ! -d ::1\/128 -j KUBE-NODEPORTS$/).length, 1);
    assert.equal(lines(out, /-j DNAT --to-destination \[fd00:10:244::5\]:8080$/).length, 1);
    assert.equal(lines(out, /! -s fd00:10:244::\/48 -j KUBE-MARK-MASQ$/).length, 1);
    assert.equal(lines(out, /KUBE-FIREWALL/).length, 0);
  });

  it("matches UDP with the udp module", () => {
    const out = render([
      service("dns", { protocol: "UDP" }),
      slice("dns", [{ ip: "10.244.2.1" }], { protocol: "UDP" }),
    ]);
    assert.equal(lines(out, /-m udp -p udp -j DNAT --to-destination 10\.244\.2\.1:8080$/).length, 1);
  });

  it("lets the node through a source-range firewall that includes it", () => {
    const out = render([
      service("a", {
        type: "LoadBalancer",
        nodePort: 30080,
        lb: ["5.6.7.8"],
        sourceRanges: ["192.168.0.0/16"],
      }),
      slice("a", [{ ip: "10.244.2.1" }]),
    ]);
    const fw = lines(out, /^-A KUBE-FW-/);
    assert.equal(fw.length, 3);
    assert.match(fw[0] ?? "", /-s 192\.168\.0\.0\/16 -j KUBE-EXT-/);
    assert.match(fw[1] ?? "", /-s 5\.6\.7\.8 -j KUBE-EXT-/);
    assert.match(fw[2] ?? "", /will be dropped by KUBE-PROXY-FIREWALL"$/);
    assert.equal(lines(out, /^-A KUBE-PROXY-FIREWALL .* -d 5\.6\.7\.8 --dport 80 -j DROP$/).length, 1);
  });

  it("records ClientIP affinity with the recent module", () => {
    const out = render([
      service("a", { affinity: true }),
      slice("a", [{ ip: "10.244.2.1" }, { ip: "10.244.2.2" }]),
    ]);
    assert.equal(
      lines(out, /-m recent --name (KUBE-SEP-\S+) --rcheck --seconds 10800 --reap -j \1$/).length,
      2,
    );
    assert.equal(
      lines(out, /^-A (KUBE-SEP-\S+) .*-m recent --name \1 --set -m tcp -p tcp -j DNAT/).length,
      2,
    );
  });

  it("drops per-endpoint comments above 1000 endpoints (large-cluster mode), as upstream", () => {
    const eps = Array.from({ length: 1001 }, (_, i) => ({ ip: `10.244.${2 + (i >> 8)}.${i & 255}` }));
    const out = render([service("a"), slice("a", eps)]);
    assert.equal(lines(out, /^-A KUBE-SEP-.*comment/).length, 0);
    assert.equal(lines(out, /^-A KUBE-SVC-.*->/).length, 0);
    assert.equal(lines(out, /^-A KUBE-SEP-/).length, 2002);
    // Comments elsewhere stay.
    assert.equal(lines(out, /^-A KUBE-SERVICES .*"ns\/a:p cluster IP"/).length, 1);
  });
});
