import { randomInt } from "node:crypto";
import { performance } from "node:perf_hooks";
import dnsPacket, { type Answer } from "dns-packet";
import type { Logger } from "../sys/logger.ts";
import type { DnsIndex } from "./dns-index.ts";
import { encodeQuery, encodeReply, parsePacket, relayReply, udpLimit, type DnsQuery } from "./dns-message.ts";
import { countedTypes, type DnsMetrics } from "./dns-metrics.ts";
import { isInZone, isReverseName, normalizeName } from "./dns-name.ts";
import type { HostPort } from "./dns-settings.ts";
import { forwardQuery } from "./forward-query.ts";
import { ReplyCache } from "./reply-cache.ts";
import { resolveQuestion, type ZoneAnswer, type ZoneSettings } from "./resolve-question.ts";

/** Transport a query came in on. */
export type DnsTransport = "udp" | "tcp";

/** Answers one raw packet: the reply to send, or undefined to send nothing. Never throws. */
export type QueryHandler = (
  packet: Buffer,
  proto: DnsTransport,
) => Buffer | undefined | Promise<Buffer | undefined>;

/**
 * True when a zone answer may be served again from the cache: not when it lists several addresses
 * of one type, whose order rotates per query so that clients taking the first spread out.
 */
function sameForEveryone(answer: ZoneAnswer): boolean {
  let a = 0;
  let aaaa = 0;
  for (const r of answer.answers) {
    if (r.type === "A") a++;
    else if (r.type === "AAAA") aaaa++;
  }
  return a <= 1 && aaaa <= 1;
}

const rcodeNames = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

/**
 * Builds the function the UDP and TCP listeners call for every packet. Zone answers are computed
 * synchronously (the common case costs a decode, a map lookup and an encode); only forwarding and
 * CNAME chasing wait on the network.
 */
export function createQueryHandler(options: {
  readonly index: DnsIndex;
  readonly settings: ZoneSettings;
  readonly upstreams: readonly HostPort[];
  readonly upstreamTimeoutMs: number;
  readonly metrics: DnsMetrics;
  readonly logger: Logger;
  /** False until the informers have delivered their first lists; cluster names get SERVFAIL until then. */
  readonly synced: () => boolean;
}): QueryHandler {
  const { index, settings, metrics } = options;
  const cache = new ReplyCache();

  // Label children are looked up once: prom-client hashes the label object on every inc/observe.
  const counters = new Map<string, { inc(): void }>();
  const timers = new Map<string, { observe(v: number): void }>();
  const count = (type: string, rcode: string, proto: DnsTransport, source: string, start: number): void => {
    const ck = `${type} ${rcode} ${proto}`;
    let counter = counters.get(ck);
    if (counter === undefined) counters.set(ck, (counter = metrics.queries.labels({ type, rcode, proto })));
    counter.inc();
    const tk = `${proto} ${source}`;
    let timer = timers.get(tk);
    if (timer === undefined) timers.set(tk, (timer = metrics.duration.labels({ proto, source })));
    timer.observe((performance.now() - start) / 1000);
  };
  const typeLabel = (query: DnsQuery): string =>
    countedTypes.has(query.question.type) ? query.question.type : "other";

  const done = (
    query: DnsQuery,
    reply: Buffer,
    proto: DnsTransport,
    source: string,
    start: number,
  ): Buffer => {
    count(typeLabel(query), rcodeNames[reply.readUInt16BE(2) & 0xf] ?? "other", proto, source, start);
    return reply;
  };

  const servfail = (query: DnsQuery, maxSize: number, authoritative: boolean): Buffer =>
    encodeReply(query, { rcode: "SERVFAIL", authoritative }, maxSize);

  const forward = async (
    raw: Buffer,
    query: DnsQuery,
    proto: DnsTransport,
    maxSize: number,
    start: number,
  ): Promise<Buffer> => {
    const result = await forwardQuery(raw, options.upstreams, { timeoutMs: options.upstreamTimeoutMs });
    if (!result.ok) {
      metrics.forwards.inc({ result: result.failure });
      options.logger.debug({ name: query.question.name, failure: result.failure }, "forwarding failed");
      return done(query, servfail(query, maxSize, false), proto, "upstream", start);
    }
    metrics.forwards.inc({ result: "ok" });
    return done(query, relayReply(query, result.reply, maxSize), proto, "upstream", start);
  };

  const chase = async (
    query: DnsQuery,
    answer: ZoneAnswer,
    proto: DnsTransport,
    maxSize: number,
    start: number,
  ): Promise<Buffer> => {
    const target = answer.chase;
    let extra: Answer[] = [];
    if (target !== undefined) {
      const result = await forwardQuery(encodeQuery(randomInt(0, 0x10000), target), options.upstreams, {
        timeoutMs: options.upstreamTimeoutMs,
      });
      metrics.forwards.inc({ result: result.ok ? "ok" : result.failure });
      if (result.ok) {
        try {
          extra = dnsPacket.decode(result.reply).answers ?? [];
        } catch {
          // An unreadable upstream reply leaves the CNAME for the client to follow.
        }
      }
    }
    const reply = encodeReply(
      query,
      { rcode: "NOERROR", authoritative: true, answers: [...answer.answers, ...extra] },
      maxSize,
    );
    return done(query, reply, proto, "zone", start);
  };

  const guard = (work: Promise<Buffer>, query: DnsQuery): Promise<Buffer | undefined> =>
    work.catch((err: unknown) => {
      options.logger.warn({ err, name: query.question.name }, "could not answer query");
      return undefined;
    });

  const answer = (
    raw: Buffer,
    query: DnsQuery,
    proto: DnsTransport,
    start: number,
    cacheKey: string | undefined,
  ): Buffer | Promise<Buffer | undefined> => {
    const maxSize = proto === "udp" ? udpLimit(query) : 0xffff;
    if (!options.synced()) {
      const name = normalizeName(query.question.name);
      if (isInZone(name, settings.zone) || isReverseName(name)) {
        return done(query, servfail(query, maxSize, true), proto, "zone", start);
      }
      return guard(forward(raw, query, proto, maxSize, start), query);
    }
    const generation = index.generation();
    const resolution = resolveQuestion(index, query.question, settings);
    if (resolution.kind === "forward") return guard(forward(raw, query, proto, maxSize, start), query);
    if (resolution.chase !== undefined) return guard(chase(query, resolution, proto, maxSize, start), query);
    const reply = encodeReply(query, { ...resolution, authoritative: true }, maxSize);
    if (cacheKey !== undefined && sameForEveryone(resolution)) {
      cache.set(cacheKey, generation, {
        reply: Buffer.from(reply),
        type: typeLabel(query),
        rcode: resolution.rcode,
      });
    }
    return done(query, reply, proto, "zone", start);
  };

  return (raw, proto) => {
    const start = performance.now();
    const cacheKey = options.synced() ? ReplyCache.key(raw, proto) : undefined;
    if (cacheKey !== undefined && raw.length >= 12) {
      const hit = cache.get(cacheKey, index.generation(), raw.readUInt16BE(0));
      if (hit !== undefined) {
        count(hit.entry.type, hit.entry.rcode, proto, "zone", start);
        return hit.reply;
      }
    }
    const parsed = parsePacket(raw);
    if (parsed.kind === "malformed") {
      metrics.malformed.inc({ proto });
      return undefined;
    }
    if (parsed.kind === "reject") {
      metrics.queries.inc({ type: "other", rcode: parsed.rcode, proto });
      return parsed.reply;
    }
    try {
      return answer(raw, parsed.query, proto, start, cacheKey);
    } catch (err) {
      // A bug must cost one answer, not the server.
      options.logger.warn({ err, name: parsed.query.question.name }, "could not answer query");
      return undefined;
    }
  };
}
