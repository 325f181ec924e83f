import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { baselineKernelFeatures } from "../../kernel-features.ts";
import { lineDiff } from "../testing/line-diff.ts";
import { expectedConformanceOutput, loadConformanceFixture } from "../testing/render-fixtures.ts";
import { checkRuleJumps } from "./check-rule-jumps.ts";
import { renderIptables } from "./render-iptables.ts";
import { sortIptablesRules } from "./sort-iptables-rules.ts";

function assertSameRules(actual: string, expected: string): void {
  const a = sortIptablesRules(actual);
  const e = sortIptablesRules(expected);
  if (a !== e)
    assert.fail(`normalised payload differs from the golden (- expected, + actual):\n${lineDiff(e, a)}`);
}

describe("renderIptables golden (upstream TestOverallIPTablesRules)", () => {
  const fixture = loadConformanceFixture("iptables-overall");

  it("matches iptables-overall.expected.txt with the file's settings", () => {
    const out = renderIptables(fixture.state, fixture.config, fixture.features);
    assertSameRules(out, expectedConformanceOutput("iptables-overall"));
    assert.deepEqual(checkRuleJumps(out), []);
  });

  it("follows current upstream where the dump's fake nfacct counters are absent", () => {
    // The upstream test pretends both nfacct counters exist. Upstream writes the localhost
    // NodePort rules (whose only purpose is counting) and the nfacct match on INVALID drops only
    // when the counters really exist; kproxy's default features have none.
    const out = renderIptables(fixture.state, fixture.config, baselineKernelFeatures);
    const expected = expectedConformanceOutput("iptables-overall")
      .split("\n")
      .filter((l) => !l.includes("localhost_nps_accepted_pkts"))
      .map((l) => l.replace(" -m nfacct --nfacct-name ct_state_invalid_dropped_pkts", ""))
      .join("\n");
    assertSameRules(out, expected);
    assert.doesNotMatch(out, /nfacct/);
    // Localhost NodePorts still work (the plain NodePort rule matches 127.0.0.1 too) and stay guarded.
    assert.match(out, /-A KUBE-FIREWALL .*"block incoming localnet connections"/);
  });

  it("adds --random-fully to the MASQUERADE rule where the kernel supports it", () => {
    const out = renderIptables(fixture.state, fixture.config, { randomFully: true, nfacct: false });
    assert.match(
      out,
      /^-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully$/m,
    );
  });

  it("is deterministic", () => {
    const a = renderIptables(fixture.state, fixture.config, fixture.features);
    const b = renderIptables(fixture.state, fixture.config, fixture.features);
    assert.equal(a, b);
  });
});
