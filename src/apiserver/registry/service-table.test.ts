import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "./resource-strategy.ts";
import { serviceTableColumns, serviceTableRow } from "./service-table.ts";

const now = new Date("2024-03-01T12:00:00Z");

function svc(spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject {
  const obj: KubeObject = {
    metadata: { name: "web", namespace: "default", creationTimestamp: "2024-03-01T11:59:55Z" },
    spec,
  };
  if (status !== undefined) obj.status = status;
  return obj;
}

describe("serviceTableColumns", () => {
  it("are kubectl's, SELECTOR only with -o wide", () => {
    assert.deepEqual(
      serviceTableColumns.map((c) => [c.name, c.priority]),
      [
        ["Name", 0],
        ["Type", 0],
        ["Cluster-IP", 0],
        ["External-IP", 0],
        ["Port(s)", 0],
        ["Age", 0],
        ["Selector", 1],
      ],
    );
    assert.equal(serviceTableColumns[0]?.format, "name");
  });
});

describe("serviceTableRow", () => {
  const cases: Array<{ name: string; obj: KubeObject; want: unknown[] }> = [
    {
      name: "ClusterIP",
      obj: svc({
        type: "ClusterIP",
        clusterIP: "10.96.0.10",
        clusterIPs: ["10.96.0.10"],
        ports: [{ port: 80, protocol: "TCP" }],
        selector: { tier: "web", app: "shop" },
      }),
      want: ["web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP", "5s", "app=shop,tier=web"],
    },
    {
      name: "headless (kubectl shows the literal None)",
      obj: svc({
        type: "ClusterIP",
        clusterIP: "None",
        clusterIPs: ["None"],
        ports: [{ port: 53, protocol: "UDP" }],
      }),
      want: ["web", "ClusterIP", "None", "<none>", "53/UDP", "5s", "<none>"],
    },
    {
      name: "NodePort with two ports and external IPs",
      obj: svc({
        type: "NodePort",
        clusterIPs: ["10.96.0.10", "fd00::10"],
        externalIPs: ["192.0.2.10", "192.0.2.11"],
        ports: [
          { port: 80, protocol: "TCP", nodePort: 30080 },
          { port: 443, protocol: "TCP", nodePort: 30443 },
        ],
      }),
      want: [
        "web",
        "NodePort",
        "10.96.0.10",
        "192.0.2.10,192.0.2.11",
        "80:30080/TCP,443:30443/TCP",
        "5s",
        "<none>",
      ],
    },
    {
      name: "LoadBalancer still pending",
      obj: svc(
        {
          type: "LoadBalancer",
          clusterIPs: ["10.96.0.10"],
          ports: [{ port: 80, protocol: "TCP", nodePort: 30080 }],
        },
        { loadBalancer: {} },
      ),
      want: ["web", "LoadBalancer", "10.96.0.10", "<pending>", "80:30080/TCP", "5s", "<none>"],
    },
    {
      name: "LoadBalancer with ingress (sorted, hostname when no IP) and external IPs",
      obj: svc(
        {
          type: "LoadBalancer",
          clusterIPs: ["10.96.0.10"],
          externalIPs: ["198.51.100.1"],
          ports: [{ port: 80, protocol: "TCP", nodePort: 30080 }],
        },
        {
          loadBalancer: {
            ingress: [{ ip: "192.0.2.9" }, { hostname: "lb.example.com" }, { ip: "192.0.2.1" }],
          },
        },
      ),
      want: [
        "web",
        "LoadBalancer",
        "10.96.0.10",
        "192.0.2.1,192.0.2.9,lb.example.com,198.51.100.1",
        "80:30080/TCP",
        "5s",
        "<none>",
      ],
    },
    {
      name: "ExternalName shows the name, no cluster IP and no ports",
      obj: svc({ type: "ExternalName", externalName: "db.example.com" }),
      want: ["web", "ExternalName", "<none>", "db.example.com", "<none>", "5s", "<none>"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(serviceTableRow(c.obj, now), c.want));
  }
});
