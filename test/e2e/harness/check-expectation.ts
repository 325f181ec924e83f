import type { ConformanceCase, Expectation } from "../../../src/proxy/testing/conformance-case.ts";
import type { ClientResult } from "./client-agent.ts";
import type { NamespaceClient } from "./namespace-client.ts";

/** How many requests a set expectation makes at least (a leak to an unexpected backend shows) and at most. */
const minAttempts = 10;
const maxAttempts = 60;
/** Connections of a set expectation run this many at a time. */
const batch = 5;
/** ClientIP affinity: this many connections must all reach the same backend. */
const affinityAttempts = 10;

/** Sends one request of a case from `client`. */
export function sendOnce(
  client: NamespaceClient,
  c: ConformanceCase,
  expect: Expectation,
): Promise<ClientResult> {
  if (expect.kind === "http") return client.http(c.to.address, c.port, { path: "/" });
  if (c.protocol === "UDP")
    return client.udp(c.to.address, c.port, c.localPort === undefined ? {} : { localPort: c.localPort });
  return client.tcp(c.to.address, c.port);
}

function summarise(results: readonly ClientResult[]): string {
  const counts = new Map<string, number>();
  for (const r of results) {
    const key =
      r.outcome === "answered"
        ? `${r.answer.name} (saw ${r.answer.source}, client sent from ${r.localAddress})`
        : r.outcome === "http"
          ? `HTTP ${r.status} ${r.body.slice(0, 200)}`
          : r.outcome === "refused"
            ? `refused (${r.code})`
            : r.outcome === "failed"
              ? `failed: ${r.message}`
              : "dropped";
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n}× ${k}`).join("; ");
}

function describeExpectation(e: Expectation): string {
  switch (e.kind) {
    case "answered":
      return `answers from ${e.sameBackend ? "one (always the same) of " : "each of "}{${e.backends.join(", ")}}, backend seeing ${e.source === "client" ? "the client's own address" : "a node address"}`;
    case "http":
      return `HTTP ${e.status}`;
    default:
      return e.kind;
  }
}

/**
 * Sends a case's requests and returns undefined when `expect` holds, or a description of what
 * happened instead. `nodeAddresses` are the addresses a masqueraded packet may carry.
 */
export async function checkExpectation(
  client: NamespaceClient,
  c: ConformanceCase,
  options: { expect: Expectation; nodeAddresses: ReadonlySet<string> },
): Promise<string | undefined> {
  const { expect, nodeAddresses } = options;
  const results: ClientResult[] = [];
  const fail = (why: string): string =>
    `expected ${describeExpectation(expect)}; ${why}; got: ${summarise(results)}`;

  if (expect.kind !== "answered") {
    const result = await sendOnce(client, c, expect);
    results.push(result);
    if (expect.kind === "http")
      return result.outcome === "http" && result.status === expect.status ? undefined : fail("wrong outcome");
    return result.outcome === expect.kind ? undefined : fail("wrong outcome");
  }

  const wanted = new Set(expect.backends);
  const seen = new Set<string>();
  const sourceOK = (r: ClientResult & { outcome: "answered" }): boolean =>
    expect.source === "client" ? r.answer.source === r.localAddress : nodeAddresses.has(r.answer.source);
  // Pinned UDP flows and affinity checks go one at a time (one flow, one order); the rest in batches.
  const sequential = expect.sameBackend === true || c.localPort !== undefined;
  const limit = expect.sameBackend === true ? affinityAttempts : maxAttempts;
  while (results.length < limit) {
    const n = sequential ? 1 : Math.min(batch, limit - results.length);
    const round = await Promise.all(Array.from({ length: n }, () => sendOnce(client, c, expect)));
    results.push(...round);
    for (const r of round) {
      if (r.outcome !== "answered") return fail("a request was not answered");
      if (!wanted.has(r.answer.name)) return fail(`${r.answer.name} is not an expected backend`);
      if (!sourceOK(r)) return fail(`${r.answer.name} saw source ${r.answer.source}`);
      seen.add(r.answer.name);
    }
    if (expect.sameBackend === true) {
      if (seen.size > 1) return fail("affinity broken: more than one backend answered");
    } else if (seen.size === wanted.size && results.length >= minAttempts) {
      return undefined;
    }
  }
  if (expect.sameBackend === true) return undefined;
  const missing = [...wanted].filter((b) => !seen.has(b));
  return fail(`never reached ${missing.join(", ")} in ${results.length} requests`);
}
