import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { missingRequirement, suiteSkip } from "../support/requirements.ts";
import { repoRoot } from "./cli-process.ts";

// Switching modes: kube-proxy removes the previous mode's rules when it starts, so that stale
// DNAT rules of one mode cannot shadow the other's. Shown with real rules in a namespace.
const requirement = missingRequirement({ root: true, commands: ["ip", "iptables-save", "nft"] });

const manifest = `
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec:
  clusterIP: 10.96.0.77
  ports: [{ name: http, port: 80, protocol: TCP }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-1, namespace: default, labels: { kubernetes.io/service-name: web } }
addressType: IPv4
ports: [{ name: http, port: 8080, protocol: TCP }]
endpoints: [{ addresses: [10.244.0.5] }]
`;

describe("kproxy run switching modes", suiteSkip(requirement), () => {
  const ns = `kp-switch-${randomBytes(3).toString("hex")}`;
  const dir = mkdtempSync(join(tmpdir(), "kp-switch-"));
  const children = new Set<ChildProcess>();
  let created = false;

  before(() => {
    if (requirement !== undefined) throw new Error(`Cannot run: ${requirement}`);
    writeFileSync(join(dir, "web.yaml"), manifest);
    execFileSync("ip", ["netns", "add", ns]);
    created = true;
    execFileSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
  });

  after(() => {
    for (const c of children) c.kill("SIGKILL");
    if (created) execFileSync("ip", ["netns", "delete", ns]);
    rmSync(dir, { recursive: true, force: true });
  });

  const inNs = (cmd: string, ...args: string[]): string =>
    execFileSync("ip", ["netns", "exec", ns, cmd, ...args], { encoding: "utf8" });

  /** Runs `kproxy run` in the namespace until it has synced once, then stops it with SIGTERM. */
  async function runOnce(mode: string): Promise<void> {
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        ns,
        process.execPath,
        `${repoRoot}src/main.ts`,
        "run",
        "--proxy-mode",
        mode,
        "--listen",
        "127.0.0.1:0",
        "--hostname-override",
        "switch-node",
        "--node-ip",
        "127.0.0.1",
        "--cluster-cidr",
        "10.244.0.0/16",
        "--healthz-bind-address",
        "127.0.0.1:0",
        "--metrics-bind-address",
        "127.0.0.1:0",
        "--manifests",
        join(dir, "web.yaml"),
      ],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, KPROXY_LOG_LEVEL: "warn" } },
    );
    children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    // `ready` is printed after the first sync; the manifest may land in a later sync, so wait for
    // the service's rules themselves.
    const programmed = (): boolean =>
      mode === "iptables" ? inNs("iptables-save").includes("default/web:http") : nftHasTable("kproxy");
    while (!(stdout.includes("kproxy: ready") && programmed())) {
      if (child.exitCode !== null) assert.fail(`kproxy ${mode} exited early:\n${stderr}`);
      if (Date.now() > deadline) assert.fail(`kproxy ${mode} did not program the Service:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    child.kill("SIGTERM");
    assert.equal(await exited, 0, stderr);
    children.delete(child);
  }

  const nftHasTable = (name: string): boolean => inNs("nft", "list", "tables").includes(`table ip ${name}`);
  const iptablesHasKproxyChains = (): boolean =>
    /KUBE-SERVICES|KUBE-SVC-/.test(inNs("iptables-save")) ||
    /KUBE-SERVICES|KUBE-SVC-/.test(inNs("iptables-legacy-save"));

  it("iptables → nftables removes the iptables rules; nftables → iptables removes the nftables table", async () => {
    await runOnce("iptables");
    assert.ok(iptablesHasKproxyChains(), "iptables mode left its rules in place after SIGTERM, as upstream");

    await runOnce("nftables");
    assert.ok(nftHasTable("kproxy"), "nftables mode wrote its table");
    assert.equal(
      iptablesHasKproxyChains(),
      false,
      `iptables rules survived the switch:\n${inNs("iptables-save")}`,
    );

    await runOnce("iptables");
    assert.equal(nftHasTable("kproxy"), false, `the nftables table survived the switch back`);
    assert.ok(iptablesHasKproxyChains());
  });
});
