import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { knownProxyModes } from "../../src/config/validate-config.ts";
import { modeRenderers } from "../../src/proxy/mode-registry.ts";
import { sortNftTransaction } from "../../src/proxy/nftables/testing/sort-nft-transaction.ts";
import { repoRoot, runCli } from "./cli-process.ts";

const dir = mkdtempSync(join(tmpdir(), "kp-render-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Rule lines without comments and blank lines, sorted: the order upstream's comparison ignores. */
function normalized(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"))
    .sort();
}

const manifest = `
apiVersion: v1
kind: Service
metadata: { name: web, namespace: demo }
spec:
  clusterIP: 10.96.0.20
  ports: [{ name: http, port: 80, protocol: TCP }]
---
apiVersion: v1
kind: Service
metadata: { name: broken, namespace: demo }
spec:
  clusterIP: 10.96.0.21
  ports: [{ name: http, port: 0, protocol: TCP }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  namespace: demo
  labels: { kubernetes.io/service-name: web }
addressType: IPv4
ports: [{ name: http, port: 8080, protocol: TCP }]
endpoints:
  - addresses: [10.244.0.5]
    conditions: { ready: true }
`;

// Every built mode renders; iptables serves the cases that are not about one mode's output.
const renderer = "iptables";

/** `kproxy render --proxy-mode nftables --nftables-layout upstream` of an upstream input, and its dump. */
async function renderUpstreamNftables(
  name: string,
  flags: readonly string[],
): Promise<{ stdout: string; expected: string }> {
  const input = join(repoRoot, `test/conformance/upstream/${name}.input.yaml`);
  const expected = readFileSync(join(repoRoot, `test/conformance/upstream/${name}.expected.txt`), "utf8");
  const r = await runCli([
    "render",
    "--proxy-mode",
    "nftables",
    "--nftables-layout",
    "upstream",
    ...flags,
    "-f",
    input,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return { stdout: r.stdout, expected };
}

describe("kproxy render", () => {
  it("reproduces upstream's nftables dump from the conformance input as it is", async () => {
    const { stdout, expected } = await renderUpstreamNftables("nftables-overall", []);
    assert.deepEqual(normalized(stdout), normalized(expected));
  });

  it("reproduces upstream's repeated-step1 dump given the settings its input file only describes", async () => {
    // This input has no `proxier:` section (its header says "same settings as nftables-overall"),
    // so the settings come from flags, as a user comparing with upstream would pass them.
    const { stdout, expected } = await renderUpstreamNftables("nftables-repeated-step1", [
      "--node-name",
      "test-node",
      "--node-ip",
      "192.168.0.2",
      "--cluster-cidr",
      "10.0.0.0/8",
      "--nodeport-addresses",
      "192.168.0.2/32,2001:db8::1/128",
      "--service-cluster-ip-range",
      "172.30.0.0/16",
    ]);
    assert.equal(sortNftTransaction(stdout), sortNftTransaction(expected));
  });

  it("renders plain manifests and reports the objects it skipped on stderr", async () => {
    const file = join(dir, "objects.yaml");
    writeFileSync(file, manifest);
    const r = await runCli(["render", "--proxy-mode", renderer, "-f", file, "--node-ip", "192.0.2.1"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /10\.96\.0\.20/);
    assert.match(r.stdout, /10\.244\.0\.5/);
    assert.doesNotMatch(r.stdout, /10\.96\.0\.21/);
    assert.equal(
      r.stderr.trim(),
      "kproxy render: skipped Service demo/broken: spec.ports[0].port 0 is not in 1-65535",
    );
  });

  it("exits 2 for a mode without a renderer, or bad options", async () => {
    const file = join(dir, "objects.yaml");
    writeFileSync(file, manifest);
    const missing = knownProxyModes.find((m) => modeRenderers[m] === undefined);
    if (missing !== undefined) {
      const r = await runCli(["render", "--proxy-mode", missing, "-f", file]);
      assert.equal(r.code, 2);
      assert.match(
        r.stderr,
        new RegExp(`Cannot render proxy mode "${missing}": it has no renderer; modes that render: `),
      );
    }
    const family = await runCli(["render", "--proxy-mode", renderer, "-f", file, "--ip-family", "IPv5"]);
    assert.equal(family.code, 2);
    assert.match(family.stderr, /--ip-family: "IPv5" is not IPv4 or IPv6/);
    const noFile = await runCli(["render", "--proxy-mode", renderer]);
    assert.equal(noFile.code, 2);
    assert.match(noFile.stderr, /required option '-f, --filename <file>' not specified/);
    const badYaml = join(dir, "bad.yaml");
    writeFileSync(badYaml, "kind: [unclosed\n");
    const bad = await runCli(["render", "--proxy-mode", renderer, "-f", badYaml]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad\.yaml\[document 0\]/);
  });
});
