import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "./resource-strategy.ts";
import { serviceStrategy } from "./service-strategy.ts";

const strategy = serviceStrategy();

/** A stored NodePort Service, as the server keeps it after create and allocation. */
function stored(): KubeObject & { spec: Record<string, unknown> } {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: "web",
      namespace: "default",
      uid: "u1",
      resourceVersion: "7",
      creationTimestamp: "2024-01-01T00:00:00Z",
    },
    spec: {
      type: "NodePort",
      clusterIP: "10.96.0.10",
      clusterIPs: ["10.96.0.10"],
      ipFamilies: ["IPv4"],
      ipFamilyPolicy: "SingleStack",
      ports: [
        { name: "http", port: 80, protocol: "TCP", targetPort: 80, nodePort: 30080 },
        { name: "https", port: 443, protocol: "TCP", targetPort: 443, nodePort: 30443 },
      ],
      selector: { app: "web" },
      sessionAffinity: "None",
      externalTrafficPolicy: "Cluster",
      internalTrafficPolicy: "Cluster",
    },
    status: { loadBalancer: {} },
  };
}

/** The manifest a user applies: no allocated fields, no status. */
function manifest(spec: Record<string, unknown>): KubeObject & { spec: Record<string, unknown> } {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "default", resourceVersion: "7" },
    spec,
  };
}

function lines(problems: ReadonlyArray<{ field: string; message: string }>): string[] {
  return problems.map((p) => `${p.field}: ${p.message}`);
}

describe("serviceStrategy.prepareForCreate", () => {
  it("defaults, drops client-written status and fills clusterIPs from clusterIP", () => {
    const obj: KubeObject = {
      metadata: { name: "web", namespace: "default" },
      spec: { clusterIP: "10.96.0.20", ports: [{ port: 80 }] },
      status: { loadBalancer: { ingress: [{ ip: "192.0.2.1" }] } },
    };
    strategy.prepareForCreate(obj);
    assert.deepEqual(obj.spec, {
      clusterIP: "10.96.0.20",
      clusterIPs: ["10.96.0.20"],
      ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
      sessionAffinity: "None",
      type: "ClusterIP",
      internalTrafficPolicy: "Cluster",
      ipFamilyPolicy: "SingleStack",
    });
    assert.deepEqual(obj.status, { loadBalancer: {} });
  });
});

describe("serviceStrategy.prepareForUpdate", () => {
  it("re-applying the original manifest keeps the allocated cluster IP, families and node ports", () => {
    const obj = manifest({
      type: "NodePort",
      selector: { app: "web" },
      ports: [
        { name: "https", port: 443 },
        { name: "http", port: 80 },
      ],
    });
    strategy.prepareForUpdate(obj, stored());
    assert.equal(obj.spec.clusterIP, "10.96.0.10");
    assert.deepEqual(obj.spec.clusterIPs, ["10.96.0.10"]);
    assert.deepEqual(obj.spec.ipFamilies, ["IPv4"]);
    assert.equal(obj.spec.ipFamilyPolicy, "SingleStack");
    assert.deepEqual(
      (obj.spec.ports as Array<Record<string, unknown>>).map((p) => [p.name, p.nodePort]),
      [
        ["https", 30443],
        ["http", 30080],
      ],
    );
    assert.deepEqual(lines(strategy.validateUpdate(obj, stored())), []);
  });

  it("does not give a node port already claimed by another port of the update", () => {
    const obj = manifest({
      type: "NodePort",
      ports: [
        { name: "http", port: 80 },
        { name: "alt", port: 81, nodePort: 30080 },
      ],
    });
    strategy.prepareForUpdate(obj, stored());
    assert.deepEqual(
      (obj.spec.ports as Array<Record<string, unknown>>).map((p) => p.nodePort),
      [undefined, 30080],
    );
  });

  it("keeps the stored status on a main-resource update", () => {
    const old = stored();
    old.spec.type = "LoadBalancer";
    old.spec.allocateLoadBalancerNodePorts = true;
    old.status = { loadBalancer: { ingress: [{ ip: "192.0.2.1", ipMode: "VIP" }] } };
    const obj = { ...structuredClone(old), status: { loadBalancer: { ingress: [{ ip: "203.0.113.9" }] } } };
    strategy.prepareForUpdate(obj, old);
    assert.deepEqual(obj.status, { loadBalancer: { ingress: [{ ip: "192.0.2.1", ipMode: "VIP" }] } });
  });

  it("a /status update changes only status (and defaults ipMode)", () => {
    const old = stored();
    old.spec.type = "LoadBalancer";
    const obj = structuredClone(old);
    obj.spec.selector = { app: "other" };
    obj.metadata!.labels = { sneaky: "yes" };
    obj.status = { loadBalancer: { ingress: [{ ip: "192.0.2.1" }] } };
    strategy.prepareForUpdate(obj, old, "status");
    assert.deepEqual(obj.spec.selector, { app: "web" });
    assert.equal(obj.metadata?.labels, undefined);
    assert.equal(obj.metadata?.resourceVersion, "7");
    assert.deepEqual(obj.status, { loadBalancer: { ingress: [{ ip: "192.0.2.1", ipMode: "VIP" }] } });
  });

  it("NodePort → ClusterIP releases node ports and externalTrafficPolicy left as they were", () => {
    const obj = structuredClone(stored());
    obj.spec.type = "ClusterIP";
    strategy.prepareForUpdate(obj, stored());
    assert.deepEqual(
      (obj.spec.ports as Array<Record<string, unknown>>).map((p) => p.nodePort),
      [undefined, undefined],
    );
    assert.equal(obj.spec.externalTrafficPolicy, undefined);
    assert.equal(obj.spec.clusterIP, "10.96.0.10");
    assert.deepEqual(lines(strategy.validateUpdate(obj, stored())), []);
  });

  it("NodePort → ClusterIP with a node port the client chose itself is left for validation to reject", () => {
    const obj = structuredClone(stored());
    obj.spec.type = "ClusterIP";
    (obj.spec.ports as Array<Record<string, unknown>>)[0]!.nodePort = 31000;
    strategy.prepareForUpdate(obj, stored());
    assert.deepEqual(lines(strategy.validateUpdate(obj, stored())), [
      "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
      "spec.ports[1].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
    ]);
  });

  it("→ ExternalName releases cluster IPs, families and family policy", () => {
    const obj = structuredClone(stored());
    Object.assign(obj.spec, { type: "ExternalName", externalName: "db.example.com" });
    strategy.prepareForUpdate(obj, stored());
    for (const key of ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "externalTrafficPolicy"]) {
      assert.equal(obj.spec[key], undefined, key);
    }
    assert.deepEqual(lines(strategy.validateUpdate(obj, stored())), []);
  });

  it("LoadBalancer → ClusterIP clears LoadBalancer-only fields and the ingress status", () => {
    const old = stored();
    Object.assign(old.spec, {
      type: "LoadBalancer",
      allocateLoadBalancerNodePorts: true,
      externalTrafficPolicy: "Local",
      healthCheckNodePort: 30100,
    });
    old.status = { loadBalancer: { ingress: [{ ip: "192.0.2.1", ipMode: "VIP" }] } };
    const obj = structuredClone(old);
    obj.spec.type = "ClusterIP";
    strategy.prepareForUpdate(obj, old);
    for (const key of ["allocateLoadBalancerNodePorts", "externalTrafficPolicy", "healthCheckNodePort"]) {
      assert.equal(obj.spec[key], undefined, key);
    }
    assert.deepEqual(obj.status, { loadBalancer: {} });
    assert.deepEqual(lines(strategy.validateUpdate(obj, old)), []);
  });

  it("changing only clusterIP moves clusterIPs along (and validation then refuses the change)", () => {
    const obj = structuredClone(stored());
    obj.spec.clusterIP = "10.96.0.11";
    strategy.prepareForUpdate(obj, stored());
    assert.deepEqual(obj.spec.clusterIPs, ["10.96.0.11"]);
    assert.deepEqual(lines(strategy.validateUpdate(obj, stored())), [
      'spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set',
    ]);
  });
});

describe("serviceStrategy.validateUpdate", () => {
  const cases: Array<{
    name: string;
    edit: (obj: ReturnType<typeof stored>, old: ReturnType<typeof stored>) => void;
    want: string[];
  }> = [
    { name: "no change", edit: () => {}, want: [] },
    {
      name: "clusterIPs changed",
      edit: (o) => Object.assign(o.spec, { clusterIP: "10.96.0.99", clusterIPs: ["10.96.0.99"] }),
      want: ['spec.clusterIPs[0]: Invalid value: []string{"10.96.0.99"}: may not change once set'],
    },
    {
      name: "from ExternalName to ClusterIP with any IP",
      edit: (o, old) => {
        old.spec = { type: "ExternalName", externalName: "db.example.com", sessionAffinity: "None" };
        Object.assign(o.spec, { type: "ClusterIP", clusterIP: "10.96.0.99", clusterIPs: ["10.96.0.99"] });
        o.spec.ports = [{ name: "http", port: 80, protocol: "TCP", targetPort: 80 }];
        delete o.spec.externalTrafficPolicy;
      },
      want: [],
    },
    {
      name: "adding a secondary family",
      edit: (o) =>
        Object.assign(o.spec, {
          clusterIPs: ["10.96.0.10", "fd00::10"],
          ipFamilies: ["IPv4", "IPv6"],
          ipFamilyPolicy: "PreferDualStack",
        }),
      want: [],
    },
    {
      name: "releasing the secondary without SingleStack",
      edit: (o, old) => {
        Object.assign(old.spec, {
          clusterIPs: ["10.96.0.10", "fd00::10"],
          ipFamilies: ["IPv4", "IPv6"],
          ipFamilyPolicy: "PreferDualStack",
        });
        o.spec.ipFamilyPolicy = "PreferDualStack";
      },
      want: [
        "spec.ipFamilyPolicy: Invalid value: \"PreferDualStack\": must be set to 'SingleStack' when releasing the secondary clusterIP",
        "spec.ipFamilyPolicy: Invalid value: \"PreferDualStack\": must be set to 'SingleStack' when releasing the secondary ipFamily",
      ],
    },
    {
      name: "changing the primary family",
      edit: (o) => Object.assign(o.spec, { ipFamilies: ["IPv6"] }),
      want: [
        'spec.ipFamilies[0]: Invalid value: []core.IPFamily{"IPv6"}: may not change once set',
        'spec.clusterIPs[0]: Invalid value: "10.96.0.10": expected an IPv6 value as indicated by `ipFamilies[0]`',
      ],
    },
    {
      name: "healthCheckNodePort changed",
      edit: (o, old) => {
        for (const s of [o, old]) {
          Object.assign(s.spec, {
            type: "LoadBalancer",
            allocateLoadBalancerNodePorts: true,
            externalTrafficPolicy: "Local",
            healthCheckNodePort: 30100,
          });
        }
        o.spec.healthCheckNodePort = 30101;
      },
      want: ["spec.healthCheckNodePort: Forbidden: field is immutable"],
    },
    {
      name: "loadBalancerClass changed",
      edit: (o, old) => {
        for (const s of [o, old])
          Object.assign(s.spec, {
            type: "LoadBalancer",
            allocateLoadBalancerNodePorts: true,
            loadBalancerClass: "example.com/a",
          });
        o.spec.loadBalancerClass = "example.com/b";
      },
      want: ['spec.loadBalancerClass: Invalid value: "example.com/b": may not change once set'],
    },
    {
      name: "name and uid are fixed",
      edit: (o) => Object.assign(o.metadata!, { name: "other", uid: "u2" }),
      want: [
        'metadata.name: Invalid value: "other": field is immutable',
        'metadata.uid: Invalid value: "u2": field is immutable',
      ],
    },
    {
      name: "an invalid new spec is reported too",
      edit: (o) => (o.spec.sessionAffinity = "Sticky"),
      want: ['spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const obj = stored();
      const old = stored();
      c.edit(obj, old);
      assert.deepEqual(lines(strategy.validateUpdate(obj, old)), c.want);
    });
  }
});

describe("serviceStrategy.fieldValue", () => {
  it("serves spec.type and spec.clusterIP, nothing else", () => {
    assert.equal(strategy.fieldValue?.(stored(), "spec.type"), "NodePort");
    assert.equal(strategy.fieldValue?.(stored(), "spec.clusterIP"), "10.96.0.10");
    assert.equal(strategy.fieldValue?.(stored(), "spec.selector"), undefined);
  });
});
