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
import { resolveQuestion, type ZoneAnswer, type ZoneSettings } from "./resolve-question.ts";

/** Transport a query came in on. */
export type DnsTransport = "udp" | "tcp";

/** Answers one raw packet: the reply to send, or undefined to send nothing. Never throws. */
export type QueryHandler = (
  packet: Buffer,
  proto: DnsTransport,
) => Buffer | undefined | Promise<Buffer | undefined>;

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

  const done = (
    query: DnsQuery,
    reply: Buffer,
    proto: DnsTransport,
    source: string,
    start: number,
  ): Buffer => {
    const type = countedTypes.has(query.question.type) ? query.question.type : "other";
    const rcode = rcodeNames[reply.readUInt16BE(2) & 0xf] ?? "other";
    metrics.queries.inc({ type, rcode, proto });
    metrics.duration.observe({ proto, source }, (performance.now() - start) / 1000);
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
  ): Buffer | Promise<Buffer | undefined> => {
    const maxSize = proto === "udp" ? udpLimit(query) : 0xffff;
    if (!options.synced()) {
      const name = normalizeName(query.question.name);
      if (isInZone(name, settings.zone) || isReverseName(name)) {
        return done(query, servfail(query, maxSize, true), proto, "zone", start);
      }
      return guard(forward(raw, query, proto, maxSize, start), query);
    }
    const resolution = resolveQuestion(index, query.question, settings);
    if (resolution.kind === "forward") return guard(forward(raw, query, proto, maxSize, start), query);
    if (resolution.chase !== undefined) return guard(chase(query, resolution, proto, maxSize, start), query);
    const reply = encodeReply(query, { ...resolution, authoritative: true }, maxSize);
    return done(query, reply, proto, "zone", start);
  };

  return (raw, proto) => {
    const start = performance.now();
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
      return answer(raw, parsed.query, proto, start);
    } catch (err) {
      // A bug must cost one answer, not the server.
      options.logger.warn({ err, name: parsed.query.question.name }, "could not answer query");
      return undefined;
    }
  };
}
