/**
 * The conformance table every kernel mode (and, where it can, the userspace mode) must pass with
 * real packets in the harness's network namespaces (`test/e2e/harness/run-conformance.ts`).
 *
 * A case says: from this client (a pod, a node, the external client, or a backend pod itself),
 * to this address:port and protocol, expect one of: answers only from this set of backends
 * (every one of them answering eventually) with this source address seen by the backend (the
 * client's own = not masqueraded, or a node address = masqueraded), the same backend every time
 * (ClientIP affinity), refused (RST or ICMP error), dropped (no answer before the timeout), or an
 * HTTP status (health-check node ports). Dynamic cases add steps: set the Service's endpoints
 * through the API server, then expect again (polled until it holds, since a sync takes time).
 *
 * Per-mode exceptions are data here, never skips in the runner:
 * - `unsupported: { mode: "reason" }` — the runner registers no test for that mode and reports
 *   the case and its reason with `t.diagnostic`, so reasoned exceptions stay visible without
 *   tripping CI's "no skipped test" rule (`scripts/test.sh`), which is for unexpected skips;
 * - `byMode: { mode: expectation }` — a different first expectation in that mode;
 * - `modeRules` — a rule for every case of a mode (userspace: the backend always sees a node
 *   address, because the relay opens its own connection).
 *
 * Upstream's packet-flow table (`TestInternalExternalMasquerade`) is included row for row, for
 * each of its four settings sub-cases (the runner restarts kproxy with the sub-case's settings).
 * The rows of the table live in `own-conformance-cases.ts` (ours) and `packet-flow-cases.ts`
 * (upstream's, read from the golden file); the shape of a case in `conformance-case.ts`.
 */
import type { ProxyMode } from "../../config/proxy-config.ts";
import type {
  ConformanceCase,
  ConformanceStep,
  Expectation,
  ModeRule,
  SettingsGroup,
} from "./conformance-case.ts";
import { conformanceFixtures } from "./conformance-fixtures.ts";
import { conformanceTopology, type TopologySpec } from "./conformance-topology.ts";
import { ownConformanceCases } from "./own-conformance-cases.ts";
import { packetFlowCase } from "./packet-flow-cases.ts";
import { readPacketFlowTable } from "./packet-flow-table.ts";

/** Mode-wide exceptions (data, like `unsupported` and `byMode` on single cases). */
export const modeRules: Partial<Record<ProxyMode, ModeRule>> = {
  userspace: {
    sourceAlwaysNode:
      "the userspace relay accepts the connection and opens its own to the backend, so every backend sees a node address",
    onlyBaseSettings:
      "masqueradeAll and the local-traffic detector only decide masquerading, and the userspace relay always connects from the node",
  },
};

/** The settings groups, `base` first. */
export function settingsGroups(): SettingsGroup[] {
  return readPacketFlowTable().map((s) => ({
    name: s.name,
    masqueradeAll: s.masqueradeAll,
    localDetector: s.localDetector,
  }));
}

/** Every case: the suite's own (in `base` settings), then upstream's packet-flow rows per sub-case. */
export function conformanceCases(topology: TopologySpec = conformanceTopology): ConformanceCase[] {
  const fixtures = conformanceFixtures(topology);
  const own = ownConformanceCases.map((c): ConformanceCase => ({ protocol: "TCP", ...c, settings: "base" }));
  const flows = readPacketFlowTable().flatMap((subcase) =>
    subcase.rows.map((row) => packetFlowCase(subcase, row, fixtures, topology)),
  );
  return [...own, ...flows];
}

/** How a case runs in a mode: not at all (with the reason), or with these expectations. */
export type ResolvedCase =
  | { readonly run: false; readonly reason: string }
  | { readonly run: true; readonly expect: Expectation; readonly then: readonly ConformanceStep[] };

/** Applies `unsupported`, `byMode` and `modeRules` for `mode`. */
export function resolveCase(c: ConformanceCase, mode: ProxyMode): ResolvedCase {
  const reason = c.unsupported?.[mode];
  if (reason !== undefined) return { run: false, reason };
  const rule = modeRules[mode];
  if (rule?.onlyBaseSettings !== undefined && c.settings !== "base")
    return { run: false, reason: rule.onlyBaseSettings };
  const adjust = (e: Expectation): Expectation =>
    rule?.sourceAlwaysNode !== undefined && e.kind === "answered" ? { ...e, source: "node" } : e;
  return {
    run: true,
    expect: adjust(c.byMode?.[mode] ?? c.expect),
    then: (c.then ?? []).map((s) => ({ ...s, expect: adjust(s.expect) })),
  };
}
