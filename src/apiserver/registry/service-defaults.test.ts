import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "./resource-strategy.ts";
import { applyServiceDefaults, defaultServiceIPFamilyPolicy } from "./service-defaults.ts";

function defaulted(spec: Record<string, unknown>, status?: Record<string, unknown>): Record<string, unknown> {
  const obj: KubeObject = { metadata: { name: "web", namespace: "default" }, spec: structuredClone(spec) };
  if (status !== undefined) obj.status = structuredClone(status);
  applyServiceDefaults(obj);
  defaultServiceIPFamilyPolicy(obj);
  return { spec: obj.spec, status: obj.status };
}

describe("applyServiceDefaults", () => {
  const cases: Array<{
    name: string;
    spec: Record<string, unknown>;
    status?: Record<string, unknown>;
    want: unknown;
  }> = [
    {
      name: "a bare ClusterIP Service",
      spec: { ports: [{ port: 80 }] },
      want: {
        spec: {
          ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
          sessionAffinity: "None",
          type: "ClusterIP",
          internalTrafficPolicy: "Cluster",
          ipFamilyPolicy: "SingleStack",
        },
        status: undefined,
      },
    },
    {
      name: "targetPort 0 and empty string default to port; given values stay",
      spec: {
        ports: [
          { name: "a", port: 80, targetPort: 0 },
          { name: "b", port: 81, targetPort: "" },
          { name: "c", port: 82, targetPort: "http", protocol: "UDP" },
          { name: "d", port: 83, targetPort: 8083, protocol: "SCTP" },
        ],
      },
      want: {
        spec: {
          ports: [
            { name: "a", port: 80, targetPort: 80, protocol: "TCP" },
            { name: "b", port: 81, targetPort: 81, protocol: "TCP" },
            { name: "c", port: 82, targetPort: "http", protocol: "UDP" },
            { name: "d", port: 83, targetPort: 8083, protocol: "SCTP" },
          ],
          sessionAffinity: "None",
          type: "ClusterIP",
          internalTrafficPolicy: "Cluster",
          ipFamilyPolicy: "SingleStack",
        },
        status: undefined,
      },
    },
    {
      name: "ClientIP affinity gets the 10800 s timeout",
      spec: { ports: [{ port: 80 }], sessionAffinity: "ClientIP" },
      want: {
        spec: {
          ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
          sessionAffinity: "ClientIP",
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
          type: "ClusterIP",
          internalTrafficPolicy: "Cluster",
          ipFamilyPolicy: "SingleStack",
        },
        status: undefined,
      },
    },
    {
      name: "ClientIP affinity keeps a given timeout",
      spec: {
        ports: [{ port: 80 }],
        sessionAffinity: "ClientIP",
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
      },
      want: {
        spec: {
          ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
          sessionAffinity: "ClientIP",
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
          type: "ClusterIP",
          internalTrafficPolicy: "Cluster",
          ipFamilyPolicy: "SingleStack",
        },
        status: undefined,
      },
    },
    {
      name: "None affinity drops a stray config",
      spec: { ports: [{ port: 80 }], sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } },
      want: {
        spec: {
          ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
          sessionAffinity: "None",
          type: "ClusterIP",
          internalTrafficPolicy: "Cluster",
          ipFamilyPolicy: "SingleStack",
        },
        status: undefined,
      },
    },
    {
      name: "NodePort gets externalTrafficPolicy Cluster",
      spec: { type: "NodePort", ports: [{ port: 80 }] },
      want: {
        spec: {
          type: "NodePort",
          ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
          sessionAffinity: "None",
          externalTrafficPolicy: "Cluster",
          internalTrafficPolicy: "Cluster",
          ipFamilyPolicy: "SingleStack",
        },
        status: undefined,
      },
    },
    {
      name: "LoadBalancer gets eTP, allocateLoadBalancerNodePorts and ingress ipMode VIP",
      spec: { type: "LoadBalancer", ports: [{ port: 80 }], externalTrafficPolicy: "Local" },
      status: { loadBalancer: { ingress: [{ ip: "192.0.2.1" }, { hostname: "lb.example.com" }] } },
      want: {
        spec: {
          type: "LoadBalancer",
          ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
          sessionAffinity: "None",
          externalTrafficPolicy: "Local",
          internalTrafficPolicy: "Cluster",
          allocateLoadBalancerNodePorts: true,
          ipFamilyPolicy: "SingleStack",
        },
        status: {
          loadBalancer: { ingress: [{ ip: "192.0.2.1", ipMode: "VIP" }, { hostname: "lb.example.com" }] },
        },
      },
    },
    {
      name: "ClusterIP with external IPs is externally accessible: eTP Cluster",
      spec: { ports: [{ port: 80 }], externalIPs: ["192.0.2.10"] },
      want: {
        spec: {
          ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
          externalIPs: ["192.0.2.10"],
          sessionAffinity: "None",
          type: "ClusterIP",
          externalTrafficPolicy: "Cluster",
          internalTrafficPolicy: "Cluster",
          ipFamilyPolicy: "SingleStack",
        },
        status: undefined,
      },
    },
    {
      name: "ExternalName gets neither traffic policy nor family policy",
      spec: { type: "ExternalName", externalName: "example.com" },
      want: {
        spec: { type: "ExternalName", externalName: "example.com", sessionAffinity: "None" },
        status: undefined,
      },
    },
    {
      name: "two requested cluster IPs mean RequireDualStack; a given policy stays",
      spec: { ports: [{ port: 80 }], clusterIP: "10.0.0.1", clusterIPs: ["10.0.0.1", "fd00::1"] },
      want: {
        spec: {
          ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
          clusterIP: "10.0.0.1",
          clusterIPs: ["10.0.0.1", "fd00::1"],
          sessionAffinity: "None",
          type: "ClusterIP",
          internalTrafficPolicy: "Cluster",
          ipFamilyPolicy: "RequireDualStack",
        },
        status: undefined,
      },
    },
    {
      name: "given policies are kept",
      spec: { ports: [{ port: 80 }], internalTrafficPolicy: "Local", ipFamilyPolicy: "PreferDualStack" },
      want: {
        spec: {
          ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
          sessionAffinity: "None",
          type: "ClusterIP",
          internalTrafficPolicy: "Local",
          ipFamilyPolicy: "PreferDualStack",
        },
        status: undefined,
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(defaulted(c.spec, c.status), c.want);
    });
  }

  it("creates a missing spec", () => {
    const obj: KubeObject = { metadata: { name: "x" } };
    applyServiceDefaults(obj);
    assert.deepEqual(obj.spec, {
      sessionAffinity: "None",
      type: "ClusterIP",
      internalTrafficPolicy: "Cluster",
    });
  });
});
