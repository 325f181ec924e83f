import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { serviceRecords, type ServiceRecordOptions } from "./service-records.ts";
import {
  clusterIPService,
  endpointSlice,
  externalNameService,
  headlessService,
} from "./testing/dns-fixtures.ts";

const options: ServiceRecordOptions = {
  zone: "cluster.local",
  endpointPodNames: false,
  externalNameIPs: false,
};
const base = (svc: string, ns = "default"): string => `${svc}.${ns}.svc.cluster.local`;

describe("serviceRecords", () => {
  it("gives a ClusterIP Service its addresses, SRV per named port, and PTRs", () => {
    const svc = clusterIPService(
      "default",
      "web",
      ["10.96.0.10", "fd00::10"],
      [{ name: "http", port: 80 }, { name: "dns", port: 53, protocol: "UDP" }, { port: 9000 }],
    );
    const r = serviceRecords(svc, [], options);
    assert.deepEqual([...r.names.keys()].sort(), [
      `_dns._udp.${base("web")}`,
      `_http._tcp.${base("web")}`,
      base("web"),
    ]);
    const main = r.names.get(base("web"));
    assert.deepEqual(main?.a, ["10.96.0.10"]);
    assert.deepEqual(main?.aaaa, ["fd00::10"]);
    // Every port (named or not) under the Service name; weights share 100.
    assert.deepEqual(
      main?.srv.map((s) => `${s.priority} ${s.weight} ${s.port} ${s.target}`),
      [`0 33 53 ${base("web")}`, `0 33 80 ${base("web")}`, `0 33 9000 ${base("web")}`],
    );
    assert.deepEqual(
      r.names.get(`_dns._udp.${base("web")}`)?.srv.map((s) => `${s.weight} ${s.port}`),
      ["100 53"],
    );
    assert.deepEqual(r.reverse.get("10.0.96.10.in-addr.arpa"), [base("web")]);
    assert.equal(r.reverse.size, 2);
  });

  it("gives a ClusterIP Service without ports no name at all (CoreDNS)", () => {
    assert.equal(
      serviceRecords(clusterIPService("default", "web", ["10.96.0.10"], []), [], options).names.size,
      0,
    );
  });

  it("answers a headless Service with ready endpoints only, named per endpoint, SRV N×M", () => {
    const svc = headlessService("db", "pg", [{ name: "sql", port: 5432 }]);
    const slice = endpointSlice(
      "db",
      "pg",
      "pg-abc",
      [{ ip: "10.0.0.1", hostname: "pg-0" }, { ip: "10.0.0.2" }, { ip: "10.0.0.3", ready: false }],
      [
        { name: "sql", port: 5432 },
        { name: "metrics", port: 9187 },
      ],
    );
    const r = serviceRecords(svc, [slice], options);
    const b = base("pg", "db");
    assert.deepEqual(r.names.get(b)?.a, ["10.0.0.1", "10.0.0.2"]);
    assert.deepEqual(
      r.names.get(b)?.srv.map((s) => `${s.weight} ${s.port} ${s.target}`),
      [`25 5432 10-0-0-2.${b}`, `25 9187 10-0-0-2.${b}`, `25 5432 pg-0.${b}`, `25 9187 pg-0.${b}`],
    );
    assert.deepEqual(r.names.get(`pg-0.${b}`)?.a, ["10.0.0.1"]);
    assert.deepEqual(r.names.get(`10-0-0-2.${b}`)?.a, ["10.0.0.2"]);
    assert.equal(r.names.has(`10-0-0-3.${b}`), false);
    assert.deepEqual(r.names.get(`_metrics._tcp.${b}`)?.a, ["10.0.0.1", "10.0.0.2"]);
    assert.deepEqual(r.reverse.get("1.0.0.10.in-addr.arpa"), [`pg-0.${b}`]);
    assert.equal(r.reverse.has("3.0.0.10.in-addr.arpa"), false);
  });

  it("includes not-ready endpoints with publishNotReadyAddresses, and names after Pods on request", () => {
    const svc = headlessService("db", "pg", [], { publishNotReadyAddresses: true });
    const slice = endpointSlice("db", "pg", "s", [{ ip: "10.0.0.3", ready: false, pod: "pg-7c9" }], []);
    const r = serviceRecords(svc, [slice], { ...options, endpointPodNames: true });
    const b = base("pg", "db");
    assert.deepEqual(r.names.get(b)?.a, ["10.0.0.3"]);
    assert.deepEqual(r.names.get(b)?.srv, []);
    assert.deepEqual(r.names.get(`pg-7c9.${b}`)?.a, ["10.0.0.3"]);
  });

  it("gives a headless Service without ready endpoints no name (NXDOMAIN, per the spec)", () => {
    const svc = headlessService("db", "pg", [{ name: "sql", port: 5432 }]);
    const slice = endpointSlice(
      "db",
      "pg",
      "s",
      [{ ip: "10.0.0.3", ready: false }],
      [{ name: "sql", port: 5432 }],
    );
    assert.equal(serviceRecords(svc, [slice], options).names.size, 0);
  });

  it("merges dual-stack slices under one hostname", () => {
    const svc = headlessService("db", "pg", []);
    const v4 = endpointSlice("db", "pg", "a", [{ ip: "10.0.0.1", hostname: "pg-0" }], []);
    const v6 = endpointSlice("db", "pg", "b", [{ ip: "fd00::1", hostname: "pg-0" }], [], "IPv6");
    const r = serviceRecords(svc, [v4, v6], options);
    const name = `pg-0.${base("pg", "db")}`;
    assert.deepEqual(r.names.get(name)?.a, ["10.0.0.1"]);
    assert.deepEqual(r.names.get(name)?.aaaa, ["fd00::1"]);
  });

  it("points an ExternalName at its target, and an IP-looking one nowhere unless asked", () => {
    const cname = serviceRecords(externalNameService("default", "ext", "Example.COM."), [], options);
    assert.equal(cname.names.get(base("ext"))?.cname, "example.com");
    assert.equal(
      serviceRecords(externalNameService("default", "ip", "192.0.2.7"), [], options).names.size,
      0,
    );
    const ip = serviceRecords(externalNameService("default", "ip", "192.0.2.7"), [], {
      ...options,
      externalNameIPs: true,
    });
    assert.deepEqual(ip.names.get(base("ip"))?.a, ["192.0.2.7"]);
    assert.equal(ip.names.get(base("ip"))?.cname, undefined);
  });
});
