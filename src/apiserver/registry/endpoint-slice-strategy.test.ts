import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { endpointSliceStrategy } from "./endpoint-slice-strategy.ts";
import type { KubeObject } from "./resource-strategy.ts";

const strategy = endpointSliceStrategy();
const now = new Date("2024-03-01T12:00:00Z");

function slice(): KubeObject & {
  endpoints: Array<Record<string, unknown>>;
  ports: Array<Record<string, unknown>>;
} {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: "web-abc12",
      namespace: "default",
      labels: { "kubernetes.io/service-name": "web" },
      creationTimestamp: "2024-03-01T11:57:00Z",
    },
    addressType: "IPv4",
    endpoints: [
      {
        addresses: ["10.1.0.1"],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: "node-1",
        zone: "a",
      },
      { addresses: ["10.1.0.2"], conditions: { ready: false } },
    ],
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
  };
}

function lines(problems: ReadonlyArray<{ field: string; message: string }>): string[] {
  return problems.map((p) => `${p.field}: ${p.message}`);
}

const dns1123Label =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

describe("endpointSliceStrategy.validate", () => {
  const cases: Array<{ name: string; edit: (s: ReturnType<typeof slice>) => void; want: string[] }> = [
    { name: "a valid slice", edit: () => {}, want: [] },
    { name: "the service-name label is optional", edit: (s) => delete s.metadata!.labels, want: [] },
    { name: "addressType missing", edit: (s) => delete s.addressType, want: ["addressType: Required value"] },
    {
      name: "unsupported addressType",
      edit: (s) => (s.addressType = "IP"),
      want: ['addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"'],
    },
    {
      name: "IPv4 addresses",
      edit: (s) =>
        (s.endpoints = [{ addresses: ["fd00::1", "10.1.0.300", "0.0.0.0", "169.254.0.5", "127.0.0.1"] }]),
      want: [
        'endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address',
        'endpoints[0].addresses[1]: Invalid value: "10.1.0.300": must be a valid IPv4 address',
        'endpoints[0].addresses[2]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)',
        'endpoints[0].addresses[3]: Invalid value: "169.254.0.5": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
      ],
    },
    {
      name: "IPv6 addresses",
      edit: (s) => {
        s.addressType = "IPv6";
        s.endpoints = [{ addresses: ["fd00::1", "10.1.0.1", "ff02::1"] }];
      },
      want: [
        'endpoints[0].addresses[1]: Invalid value: "10.1.0.1": must be a valid IPv6 address',
        'endpoints[0].addresses[2]: Invalid value: "ff02::1": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)',
      ],
    },
    {
      name: "FQDN addresses",
      edit: (s) => {
        s.addressType = "FQDN";
        s.endpoints = [{ addresses: ["db.example.com", "db.example.com.", "localhost", "Db.example.com"] }];
      },
      want: [
        'endpoints[0].addresses[2]: Invalid value: "localhost": should be a domain with at least two segments separated by dots',
        `endpoints[0].addresses[3]: Invalid value: "Db.example.com": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      ],
    },
    {
      name: "an endpoint without addresses",
      edit: (s) => (s.endpoints = [{ addresses: [] }]),
      want: ["endpoints[0].addresses: Required value: must contain at least 1 address"],
    },
    {
      name: "an endpoint with 101 addresses",
      edit: (s) =>
        (s.endpoints = [{ addresses: Array.from({ length: 101 }, (_, i) => `10.2.${i >> 8}.${i & 255}`) }]),
      want: ["endpoints[0].addresses: Too many: 101: must have at most 100 items"],
    },
    {
      name: "1000 endpoints are fine",
      edit: (s) =>
        (s.endpoints = Array.from({ length: 1000 }, (_, i) => ({
          addresses: [`10.2.${i >> 8}.${i & 255}`],
        }))),
      want: [],
    },
    {
      name: "1001 endpoints",
      edit: (s) =>
        (s.endpoints = Array.from({ length: 1001 }, (_, i) => ({
          addresses: [`10.2.${i >> 8}.${i & 255}`],
        }))),
      want: ["endpoints: Too many: 1001: must have at most 1000 items"],
    },
    {
      name: "conditions must be booleans",
      edit: (s) =>
        (s.endpoints = [
          { addresses: ["10.1.0.1"], conditions: { ready: "yes", serving: 1, terminating: false } },
        ]),
      want: [
        'endpoints[0].conditions.ready: Invalid value: "yes": must be a boolean',
        "endpoints[0].conditions.serving: Invalid value: 1: must be a boolean",
      ],
    },
    {
      name: "nodeName and hostname syntax",
      edit: (s) => (s.endpoints = [{ addresses: ["10.1.0.1"], nodeName: "Node_1", hostname: "pod.1" }]),
      want: [
        `endpoints[0].nodeName: Invalid value: "Node_1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
        `endpoints[0].hostname: Invalid value: "pod.1": ${dns1123Label}`,
      ],
    },
    {
      name: "zone hints",
      edit: (s) =>
        (s.endpoints = [{ addresses: ["10.1.0.1"], hints: { forZones: [{ name: "a" }, { name: "a" }] } }]),
      want: ['endpoints[0].hints.forZones[1].name: Duplicate value: "a"'],
    },
    {
      name: "port names: DNS-1123 labels or empty, unique",
      edit: (s) =>
        (s.ports = [
          { name: "", port: 80, protocol: "TCP" },
          { name: "", port: 81, protocol: "TCP" },
          { name: "Web", port: 82, protocol: "TCP" },
        ]),
      want: ['ports[1].name: Duplicate value: ""', `ports[2].name: Invalid value: "Web": ${dns1123Label}`],
    },
    {
      name: "port numbers and protocols",
      edit: (s) =>
        (s.ports = [
          { name: "a", port: 0, protocol: "TCP" },
          { name: "b", port: 65536, protocol: "TCP" },
          { name: "c", protocol: "UDP" },
          { name: "d", port: 53, protocol: "ICMP" },
          { name: "e", port: 54 },
        ]),
      want: [
        "ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        "ports[1].port: Invalid value: 65536: must be between 1 and 65535, inclusive",
        'ports[3].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
        "ports[4].protocol: Required value",
      ],
    },
    {
      name: "20001 ports",
      edit: (s) =>
        (s.ports = Array.from({ length: 20001 }, (_, i) => ({
          name: `p${i}`,
          port: 1 + (i % 65535),
          protocol: "TCP",
        }))),
      want: ["ports: Too many: 20001: must have at most 20000 items"],
    },
    {
      name: "name must be a DNS-1123 subdomain",
      edit: (s) => (s.metadata!.name = "Web"),
      want: [
        `metadata.name: Invalid value: "Web": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = slice();
      c.edit(s);
      assert.deepEqual(lines(strategy.validate(s)), c.want);
    });
  }
});

describe("endpointSliceStrategy updates", () => {
  it("addressType is immutable", () => {
    const obj = slice();
    obj.addressType = "FQDN";
    obj.endpoints = [{ addresses: ["db.example.com"] }];
    assert.deepEqual(lines(strategy.validateUpdate(obj, slice())), [
      'addressType: Invalid value: "FQDN": field is immutable',
    ]);
  });

  it("defaults ports and counts generations by content changes only", () => {
    const created: KubeObject = { ...slice(), ports: [{ port: 80 }] };
    strategy.prepareForCreate(created);
    assert.deepEqual(created.ports, [{ port: 80, name: "", protocol: "TCP" }]);
    assert.equal(created.metadata?.generation, 1);

    const relabelled = structuredClone(created);
    relabelled.metadata!.labels = { other: "x" };
    strategy.prepareForUpdate(relabelled, created);
    assert.equal(relabelled.metadata?.generation, 1);

    const moved = structuredClone(created);
    (moved.endpoints as Array<Record<string, unknown>>).pop();
    strategy.prepareForUpdate(moved, created);
    assert.equal(moved.metadata?.generation, 2);
  });
});

describe("endpointSliceStrategy table", () => {
  it("has kubectl's columns", () => {
    assert.deepEqual(
      strategy.tableColumns.map((c) => c.name),
      ["Name", "AddressType", "Ports", "Endpoints", "Age"],
    );
  });
  const cases: Array<{ name: string; edit: (s: ReturnType<typeof slice>) => void; want: unknown[] }> = [
    { name: "a small slice", edit: () => {}, want: ["web-abc12", "IPv4", "8080", "10.1.0.1,10.1.0.2", "3m"] },
    {
      name: "no ports and no endpoints",
      edit: (s) => {
        s.ports = [];
        s.endpoints = [];
      },
      want: ["web-abc12", "IPv4", "<unset>", "<unset>", "3m"],
    },
    {
      name: "more than three of each",
      edit: (s) => {
        s.ports = [80, 443, 8080, 8443, 9090].map((port) => ({ name: `p${port}`, port, protocol: "TCP" }));
        s.endpoints = [
          { addresses: ["10.1.0.1"] },
          { addresses: ["10.1.0.2"] },
          { addresses: ["10.1.0.3"] },
          { addresses: ["10.1.0.4"] },
          { addresses: ["10.1.0.5"] },
        ];
      },
      want: ["web-abc12", "IPv4", "80,443,8080 + 2 more...", "10.1.0.1,10.1.0.2,10.1.0.3 + 2 more...", "3m"],
    },
    {
      name: "a port without a number shows its name",
      edit: (s) => (s.ports = [{ name: "dns", protocol: "UDP" }]),
      want: ["web-abc12", "IPv4", "dns", "10.1.0.1,10.1.0.2", "3m"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = slice();
      c.edit(s);
      assert.deepEqual(strategy.tableRow(s, now), c.want);
    });
  }
});
