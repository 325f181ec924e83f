import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nodeStrategy } from "./node-strategy.ts";
import type { KubeObject } from "./resource-strategy.ts";

const strategy = nodeStrategy();
const now = new Date("2024-03-01T12:00:00Z");

function node(): KubeObject & { spec: Record<string, unknown>; status: Record<string, unknown> } {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: "node-1",
      labels: { "topology.kubernetes.io/zone": "a" },
      creationTimestamp: "2024-02-28T09:00:00Z",
    },
    spec: { podCIDR: "10.244.1.0/24" },
    status: {
      addresses: [
        { type: "InternalIP", address: "192.168.1.10" },
        { type: "Hostname", address: "node-1" },
      ],
      conditions: [{ type: "Ready", status: "True" }],
      nodeInfo: {
        kubeletVersion: "v1.31.0",
        osImage: "Debian GNU/Linux 13",
        kernelVersion: "6.12.0",
        containerRuntimeVersion: "containerd://2.0.0",
      },
    },
  };
}

function lines(problems: ReadonlyArray<{ field: string; message: string }>): string[] {
  return problems.map((p) => `${p.field}: ${p.message}`);
}

describe("nodeStrategy", () => {
  it("keeps the status it is created with and syncs podCIDR into podCIDRs", () => {
    const obj = node();
    strategy.prepareForCreate(obj);
    assert.deepEqual(obj.spec.podCIDRs, ["10.244.1.0/24"]);
    assert.deepEqual(obj.status.conditions, [{ type: "Ready", status: "True" }]);
    assert.deepEqual(lines(strategy.validate(obj)), []);
  });

  const cases: Array<{ name: string; edit: (n: ReturnType<typeof node>) => void; want: string[] }> = [
    {
      name: "pod CIDRs must be CIDRs",
      edit: (n) => (n.spec = { podCIDRs: ["10.244.1.0/24", "fd00::/129"] }),
      want: [
        'spec.podCIDRs[1]: Invalid value: "fd00::/129": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
        'spec.podCIDRs: Invalid value: []string{"10.244.1.0/24", "fd00::/129"}: may specify no more than one CIDR for each IP family',
      ],
    },
    {
      name: "one pod CIDR per family",
      edit: (n) => (n.spec = { podCIDRs: ["10.244.1.0/24", "10.244.2.0/24"] }),
      want: [
        'spec.podCIDRs: Invalid value: []string{"10.244.1.0/24", "10.244.2.0/24"}: may specify no more than one CIDR for each IP family',
      ],
    },
    {
      name: "dual-stack pod CIDRs",
      edit: (n) => (n.spec = { podCIDRs: ["10.244.1.0/24", "fd00:1::/64"] }),
      want: [],
    },
    {
      name: "namespace is not allowed",
      edit: (n) => (n.metadata!.namespace = "default"),
      want: ["metadata.namespace: Forbidden: not allowed on this type"],
    },
    {
      name: "InternalIP must be an IP",
      edit: (n) => (n.status.addresses = [{ type: "InternalIP", address: "node-1.local" }]),
      want: [
        'status.addresses[0].address: Invalid value: "node-1.local": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const n = node();
      c.edit(n);
      strategy.prepareForCreate(n);
      assert.deepEqual(lines(strategy.validate(n)), c.want);
    });
  }

  it("pod CIDRs and providerID may be set once, not changed", () => {
    const unset: KubeObject = { ...node(), spec: {} };
    const set = node();
    strategy.prepareForUpdate(set, unset);
    assert.deepEqual(lines(strategy.validateUpdate(set, unset)), []);

    const old = node();
    strategy.prepareForCreate(old);
    old.spec.providerID = "kproxy://node-1";
    const changed = structuredClone(old);
    changed.spec = { podCIDR: "10.244.9.0/24", podCIDRs: ["10.244.9.0/24"], providerID: "other://x" };
    assert.deepEqual(lines(strategy.validateUpdate(changed, old)), [
      'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid',
      'spec.providerID: Forbidden: node updates may not change providerID except from "" to valid',
    ]);
  });

  it("a main update keeps status; /status changes only status", () => {
    const old = node();
    const main = structuredClone(old);
    main.status = { conditions: [{ type: "Ready", status: "False" }] };
    main.spec.unschedulable = true;
    strategy.prepareForUpdate(main, old);
    assert.deepEqual(main.status, old.status);
    assert.equal(main.spec.unschedulable, true);

    const status = structuredClone(old);
    status.status = { conditions: [{ type: "Ready", status: "False" }] };
    status.spec.unschedulable = true;
    strategy.prepareForUpdate(status, old, "status");
    assert.deepEqual(status.status, { conditions: [{ type: "Ready", status: "False" }] });
    assert.equal(status.spec.unschedulable, undefined);
  });

  it("has kubectl's columns and rows", () => {
    assert.deepEqual(
      strategy.tableColumns.map((c) => [c.name, c.priority]),
      [
        ["Name", 0],
        ["Status", 0],
        ["Roles", 0],
        ["Age", 0],
        ["Version", 0],
        ["Internal-IP", 1],
        ["External-IP", 1],
        ["OS-Image", 1],
        ["Kernel-Version", 1],
        ["Container-Runtime", 1],
      ],
    );
    assert.deepEqual(strategy.tableRow(node(), now), [
      "node-1",
      "Ready",
      "<none>",
      "2d3h",
      "v1.31.0",
      "192.168.1.10",
      "<none>",
      "Debian GNU/Linux 13",
      "6.12.0",
      "containerd://2.0.0",
    ]);
    const cordoned = node();
    cordoned.spec.unschedulable = true;
    cordoned.status = { conditions: [{ type: "Ready", status: "Unknown" }] };
    cordoned.metadata!.labels = {
      "node-role.kubernetes.io/worker": "",
      "node-role.kubernetes.io/control-plane": "",
      "kubernetes.io/role": "edge",
    };
    assert.deepEqual(strategy.tableRow(cordoned, now).slice(0, 3), [
      "node-1",
      "NotReady,SchedulingDisabled",
      "control-plane,edge,worker",
    ]);
    const fresh: KubeObject = { metadata: { name: "node-2" } };
    assert.deepEqual(strategy.tableRow(fresh, now), [
      "node-2",
      "Unknown",
      "<none>",
      "<unknown>",
      "",
      "<none>",
      "<none>",
      "<unknown>",
      "<unknown>",
      "<unknown>",
    ]);
  });

  it("serves spec.unschedulable as a field selector", () => {
    assert.equal(strategy.fieldValue?.(node(), "spec.unschedulable"), "false");
    assert.equal(strategy.fieldValue?.(node(), "spec.podCIDR"), undefined);
  });
});
