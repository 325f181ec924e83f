// Must-show 1: the real `dig` against kproxy's DNS server, over UDP and TCP, for every record kind
// of the Kubernetes DNS specification 1.1.0, with CoreDNS's NXDOMAIN/NODATA/SOA details and
// search-path style queries. The API objects are created through the embedded API server.
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import type { KubernetesObject } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { startDnsServer, type DnsServer, type DnsServerOptions } from "../../src/dns/dns-server.ts";
import { answerData, dig, pollUntil, type DigResult } from "../../src/dns/testing/dig.ts";
import {
  clusterIPService,
  collectionPath,
  endpointSlice,
  externalNameService,
  headlessService,
} from "../../src/dns/testing/dns-fixtures.ts";
import type { ApiServer } from "../../src/apiserver/api-server.ts";
import { apiRequest } from "../../src/apiserver/testing/api-client.ts";
import { startTestApiServer } from "../../src/apiserver/testing/test-api-server.ts";
import { loadKubeConfig } from "../../src/sources/kube-config.ts";
import { silentLogger } from "../../src/sys/logger.ts";
import { missingRequirement, suiteSkip } from "../support/requirements.ts";

const requirement = missingRequirement({ commands: ["dig"] });
const zone = "cluster.local";

/** Everything the tests ask about, created through the embedded API server's REST API. */
async function seed(api: ApiServer): Promise<void> {
  const create = async (obj: KubernetesObject): Promise<void> => {
    const r = await apiRequest(api.url, "POST", collectionPath(obj), { body: obj });
    assert.equal(r.status, 201, `create ${obj.kind} ${obj.metadata?.name}: ${r.text}`);
  };
  await create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "apps" } });
  const objects: KubernetesObject[] = [
    clusterIPService(
      "default",
      "web",
      ["10.96.0.10"],
      [
        { name: "http", port: 80 },
        { name: "dns", port: 53, protocol: "UDP" },
      ],
    ),
    clusterIPService("default", "dual", ["10.96.0.11", "fd00::11"], [{ name: "http", port: 80 }]),
    headlessService("apps", "db", [{ name: "sql", port: 5432 }]),
    headlessService("apps", "pub", [{ name: "sql", port: 5432 }], { publishNotReadyAddresses: true }),
    headlessService("apps", "empty", [{ name: "sql", port: 5432 }]),
    headlessService("apps", "big", [{ name: "http", port: 80 }]),
    externalNameService("default", "ext", "www.example.test"),
    externalNameService("default", "extip", "192.0.2.7"),
    // Selector-less Services: their slices are ours to write, endpoints and readiness as given.
    endpointSlice(
      "apps",
      "db",
      "db-1",
      [
        { ip: "10.1.0.1", hostname: "db-0", pod: "db-0" },
        { ip: "10.1.0.2", pod: "db-x7" },
        { ip: "10.1.0.3", ready: false },
      ],
      [{ name: "sql", port: 5432 }],
    ),
    endpointSlice(
      "apps",
      "pub",
      "pub-1",
      [{ ip: "10.1.1.1" }, { ip: "10.1.1.2", ready: false }],
      [{ name: "sql", port: 5432 }],
    ),
    endpointSlice(
      "apps",
      "empty",
      "empty-1",
      [{ ip: "10.1.2.1", ready: false }],
      [{ name: "sql", port: 5432 }],
    ),
    endpointSlice(
      "apps",
      "big",
      "big-1",
      Array.from({ length: 60 }, (_, i) => ({ ip: `10.2.0.${i + 1}` })),
      [{ name: "http", port: 80 }],
    ),
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { namespace: "apps", name: "db-0" },
      spec: { containers: [{ name: "db", image: "postgres" }] },
    } as KubernetesObject,
  ];
  for (const obj of objects) await create(obj);
  // As a kubelet reports it: the Pod's IP, for verified pod records.
  const status = await apiRequest(api.url, "PATCH", "/api/v1/namespaces/apps/pods/db-0/status", {
    body: { status: { phase: "Running", podIP: "10.1.0.1", podIPs: [{ ip: "10.1.0.1" }] } },
    contentType: "application/merge-patch+json",
  });
  assert.equal(status.status, 200, status.text);
}

async function startServer(api: ApiServer, extra: Partial<DnsServerOptions> = {}): Promise<DnsServer> {
  const server = await startDnsServer({
    kubeConfig: loadKubeConfig({ kubeconfig: "", master: api.url }),
    bindAddress: "127.0.0.1:0",
    clusterDomain: zone,
    ttlSeconds: 5,
    // Nothing listens there: out-of-zone names fail fast (the forwarding test uses a real resolver).
    upstreams: ["127.0.0.1:9"],
    pods: "disabled",
    endpointPodNames: false,
    externalNameIPs: false,
    logger: silentLogger(),
    metrics: new Registry(),
    upstreamTimeoutMs: 500,
    ...extra,
  });
  // Wait until the informers have synced (SERVFAIL before).
  const ready = await pollUntil(
    () => dig("127.0.0.1", server.port, ["dns-version.cluster.local", "TXT"]),
    (r) => r.status === "NOERROR",
    10_000,
    50,
  );
  assert.ok(ready.ok, `server never synced:\n${ready.value.output}`);
  return server;
}

function soaOf(r: DigResult): string[] {
  const soa = r.authority.find((x) => x.type === "SOA");
  assert.ok(soa, `no SOA in authority:\n${r.output}`);
  return [soa.name, String(soa.ttl), soa.type, ...soa.data.split(/\s+/)];
}

describe("dns: dig against kproxy", suiteSkip(requirement), () => {
  let api: ApiServer;
  let server: DnsServer;
  let tuned: DnsServer;

  before(async () => {
    if (requirement !== undefined) throw new Error(requirement);
    api = await startTestApiServer({ serviceClusterIPRange: "10.96.0.0/16,fd00::/108" });
    await seed(api);
    server = await startServer(api);
    tuned = await startServer(api, {
      pods: "verified",
      endpointPodNames: true,
      externalNameIPs: true,
      ttlSeconds: 30,
    });
  });
  after(async () => {
    await server?.close();
    await tuned?.close();
    await api?.close();
  });

  for (const transport of ["udp", "tcp"] as const) {
    const q = (...args: string[]): Promise<DigResult> =>
      dig("127.0.0.1", server.port, transport === "tcp" ? ["+tcp", ...args] : args);

    describe(`over ${transport}`, () => {
      it("answers a ClusterIP Service's A record, authoritatively, with the TTL", async () => {
        const r = await q("web.default.svc.cluster.local", "A");
        assert.equal(r.status, "NOERROR", r.output);
        assert.deepEqual(r.answer, [
          { name: "web.default.svc.cluster.local.", ttl: 5, type: "A", data: "10.96.0.10" },
        ]);
        assert.ok(r.flags.includes("aa"), r.output);
      });

      it("answers AAAA for dual-stack, and NODATA with the SOA for a single-stack Service", async () => {
        assert.deepEqual(answerData(await q("dual.default.svc.cluster.local", "AAAA")), ["fd00::11"]);
        assert.deepEqual(answerData(await q("dual.default.svc.cluster.local", "A")), ["10.96.0.11"]);
        const r = await q("web.default.svc.cluster.local", "AAAA");
        assert.equal(r.status, "NOERROR", r.output);
        assert.equal(r.answer.length, 0);
        // Owner, TTL, SOA, mname, rname, serial, refresh, retry, expire, minimum = the TTL.
        const soa = soaOf(r);
        assert.deepEqual(
          [soa[0], soa[1], soa[2], soa[3], soa[4]],
          ["cluster.local.", "5", "SOA", "ns.dns.cluster.local.", "hostmaster.cluster.local."],
        );
        assert.deepEqual(soa.slice(6), ["7200", "1800", "86400", "5"]);
      });

      it("answers SRV per named port with the target's address in the additional section", async () => {
        const r = await q("_http._tcp.web.default.svc.cluster.local", "SRV");
        assert.deepEqual(answerData(r), ["0 100 80 web.default.svc.cluster.local."]);
        assert.deepEqual(
          r.additional.filter((x) => x.type === "A").map((x) => `${x.name} ${x.data}`),
          ["web.default.svc.cluster.local. 10.96.0.10"],
        );
        assert.deepEqual(answerData(await q("_dns._udp.web.default.svc.cluster.local", "SRV")), [
          "0 100 53 web.default.svc.cluster.local.",
        ]);
        assert.equal((await q("_dns._tcp.web.default.svc.cluster.local", "SRV")).status, "NXDOMAIN");
      });

      it("answers PTR for ClusterIPs and endpoint addresses", async () => {
        assert.deepEqual(answerData(await q("-x", "10.96.0.10")), ["web.default.svc.cluster.local."]);
        assert.deepEqual(answerData(await q("-x", "fd00::11")), ["dual.default.svc.cluster.local."]);
        assert.deepEqual(answerData(await q("-x", "10.1.0.1")), ["db-0.db.apps.svc.cluster.local."]);
        assert.deepEqual(answerData(await q("-x", "10.1.0.2")), ["10-1-0-2.db.apps.svc.cluster.local."]);
      });

      it("answers a headless Service with its ready endpoints, per-endpoint names and SRV N×M", async () => {
        assert.deepEqual(answerData(await q("db.apps.svc.cluster.local", "A")), ["10.1.0.1", "10.1.0.2"]);
        assert.deepEqual(answerData(await q("db-0.db.apps.svc.cluster.local", "A")), ["10.1.0.1"]);
        assert.deepEqual(answerData(await q("10-1-0-2.db.apps.svc.cluster.local", "A")), ["10.1.0.2"]);
        assert.equal((await q("10-1-0-3.db.apps.svc.cluster.local", "A")).status, "NXDOMAIN");
        const srv = await q("_sql._tcp.db.apps.svc.cluster.local", "SRV");
        assert.deepEqual(answerData(srv), [
          "0 50 5432 10-1-0-2.db.apps.svc.cluster.local.",
          "0 50 5432 db-0.db.apps.svc.cluster.local.",
        ]);
        assert.deepEqual(srv.additional.map((x) => x.data).sort(), ["10.1.0.1", "10.1.0.2"]);
        assert.deepEqual(answerData(await q("pub.apps.svc.cluster.local", "A")), ["10.1.1.1", "10.1.1.2"]);
      });

      it("answers NXDOMAIN with the SOA for a headless Service without ready endpoints and unknown names", async () => {
        for (const name of [
          "empty.apps.svc.cluster.local",
          "nope.default.svc.cluster.local",
          "web.nope.svc.cluster.local",
          "nope.cluster.local",
        ]) {
          const r = await q(name, "A");
          assert.equal(r.status, "NXDOMAIN", r.output);
          assert.equal(soaOf(r)[2], "SOA");
        }
      });

      it("answers NODATA for names that exist without records (zone apex, svc, a namespace)", async () => {
        for (const name of [
          "cluster.local",
          "svc.cluster.local",
          "default.svc.cluster.local",
          "apps.svc.cluster.local",
        ]) {
          const r = await q(name, "A");
          assert.equal(r.status, "NOERROR", `${name}\n${r.output}`);
          assert.equal(r.answer.length, 0);
          assert.equal(soaOf(r)[2], "SOA");
        }
        const soa = await q("cluster.local", "SOA");
        assert.equal(soa.answer[0]?.type, "SOA", soa.output);
        assert.deepEqual(answerData(await q("cluster.local", "NS")), ["ns.dns.cluster.local."]);
      });

      it("answers dns-version TXT and ExternalName CNAMEs; an IP-looking ExternalName gets none", async () => {
        assert.deepEqual(answerData(await q("dns-version.cluster.local", "TXT")), ['"1.1.0"']);
        const cname = await q("ext.default.svc.cluster.local", "CNAME");
        assert.deepEqual(answerData(cname), ["www.example.test."]);
        assert.equal((await q("extip.default.svc.cluster.local", "A")).status, "NXDOMAIN");
      });

      it("answers no pod records while they are disabled", async () => {
        assert.equal((await q("10-1-0-1.apps.pod.cluster.local", "A")).status, "NXDOMAIN");
      });

      it("resolves search-path style names the way a Pod's resolver asks them", async () => {
        // resolv.conf-like search lists with ndots:5, as kubelet writes them for Pods.
        const inNs = await q("+search", "+ndots=5", "+domain=default.svc.cluster.local", "web", "A");
        assert.deepEqual(answerData(inNs, "A"), ["10.96.0.10"], inNs.output);
        const viaSvc = await q("+search", "+ndots=5", "+domain=svc.cluster.local", "db.apps", "A");
        assert.deepEqual(answerData(viaSvc, "A"), ["10.1.0.1", "10.1.0.2"], viaSvc.output);
        // The expansions a resolver tries first for a full name must be NXDOMAIN, not errors.
        const expanded = await q("web.default.svc.cluster.local.default.svc.cluster.local", "A");
        assert.equal(expanded.status, "NXDOMAIN", expanded.output);
        assert.equal((await q("web.default.svc.svc.cluster.local", "A")).status, "NXDOMAIN");
      });
    });
  }

  it("truncates a UDP answer larger than 512 bytes or the EDNS0 size, and serves it in full over TCP", async () => {
    const name = "big.apps.svc.cluster.local";
    const plain = await dig("127.0.0.1", server.port, ["+noedns", "+ignore", name, "A"]);
    assert.ok(plain.flags.includes("tc"), plain.output);
    assert.equal(plain.answer.length, 0);
    const small = await dig("127.0.0.1", server.port, ["+bufsize=512", "+ignore", name, "A"]);
    assert.ok(small.flags.includes("tc"), small.output);
    const large = await dig("127.0.0.1", server.port, ["+bufsize=4096", name, "A"]);
    assert.ok(!large.flags.includes("tc"), large.output);
    assert.equal(large.answer.length, 60);
    // dig retries over TCP by itself after TC, as stub resolvers do.
    const retried = await dig("127.0.0.1", server.port, ["+bufsize=512", name, "A"]);
    assert.equal(retried.answer.length, 60, retried.output);
    const tcp = await dig("127.0.0.1", server.port, ["+tcp", "+noedns", name, "A"]);
    assert.equal(tcp.answer.length, 60);
  });

  it("applies the options: TTL, verified pod records, pod-named endpoints, IP ExternalNames", async () => {
    const q = (...args: string[]): Promise<DigResult> => dig("127.0.0.1", tuned.port, args);
    const web = await q("web.default.svc.cluster.local", "A");
    assert.equal(web.answer[0]?.ttl, 30);
    assert.equal(soaOf(await q("web.default.svc.cluster.local", "AAAA")).at(-1), "30");
    assert.deepEqual(answerData(await q("10-1-0-1.apps.pod.cluster.local", "A")), ["10.1.0.1"]);
    assert.equal((await q("10-1-0-9.apps.pod.cluster.local", "A")).status, "NXDOMAIN");
    assert.equal((await q("10-1-0-1.default.pod.cluster.local", "A")).status, "NXDOMAIN");
    assert.deepEqual(answerData(await q("db-x7.db.apps.svc.cluster.local", "A")), ["10.1.0.2"]);
    assert.deepEqual(answerData(await q("-x", "10.1.0.2")), ["db-x7.db.apps.svc.cluster.local."]);
    assert.deepEqual(answerData(await q("extip.default.svc.cluster.local", "A")), ["192.0.2.7"]);
  });

  it("answers SERVFAIL for cluster names until the informers have synced", async () => {
    // An API server that accepts connections but never answers keeps the informers unsynced.
    const held = new Set<Socket>();
    const silent = createServer((socket) => {
      held.add(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    const stalled = await startDnsServer({
      kubeConfig: loadKubeConfig({ kubeconfig: "", master: `http://127.0.0.1:${port}` }),
      bindAddress: "127.0.0.1:0",
      clusterDomain: zone,
      ttlSeconds: 5,
      upstreams: ["127.0.0.1:9"],
      pods: "disabled",
      endpointPodNames: false,
      externalNameIPs: false,
      logger: silentLogger(),
      metrics: new Registry(),
    });
    try {
      const r = await dig("127.0.0.1", stalled.port, ["web.default.svc.cluster.local", "A"]);
      assert.equal(r.status, "SERVFAIL", r.output);
      assert.equal((await dig("127.0.0.1", stalled.port, ["-x", "10.96.0.10"])).status, "SERVFAIL");
    } finally {
      await stalled.close();
      // The informers' pending list requests would otherwise hold the test process for minutes.
      for (const socket of held) socket.destroy();
      silent.close();
    }
  });
});
