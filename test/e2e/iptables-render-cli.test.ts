// Must-show 2: `kproxy render --proxy-mode iptables -f iptables-overall.input.yaml` prints
// upstream's golden after upstream's normalisation.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { checkRuleJumps } from "../../src/proxy/iptables/render/check-rule-jumps.ts";
import { sortIptablesRules } from "../../src/proxy/iptables/render/sort-iptables-rules.ts";
import { lineDiff } from "../../src/proxy/iptables/testing/line-diff.ts";

const repoRoot = join(import.meta.dirname, "..", "..");
const upstream = join(repoRoot, "test", "conformance", "upstream");

const manifest = `apiVersion: v1
kind: Service
metadata: { name: web, namespace: demo }
spec:
  clusterIP: 10.96.0.20
  ports: [{ name: http, port: 80, protocol: TCP }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-1, namespace: demo, labels: { kubernetes.io/service-name: web } }
addressType: IPv4
ports: [{ name: http, port: 8080, protocol: TCP }]
endpoints: [{ addresses: [10.244.0.5] }]
`;

async function render(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(repoRoot, "src/main.ts"), "render", ...args],
    {
      env: { ...process.env, KPROXY_LOG_LEVEL: "silent" },
      maxBuffer: 1 << 26,
    },
  );
  return stdout;
}

describe("kproxy render --proxy-mode iptables", () => {
  it("prints upstream's iptables-overall golden from its input file", async () => {
    const out = await render([
      "--proxy-mode",
      "iptables",
      "-f",
      join(upstream, "iptables-overall.input.yaml"),
    ]);
    const actual = sortIptablesRules(out);
    const expected = sortIptablesRules(readFileSync(join(upstream, "iptables-overall.expected.txt"), "utf8"));
    if (actual !== expected)
      assert.fail(
        `render output differs from the golden (- expected, + actual):\n${lineDiff(expected, actual)}`,
      );
    assert.deepEqual(checkRuleJumps(out), []);
  });

  it("renders plain manifests with run's configuration flags", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kp-ipt-render-"));
    try {
      const file = join(dir, "web.yaml");
      writeFileSync(file, manifest);
      const out = await render([
        "--proxy-mode",
        "iptables",
        "-f",
        file,
        "--masquerade-all",
        "--cluster-cidr",
        "10.244.0.0/16",
      ]);
      assert.match(
        out,
        /^-A KUBE-SVC-\S+ -m comment --comment "demo\/web:http cluster IP" -m tcp -p tcp -d 10\.96\.0\.20 --dport 80 -j KUBE-MARK-MASQ$/m,
      );
      assert.match(
        out,
        /^-A KUBE-SEP-\S+ -m comment --comment demo\/web:http -m tcp -p tcp -j DNAT --to-destination 10\.244\.0\.5:8080$/m,
      );
      assert.deepEqual(checkRuleJumps(out), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
