import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, describe, it } from "node:test";
import { availableModes } from "../../src/proxy/mode-registry.ts";
import { missingRequirement, skipUnlessAvailable } from "../support/requirements.ts";
import { finished, repoRoot, runCli, startCli, waitForOutput } from "./cli-process.ts";

/** Reads `kproxy: <what> <value>` from run's start-up lines. */
function startupValue(stdout: string, what: string): string {
  const m = new RegExp(`^kproxy: ${what} (\\S+)$`, "m").exec(stdout);
  assert.ok(m?.[1], `kproxy printed no ${what}:\n${stdout}`);
  return m[1];
}

// Userspace mode relays loopback ClusterIPs with plain sockets: no host network change.
const runArgs = [
  "run",
  "--proxy-mode",
  "userspace",
  "--listen",
  "127.0.0.1:0",
  "--service-cluster-ip-range",
  "127.96.0.0/16",
  "--hostname-override",
  "kp-signals",
  "--node-ip",
  "127.0.0.1",
  "--healthz-bind-address",
  "127.0.0.1:0",
  "--metrics-bind-address",
  "127.0.0.1:0",
];

describe("kproxy run as a process", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`serves health and metrics, then stops cleanly with exit 0 on ${signal}`, async () => {
      const child = startCli(runArgs);
      try {
        await waitForOutput(child, "kproxy: ready");
        const out = child.output().stdout;
        assert.match(out, /^kproxy: mode userspace on node kp-signals$/m);
        const api = startupValue(out, "API server");
        const healthz = startupValue(out, "healthz");
        const metrics = startupValue(out, "metrics");
        const h = await fetch(`http://${healthz}/healthz`);
        assert.equal(h.status, 200);
        assert.equal(((await h.json()) as { nodeEligible: boolean }).nodeEligible, true);
        const text = await (await fetch(`http://${metrics}/metrics`)).text();
        assert.match(text, /^kubeproxy_sync_proxy_rules_last_timestamp_seconds \d/m);
        const nodes = await (await fetch(`${api}/api/v1/nodes`)).json();
        assert.deepEqual(
          (nodes as { items: Array<{ metadata: { name: string } }> }).items.map((n) => n.metadata.name),
          ["kp-signals"],
        );
      } finally {
        child.kill(signal);
      }
      const r = await finished(child, 20_000);
      assert.equal(r.signal, null, `killed: ${r.stderr}`);
      assert.equal(r.code, 0, r.stderr);
    });
  }
});

describe("kproxy cleanup", () => {
  const ns = `kp-cleanup-${randomBytes(3).toString("hex")}`;
  let created = false;
  after(() => {
    if (created) execFileSync("ip", ["netns", "delete", ns]);
  });

  it("removes every built mode's rules (inside a network namespace) and exits 0", async (t) => {
    if (skipUnlessAvailable(t, missingRequirement({ root: true, commands: ["ip", "iptables", "nft"] })))
      return;
    execFileSync("ip", ["netns", "add", ns]);
    created = true;
    const child = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const p = spawn("ip", ["netns", "exec", ns, process.execPath, `${repoRoot}src/main.ts`, "cleanup"]);
      p.stdout?.on("data", (b: Buffer) => out.push(b));
      p.stderr?.on("data", (b: Buffer) => err.push(b));
      p.on("close", (code) =>
        resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
      );
    });
    assert.equal(child.code, 0, child.stderr);
    for (const mode of availableModes())
      assert.match(child.stdout, new RegExp(`^kproxy cleanup: ${mode}: done$`, "m"));
  });

  it("exits 2 for a mode that is not built", async () => {
    const r = await runCli(["cleanup", "--proxy-mode", "warp"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Cannot clean up proxy mode "warp": it is not built; available modes: /);
  });
});
