import assert from "node:assert/strict";
import type { Answer } from "dns-packet";
import { describe, it } from "node:test";
import { DnsIndex } from "./dns-index.ts";
import type { PodRecordMode } from "./dns-settings.ts";
import { resolveQuestion, type ZoneSettings } from "./resolve-question.ts";
import { answerData, answerTtl } from "./testing/reply-fields.ts";
import {
  clusterIPService,
  endpointSlice,
  externalNameService,
  headlessService,
} from "./testing/dns-fixtures.ts";

function fixture(): DnsIndex {
  const index = new DnsIndex({ zone: "cluster.local", endpointPodNames: false, externalNameIPs: false });
  index.upsertNamespace({ metadata: { name: "default" } });
  index.upsertNamespace({ metadata: { name: "empty" } });
  index.upsertService(clusterIPService("default", "web", ["10.96.0.10"], [{ name: "http", port: 80 }]));
  index.upsertService(headlessService("default", "hl", [{ name: "http", port: 80 }]));
  index.upsertEndpointSlice(
    endpointSlice(
      "default",
      "hl",
      "hl-1",
      [{ ip: "10.0.0.1", hostname: "w-0" }],
      [{ name: "http", port: 8080 }],
    ),
  );
  index.upsertService(externalNameService("default", "ext", "example.com"));
  index.upsertService(externalNameService("default", "alias", "web.default.svc.cluster.local"));
  index.upsertPod({
    metadata: { namespace: "default", name: "p" },
    status: { phase: "Running", podIP: "10.1.0.5" },
  });
  return index;
}

const settings = (pods: PodRecordMode = "disabled"): ZoneSettings => ({
  zone: "cluster.local",
  ttlSeconds: 7,
  pods,
  nameserverIPs: ["10.96.0.53"],
});

/** `rcode answers…` with answers as `TYPE data`, or `forward`. */
function ask(name: string, type: string, pods: PodRecordMode = "disabled", index = fixture()): string {
  const r = resolveQuestion(index, { name, type }, settings(pods));
  if (r.kind === "forward") return "forward";
  const show = (a: Answer): string => {
    const data = answerData(a);
    return `${a.type} ${typeof data === "object" ? JSON.stringify(data) : String(data)}`;
  };
  const auth = r.authorities.length > 0 ? ` +${r.authorities.map((a) => a.type).join(",")}` : "";
  return [`${r.rcode}${auth}`, ...r.answers.map(show)].join(" | ");
}

describe("resolveQuestion", () => {
  it("answers names that exist, and NODATA with the SOA for other types", () => {
    assert.equal(ask("web.default.svc.cluster.local", "A"), "NOERROR | A 10.96.0.10");
    assert.equal(ask("WEB.Default.svc.cluster.local.", "A"), "NOERROR | A 10.96.0.10");
    assert.equal(ask("web.default.svc.cluster.local", "AAAA"), "NOERROR +SOA");
    assert.equal(ask("web.default.svc.cluster.local", "TXT"), "NOERROR +SOA");
    assert.equal(ask("web.default.svc.cluster.local", "ANY"), "NOERROR +SOA");
    assert.equal(ask("hl.default.svc.cluster.local", "A"), "NOERROR | A 10.0.0.1");
    assert.equal(ask("w-0.hl.default.svc.cluster.local", "A"), "NOERROR | A 10.0.0.1");
    assert.equal(
      ask("_http._tcp.hl.default.svc.cluster.local", "SRV"),
      'NOERROR | SRV {"priority":0,"weight":100,"port":8080,"target":"w-0.hl.default.svc.cluster.local"}',
    );
  });

  it("answers NXDOMAIN with the SOA for names that do not exist", () => {
    for (const name of [
      "nope.default.svc.cluster.local",
      "web.nope.svc.cluster.local",
      "nope.svc.cluster.local",
      "_http._udp.web.default.svc.cluster.local",
      "x.y.web.default.svc.cluster.local",
      "foo.cluster.local",
      "web.default.svc.cluster.local.default.svc.cluster.local",
      "dns.cluster.local",
    ]) {
      assert.equal(ask(name, "A"), "NOERROR +SOA".replace("NOERROR", "NXDOMAIN"), name);
    }
  });

  it("answers the structural names as CoreDNS does", () => {
    assert.equal(ask("cluster.local", "A"), "NOERROR +SOA");
    assert.match(
      ask("cluster.local", "SOA"),
      /^NOERROR \| SOA \{"mname":"ns.dns.cluster.local","rname":"hostmaster.cluster.local",.*"minimum":7\}$/,
    );
    assert.equal(ask("cluster.local", "NS"), "NOERROR | NS ns.dns.cluster.local");
    assert.equal(ask("ns.dns.cluster.local", "A"), "NOERROR | A 10.96.0.53");
    assert.equal(ask("svc.cluster.local", "A"), "NOERROR +SOA");
    assert.equal(ask("default.svc.cluster.local", "A"), "NOERROR +SOA");
    assert.equal(ask("empty.svc.cluster.local", "A"), "NOERROR +SOA");
    assert.equal(ask("dns-version.cluster.local", "TXT"), 'NOERROR | TXT ["1.1.0"]');
    assert.equal(ask("dns-version.cluster.local", "A"), "NOERROR +SOA");
  });

  it("points ExternalNames at their target, chasing it inside the zone and upstream otherwise", () => {
    assert.equal(ask("ext.default.svc.cluster.local", "CNAME"), "NOERROR | CNAME example.com");
    assert.equal(ask("ext.default.svc.cluster.local", "TXT"), "NOERROR | CNAME example.com");
    const r = resolveQuestion(fixture(), { name: "ext.default.svc.cluster.local", type: "A" }, settings());
    assert.deepEqual(r.kind === "zone" ? r.chase : undefined, { name: "example.com", type: "A" });
    assert.equal(
      ask("alias.default.svc.cluster.local", "A"),
      "NOERROR | CNAME web.default.svc.cluster.local | A 10.96.0.10",
    );
  });

  it("serves pod records per mode", () => {
    const q = "10-1-0-5.default.pod.cluster.local";
    assert.equal(ask(q, "A", "disabled"), "NXDOMAIN +SOA");
    assert.equal(ask(q, "A", "insecure"), "NOERROR | A 10.1.0.5");
    assert.equal(ask(q, "A", "verified"), "NOERROR | A 10.1.0.5");
    assert.equal(ask(q, "AAAA", "verified"), "NOERROR +SOA");
    assert.equal(ask("10-9-9-9.default.pod.cluster.local", "A", "insecure"), "NOERROR | A 10.9.9.9");
    assert.equal(ask("10-9-9-9.default.pod.cluster.local", "A", "verified"), "NXDOMAIN +SOA");
    assert.equal(ask("10-1-0-5.nope.pod.cluster.local", "A", "insecure"), "NXDOMAIN +SOA");
    assert.equal(ask("fd00--1.default.pod.cluster.local", "AAAA", "insecure"), "NOERROR | AAAA fd00::1");
    assert.equal(ask("default.pod.cluster.local", "A", "insecure"), "NOERROR +SOA");
    assert.equal(ask("default.pod.cluster.local", "A", "disabled"), "NXDOMAIN +SOA");
    assert.equal(ask("pod.cluster.local", "A", "disabled"), "NOERROR +SOA");
  });

  it("answers known reverse names and forwards everything else", () => {
    assert.equal(ask("10.0.96.10.in-addr.arpa", "PTR"), "NOERROR | PTR web.default.svc.cluster.local");
    assert.equal(ask("1.0.0.10.in-addr.arpa", "PTR"), "NOERROR | PTR w-0.hl.default.svc.cluster.local");
    assert.equal(ask("2.0.0.10.in-addr.arpa", "PTR"), "forward");
    assert.equal(ask("example.com", "A"), "forward");
    assert.equal(ask("local", "SOA"), "forward");
  });

  it("uses the TTL for records and the SOA minimum, capping the SOA's own TTL at 300 s", () => {
    const index = fixture();
    const long = { ...settings(), ttlSeconds: 3600 };
    const r = resolveQuestion(index, { name: "nope.default.svc.cluster.local", type: "A" }, long);
    assert.equal(r.kind, "zone");
    if (r.kind !== "zone") return;
    const soa = r.authorities[0];
    assert.equal(soa?.type === "SOA" ? soa.ttl : undefined, 300);
    assert.equal(soa?.type === "SOA" ? soa.data.minimum : undefined, 3600);
    const a = resolveQuestion(index, { name: "web.default.svc.cluster.local", type: "A" }, long);
    assert.equal(a.kind === "zone" ? answerTtl(a.answers[0]) : undefined, 3600);
  });
});
