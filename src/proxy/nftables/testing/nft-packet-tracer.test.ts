import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { baselineKernelFeatures } from "../../kernel-features.ts";
import { renderNftables } from "../render/render-nftables.ts";
import { loadConformanceInput, upstreamConformanceDir } from "./load-conformance-input.ts";
import { NftPacketTracer, type TraceOutcome } from "./nft-packet-tracer.ts";
import { parsePacketFlowTable } from "./packet-flow-table.ts";

const name = "nftables-internal-external-masquerade";
const cases = parsePacketFlowTable(
  readFileSync(join(upstreamConformanceDir, `${name}.expected.txt`), "utf8"),
);

function summarize(outcomes: readonly TraceOutcome[]): { output: string[]; masq: boolean[] } {
  const output = [
    ...new Set(
      outcomes.map((o) => (o.verdict === "accept" ? (o.dnat ?? "ACCEPT") : o.verdict.toUpperCase())),
    ),
  ].sort();
  return { output, masq: [...new Set(outcomes.map((o) => o.masqueraded))] };
}

describe("packet flows through the rendered rules (upstream's TestInternalExternalMasquerade)", () => {
  it("parses all four sub-cases of the table", () => {
    assert.deepEqual(
      cases.map((c) => [c.name, c.flows.length]),
      [
        ["base", 27],
        ["no LocalTrafficDetector", 27],
        ["masqueradeAll", 27],
        ["masqueradeAll, no LocalTrafficDetector", 27],
      ],
    );
  });

  for (const layout of ["kproxy", "upstream"] as const) {
    for (const c of cases) {
      it(`${layout} layout, ${c.name}`, () => {
        const loaded = loadConformanceInput(name, layout);
        const config = {
          ...loaded.config,
          detectLocalMode: c.localDetector ? loaded.config.detectLocalMode : ("None" as const),
          nftables: { ...loaded.config.nftables, masqueradeAll: c.masqueradeAll },
        };
        const text = renderNftables(loaded.state, config, baselineKernelFeatures);
        const localIPs = loaded.state.node.localAddresses.map((a) => a.split("/")[0] ?? "");
        const tracer = new NftPacketTracer(text, localIPs);
        const failures: string[] = [];
        for (const flow of c.flows) {
          const got = summarize(
            tracer.trace({ src: flow.src, dst: flow.dst, port: flow.port, protocol: "tcp" }),
          );
          const want = { output: [...flow.output].sort(), masq: [flow.masq] };
          if (JSON.stringify(got) !== JSON.stringify(want))
            failures.push(`${flow.name}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
        }
        assert.deepEqual(failures, []);
      });
    }
  }

  it("sees a rule that sends traffic elsewhere (the tracer can fail)", () => {
    const loaded = loadConformanceInput(name, "kproxy");
    // The kproxy layout keeps endpoints in map elements (`range : ip . port`).
    const text = renderNftables(loaded.state, loaded.config, baselineKernelFeatures).replace(
      ": 10.180.0.1 . 80",
      ": 10.180.9.9 . 80",
    );
    const tracer = new NftPacketTracer(text, ["192.168.0.2"]);
    const got = summarize(tracer.trace({ src: "10.0.0.2", dst: "172.30.0.41", port: 80, protocol: "tcp" }));
    assert.deepEqual(got.output, ["10.180.1.1:80", "10.180.9.9:80"]);
  });

  it("reports REJECT for a service without endpoints and for an undefined ClusterIP port, DROP outside", () => {
    const loaded = loadConformanceInput("nftables-overall", "kproxy");
    const tracer = new NftPacketTracer(renderNftables(loaded.state, loaded.config, baselineKernelFeatures), [
      "192.168.0.2",
    ]);
    const trace = (dst: string, port: number): string[] =>
      summarize(tracer.trace({ src: "10.0.0.2", dst, port, protocol: "tcp" })).output;
    assert.deepEqual(trace("172.30.0.46", 80), ["REJECT"]);
    assert.deepEqual(trace("172.30.0.41", 81), ["REJECT"]);
    assert.deepEqual(trace("172.30.9.9", 80), ["DROP"]);
    assert.deepEqual(trace("172.30.0.41", 80), ["10.180.0.1:80"]);
  });

  it("masquerades hairpin traffic in the kproxy layout (source and DNAT destination the same endpoint)", () => {
    const loaded = loadConformanceInput("nftables-overall", "kproxy");
    const tracer = new NftPacketTracer(renderNftables(loaded.state, loaded.config, baselineKernelFeatures), [
      "192.168.0.2",
    ]);
    // ns1/svc1 has one endpoint, 10.180.0.1: from itself it is hairpin, from another pod not.
    const self = tracer.trace({ src: "10.180.0.1", dst: "172.30.0.41", port: 80, protocol: "tcp" });
    assert.deepEqual(self, [{ verdict: "accept", dnat: "10.180.0.1:80", masqueraded: true }]);
    const other = tracer.trace({ src: "10.180.0.2", dst: "172.30.0.41", port: 80, protocol: "tcp" });
    assert.deepEqual(other, [{ verdict: "accept", dnat: "10.180.0.1:80", masqueraded: false }]);
  });
});
