import type { Answer } from "dns-packet";
import { isIP } from "node:net";
import type { DnsIndex } from "./dns-index.ts";
import { isInZone, isReverseName, normalizeName, podLabelIP } from "./dns-name.ts";
import type { PodRecordMode } from "./dns-settings.ts";
import type { NameRecords } from "./name-records.ts";

/** The version of the Kubernetes DNS specification served, answered at `dns-version.<zone>`. */
export const dnsSchemaVersion = "1.1.0";

/** What the resolver needs besides the index. */
export interface ZoneSettings {
  /** Normalised zone, e.g. `cluster.local`. */
  readonly zone: string;
  readonly ttlSeconds: number;
  readonly pods: PodRecordMode;
  /** Addresses of this server, answered for `ns.dns.<zone>` (may be empty). */
  readonly nameserverIPs: readonly string[];
}

/** An answer from the cluster zone (or a known reverse name). */
export interface ZoneAnswer {
  readonly kind: "zone";
  readonly rcode: "NOERROR" | "NXDOMAIN";
  readonly answers: Answer[];
  readonly authorities: Answer[];
  readonly additionals: Answer[];
  /** An ExternalName CNAME to a name outside the zone: its A/AAAA records come from upstream. */
  readonly chase?: { readonly name: string; readonly type: "A" | "AAAA" };
}

/** How one question is answered: from the zone, or by the upstream resolvers. */
export type Resolution = ZoneAnswer | { readonly kind: "forward" };

/** Limit on CNAME hops inside the zone (ExternalName → ExternalName …), as CoreDNS's 8. */
const maxChase = 8;

let rotation = 0;

/**
 * Answers one question from the index, with CoreDNS's NXDOMAIN/NODATA semantics: a name that
 * exists but has no record of the asked type gets NOERROR with no answers, an unknown name
 * NXDOMAIN, both with the zone's SOA in the authority section. Names outside the zone, and reverse
 * names the cluster does not know, are left to the upstream resolvers.
 */
export function resolveQuestion(
  index: DnsIndex,
  question: { readonly name: string; readonly type: string },
  settings: ZoneSettings,
): Resolution {
  const name = normalizeName(question.name);
  const { zone } = settings;
  if (!isInZone(name, zone)) {
    if (question.type === "PTR" && isReverseName(name)) {
      const targets = index.lookupReverse(name);
      if (targets !== undefined) {
        const answers: Answer[] = targets.map((t) => ({
          name: question.name,
          type: "PTR",
          ttl: settings.ttlSeconds,
          data: t,
        }));
        return { kind: "zone", rcode: "NOERROR", answers, authorities: [], additionals: [] };
      }
    }
    return { kind: "forward" };
  }
  const ttl = settings.ttlSeconds;
  const nodata = (): ZoneAnswer => negative("NOERROR", index, settings);
  const nxdomain = (): ZoneAnswer => negative("NXDOMAIN", index, settings);
  const answer = (answers: Answer[], additionals: Answer[] = []): ZoneAnswer =>
    answers.length === 0
      ? nodata()
      : { kind: "zone", rcode: "NOERROR", answers, authorities: [], additionals };

  const relative = name === zone ? "" : name.slice(0, -(zone.length + 1));
  switch (relative) {
    case "":
      if (question.type === "SOA") return answer([soaRecord(index, settings)]);
      if (question.type === "NS") {
        const ns = `ns.dns.${zone}`;
        return answer(
          [{ name: question.name, type: "NS", ttl, data: ns }],
          addressRecords(ns, settings.nameserverIPs, ttl),
        );
      }
      return nodata();
    case "dns-version":
      // The spec's example and CoreDNS give this record a TTL of 28800 s whatever `ttl` is.
      return question.type === "TXT"
        ? answer([{ name: question.name, type: "TXT", ttl: 28800, data: [dnsSchemaVersion] }])
        : nodata();
    case "ns.dns":
      return answer(
        addressRecords(question.name, settings.nameserverIPs, ttl).filter((r) => r.type === question.type),
      );
    case "svc":
    case "pod":
      return nodata();
  }
  const labels = relative.split(".");
  const kind = labels[labels.length - 1];
  if (kind === "svc") {
    if (labels.length === 2) return index.namespaceExists(labels[0] ?? "") ? nodata() : nxdomain();
    const records = index.lookup(name);
    if (records === undefined) return nxdomain();
    return recordsAnswer(index, question, records, settings, 0) ?? nodata();
  }
  if (kind === "pod" && settings.pods !== "disabled") {
    const namespace = labels[labels.length - 2] ?? "";
    if (labels.length === 2) return index.namespaceExists(namespace) ? nodata() : nxdomain();
    if (labels.length !== 3) return nxdomain();
    const ip = podLabelIP(labels[0] ?? "");
    if (ip === undefined) return nxdomain();
    const exists =
      settings.pods === "insecure" ? index.namespaceExists(namespace) : index.podIPExists(namespace, ip);
    if (!exists) return nxdomain();
    const type = isIP(ip) === 4 ? "A" : "AAAA";
    return answer(question.type === type ? [{ name: question.name, type, ttl, data: ip }] : []);
  }
  return nxdomain();
}

/** Answers a question about a name that exists in the index. Undefined means NODATA. */
function recordsAnswer(
  index: DnsIndex,
  question: { readonly name: string; readonly type: string },
  records: NameRecords,
  settings: ZoneSettings,
  depth: number,
): ZoneAnswer | undefined {
  const ttl = settings.ttlSeconds;
  const owner = question.name;
  const ok = (
    answers: Answer[],
    additionals: Answer[] = [],
    chase?: ZoneAnswer["chase"],
  ): ZoneAnswer | undefined =>
    answers.length === 0
      ? undefined
      : {
          kind: "zone",
          rcode: "NOERROR",
          answers,
          authorities: [],
          additionals,
          ...(chase ? { chase } : {}),
        };
  if (records.cname !== undefined) {
    // A CNAME stands for every type at its name; the resolver follows it for types we do not chase.
    const cname: Answer = { name: owner, type: "CNAME", ttl, data: records.cname };
    if (question.type !== "A" && question.type !== "AAAA") return ok([cname]);
    if (!isInZone(records.cname, settings.zone))
      return ok([cname], [], { name: records.cname, type: question.type });
    const next = index.lookup(records.cname);
    if (next === undefined || depth >= maxChase) return ok([cname]);
    const rest = recordsAnswer(
      index,
      { name: records.cname, type: question.type },
      next,
      settings,
      depth + 1,
    );
    return ok([cname, ...(rest?.answers ?? [])], [], rest?.chase);
  }
  switch (question.type) {
    case "A":
      return ok(rotate(records.a).map((ip) => ({ name: owner, type: "A", ttl, data: ip })));
    case "AAAA":
      return ok(rotate(records.aaaa).map((ip) => ({ name: owner, type: "AAAA", ttl, data: ip })));
    case "SRV": {
      const additionals: Answer[] = [];
      const seen = new Set<string>();
      for (const s of records.srv) {
        if (seen.has(s.target)) continue;
        seen.add(s.target);
        const t = index.lookup(s.target);
        if (t === undefined) continue;
        for (const ip of t.a) additionals.push({ name: s.target, type: "A", ttl, data: ip });
        for (const ip of t.aaaa) additionals.push({ name: s.target, type: "AAAA", ttl, data: ip });
      }
      return ok(
        records.srv.map((s) => ({
          name: owner,
          type: "SRV",
          ttl,
          data: { priority: s.priority, weight: s.weight, port: s.port, target: s.target },
        })),
        additionals,
      );
    }
  }
  return undefined;
}

function negative(rcode: "NOERROR" | "NXDOMAIN", index: DnsIndex, settings: ZoneSettings): ZoneAnswer {
  return { kind: "zone", rcode, answers: [], authorities: [soaRecord(index, settings)], additionals: [] };
}

/**
 * The zone's SOA, as CoreDNS builds it: `ns.dns.<zone>` / `hostmaster.<zone>`, the serial from the
 * time of the last change, and a negative-caching minimum equal to the record TTL (the record's own
 * TTL is capped at 300 s).
 */
export function soaRecord(index: DnsIndex, settings: ZoneSettings): Answer {
  return {
    name: settings.zone,
    type: "SOA",
    ttl: Math.min(settings.ttlSeconds, 300),
    data: {
      mname: `ns.dns.${settings.zone}`,
      rname: `hostmaster.${settings.zone}`,
      serial: Math.floor(index.modified() / 1000) >>> 0,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: settings.ttlSeconds,
    },
  };
}

function addressRecords(name: string, ips: readonly string[], ttl: number): Answer[] {
  return ips.map((ip) => ({ name, type: isIP(ip) === 4 ? "A" : "AAAA", ttl, data: ip }));
}

/** Rotates the address list one step per query, so that clients taking the first spread out. */
function rotate(list: readonly string[]): readonly string[] {
  if (list.length < 2) return list;
  const k = rotation++ % list.length;
  if (rotation > 1e9) rotation = 0;
  return [...list.slice(k), ...list.slice(0, k)];
}
