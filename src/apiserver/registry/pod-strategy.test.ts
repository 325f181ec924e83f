import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { podStrategy } from "./pod-strategy.ts";
import type { KubeObject } from "./resource-strategy.ts";

const strategy = podStrategy();
const now = new Date("2024-03-01T12:00:00Z");

function pod(): KubeObject & { spec: Record<string, unknown>; status: Record<string, unknown> } {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "web-1",
      namespace: "default",
      labels: { app: "web" },
      creationTimestamp: "2024-03-01T11:00:00Z",
    },
    spec: {
      nodeName: "node-1",
      containers: [
        { name: "app", image: "nginx:1.27", ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }] },
      ],
    },
    status: {},
  };
}

function lines(problems: ReadonlyArray<{ field: string; message: string }>): string[] {
  return problems.map((p) => `${p.field}: ${p.message}`);
}

describe("podStrategy.prepareForCreate", () => {
  it("defaults the spec and starts Pending whatever status was sent", () => {
    const obj = pod();
    obj.status = { phase: "Running", podIP: "10.1.0.1" };
    strategy.prepareForCreate(obj);
    assert.deepEqual(obj.status, { phase: "Pending", qosClass: "BestEffort" });
    assert.equal(obj.spec.restartPolicy, "Always");
    assert.equal(obj.spec.dnsPolicy, "ClusterFirst");
    assert.equal(obj.spec.terminationGracePeriodSeconds, 30);
    const container = (obj.spec.containers as Array<Record<string, unknown>>)[0];
    assert.equal(container?.imagePullPolicy, "IfNotPresent");
    assert.equal(container?.terminationMessagePath, "/dev/termination-log");
  });

  it("pulls :latest and untagged images always, and defaults container port protocols", () => {
    const obj = pod();
    obj.spec.containers = [
      { name: "a", image: "nginx", ports: [{ containerPort: 80 }] },
      { name: "b", image: "registry.local:5000/nginx:latest" },
      { name: "c", image: "registry.local:5000/nginx" },
      { name: "d", image: "nginx@sha256:abc" },
    ];
    strategy.prepareForCreate(obj);
    const containers = obj.spec.containers as Array<Record<string, unknown>>;
    assert.deepEqual(
      containers.map((c) => c.imagePullPolicy),
      ["Always", "Always", "Always", "IfNotPresent"],
    );
    assert.deepEqual(containers[0]?.ports, [{ containerPort: 80, protocol: "TCP" }]);
  });

  it("derives the QoS class", () => {
    const guaranteed = pod();
    guaranteed.spec.containers = [
      { name: "a", image: "x:1", resources: { limits: { cpu: "1", memory: "1Gi" } } },
    ];
    strategy.prepareForCreate(guaranteed);
    assert.equal(guaranteed.status.qosClass, "Guaranteed");
    const burstable = pod();
    burstable.spec.containers = [{ name: "a", image: "x:1", resources: { requests: { cpu: "100m" } } }];
    strategy.prepareForCreate(burstable);
    assert.equal(burstable.status.qosClass, "Burstable");
  });
});

describe("podStrategy.prepareForUpdate", () => {
  it("a main update keeps status; a /status update keeps everything else and syncs podIP/podIPs", () => {
    const old = pod();
    old.status = { phase: "Pending" };
    const main = structuredClone(old);
    main.status = { phase: "Running" };
    main.metadata!.labels = { app: "web", version: "2" };
    strategy.prepareForUpdate(main, old);
    assert.deepEqual(main.status, { phase: "Pending" });
    assert.deepEqual(main.metadata?.labels, { app: "web", version: "2" });

    const status = structuredClone(old);
    status.status = { phase: "Running", podIP: "10.1.0.1", conditions: [{ type: "Ready", status: "True" }] };
    status.metadata!.labels = { app: "other" };
    strategy.prepareForUpdate(status, old, "status");
    assert.deepEqual(status.status, {
      phase: "Running",
      podIP: "10.1.0.1",
      podIPs: [{ ip: "10.1.0.1" }],
      conditions: [{ type: "Ready", status: "True" }],
    });
    assert.deepEqual(status.metadata?.labels, { app: "web" });
  });
});

describe("podStrategy.validate", () => {
  const cases: Array<{ name: string; edit: (p: ReturnType<typeof pod>) => void; want: string[] }> = [
    { name: "a valid pod", edit: () => {}, want: [] },
    {
      name: "no containers",
      edit: (p) => (p.spec.containers = []),
      want: ["spec.containers: Required value"],
    },
    {
      name: "container name and image required",
      edit: (p) => (p.spec.containers = [{ ports: [] }]),
      want: ["spec.containers[0].name: Required value", "spec.containers[0].image: Required value"],
    },
    {
      name: "duplicate container names",
      edit: (p) =>
        (p.spec.containers = [
          { name: "a", image: "x:1" },
          { name: "a", image: "y:1" },
        ]),
      want: ['spec.containers[1].name: Duplicate value: "a"'],
    },
    {
      name: "container ports",
      edit: (p) =>
        (p.spec.containers = [
          {
            name: "a",
            image: "x:1",
            ports: [
              { name: "http", containerPort: 0, protocol: "TCP" },
              { name: "http", containerPort: 81, protocol: "ICMP" },
              { name: "Web_Port", containerPort: 82, protocol: "TCP" },
            ],
          },
        ]),
      want: [
        "spec.containers[0].ports[0].containerPort: Invalid value: 0: must be between 1 and 65535, inclusive",
        'spec.containers[0].ports[1].name: Duplicate value: "http"',
        'spec.containers[0].ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
        'spec.containers[0].ports[2].name: Invalid value: "Web_Port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      ],
    },
    {
      name: "restart policy",
      edit: (p) => (p.spec.restartPolicy = "Sometimes"),
      want: [
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"',
      ],
    },
    {
      name: "pod IPs",
      edit: (p) => (p.status = { podIP: "10.1.0.2", podIPs: [{ ip: "10.1.0.1" }, { ip: "bad" }] }),
      want: [
        'status.podIPs[1].ip: Invalid value: "bad": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
        'status.podIP: Invalid value: "10.1.0.2": must match `status.podIPs[0].ip`',
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = pod();
      c.edit(p);
      assert.deepEqual(lines(strategy.validate(p)), c.want);
    });
  }
});

describe("podStrategy.validateUpdate", () => {
  it("allows image changes and a first nodeName, forbids other spec changes", () => {
    const old = pod();
    delete old.spec.nodeName;
    const ok = structuredClone(old);
    (ok.spec.containers as Array<Record<string, unknown>>)[0]!.image = "nginx:1.28";
    ok.spec.nodeName = "node-2";
    assert.deepEqual(lines(strategy.validateUpdate(ok, old)), []);

    const bad = structuredClone(old);
    (bad.spec.containers as Array<Record<string, unknown>>)[0]!.ports = [];
    const problems = strategy.validateUpdate(bad, old);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.field, "spec");
    assert.match(
      problems[0]?.message ?? "",
      /^Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/,
    );
    assert.match(problems[0]?.message ?? "", /changed: spec.containers$/);
  });
});

describe("podStrategy table", () => {
  it("has kubectl's columns", () => {
    assert.deepEqual(
      strategy.tableColumns.map((c) => [c.name, c.priority]),
      [
        ["Name", 0],
        ["Ready", 0],
        ["Status", 0],
        ["Restarts", 0],
        ["Age", 0],
        ["IP", 1],
        ["Node", 1],
        ["Nominated Node", 1],
        ["Readiness Gates", 1],
      ],
    );
  });
  const cases: Array<{ name: string; edit: (p: ReturnType<typeof pod>) => void; want: unknown[] }> = [
    {
      name: "pending",
      edit: (p) => (p.status = { phase: "Pending" }),
      want: ["web-1", "0/1", "Pending", "0", "60m", "<none>", "node-1", "<none>", "<none>"],
    },
    {
      name: "running and ready, restarted once",
      edit: (p) =>
        (p.status = {
          phase: "Running",
          podIPs: [{ ip: "10.1.0.1" }],
          containerStatuses: [
            {
              name: "app",
              ready: true,
              restartCount: 1,
              state: { running: {} },
              lastState: { terminated: { finishedAt: "2024-03-01T11:58:00Z" } },
            },
          ],
        }),
      want: ["web-1", "1/1", "Running", "1 (2m ago)", "60m", "10.1.0.1", "node-1", "<none>", "<none>"],
    },
    {
      name: "crash looping",
      edit: (p) =>
        (p.status = {
          phase: "Running",
          containerStatuses: [
            {
              name: "app",
              ready: false,
              restartCount: 4,
              state: { waiting: { reason: "CrashLoopBackOff" } },
            },
          ],
        }),
      want: ["web-1", "0/1", "CrashLoopBackOff", "4", "60m", "<none>", "node-1", "<none>", "<none>"],
    },
    {
      name: "initialising",
      edit: (p) => {
        p.spec.initContainers = [{ name: "init", image: "busybox:1" }];
        p.status = { phase: "Pending", initContainerStatuses: [{ name: "init", state: { running: {} } }] };
      },
      want: ["web-1", "0/1", "Init:0/1", "0", "60m", "<none>", "node-1", "<none>", "<none>"],
    },
    {
      name: "terminating, with readiness gates",
      edit: (p) => {
        p.metadata!.deletionTimestamp = "2024-03-01T11:59:00Z";
        p.spec.readinessGates = [{ conditionType: "example.com/lb" }];
        p.status = { phase: "Running", conditions: [{ type: "example.com/lb", status: "True" }] };
      },
      want: ["web-1", "0/1", "Terminating", "0", "60m", "<none>", "node-1", "<none>", "1/1"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = pod();
      c.edit(p);
      assert.deepEqual(strategy.tableRow(p, now), c.want);
    });
  }
});

describe("podStrategy.fieldValue", () => {
  it("serves the field selectors kube-apiserver supports for pods", () => {
    const p = pod();
    p.status = { phase: "Running", podIPs: [{ ip: "10.1.0.1" }] };
    assert.equal(strategy.fieldValue?.(p, "spec.nodeName"), "node-1");
    assert.equal(strategy.fieldValue?.(p, "status.phase"), "Running");
    assert.equal(strategy.fieldValue?.(p, "status.podIP"), "10.1.0.1");
    assert.equal(strategy.fieldValue?.(p, "spec.hostNetwork"), "false");
    assert.equal(strategy.fieldValue?.(p, "spec.containers"), undefined);
  });
});
