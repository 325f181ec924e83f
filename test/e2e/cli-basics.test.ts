import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { knownProxyModes } from "../../src/config/validate-config.ts";
import { availableModes } from "../../src/proxy/mode-registry.ts";
import { finished, repoRoot, runCli, startCli } from "./cli-process.ts";

const dir = mkdtempSync(join(tmpdir(), "kp-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A loopback port that was free a moment ago. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe("kproxy command line", () => {
  it("prints its version from package.json", async () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string };
    const r = await runCli(["--version"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it("lists every command in --help", async () => {
    const r = await runCli(["--help"]);
    assert.equal(r.code, 0);
    for (const cmd of ["run", "render", "cleanup", "apiserver", "dns", "demo"]) {
      assert.match(r.stdout, new RegExp(`^  ${cmd}\\b`, "m"), cmd);
    }
  });

  it("has --help on every command, with run's kube-proxy flags", async () => {
    for (const cmd of ["run", "render", "cleanup", "apiserver", "dns", "demo"]) {
      const r = await runCli([cmd, "--help"]);
      assert.equal(r.code, 0, `${cmd} --help`);
      assert.match(r.stdout, new RegExp(`^Usage: kproxy ${cmd}`, "m"));
    }
    const run = await runCli(["run", "--help"]);
    for (const flag of [
      "--config",
      "--proxy-mode",
      "--kubeconfig",
      "--master",
      "--hostname-override",
      "--node-ip",
      "--cluster-cidr",
      "--detect-local-mode",
      "--nodeport-addresses",
      "--masquerade-all",
      "--iptables-masquerade-bit",
      "--iptables-sync-period",
      "--iptables-min-sync-period",
      "--iptables-localhost-nodeports",
      "--nftables-layout",
      "--ipvs-scheduler",
      "--userspace-scheduler",
      "--userspace-workers",
      "--udp-timeout",
      "--healthz-bind-address",
      "--metrics-bind-address",
      "--v",
      "--listen",
      "--listen-socket",
      "--data-dir",
      "--service-cluster-ip-range",
      "--service-node-port-range",
      "--load-balancer-ip-range",
      "--token-file",
      "--tls-cert-file",
      "--tls-private-key-file",
      "--manifests",
      "--dns",
      "--dns-bind-address",
      "--cluster-domain",
    ]) {
      assert.match(run.stdout, new RegExp(`${flag}\\b`), flag);
    }
  });

  it("exits 2 on an unknown command or flag", async () => {
    const cmd = await runCli(["frobnicate"]);
    assert.equal(cmd.code, 2);
    assert.match(cmd.stderr, /unknown command 'frobnicate'/);
    const flag = await runCli(["run", "--no-such-flag"]);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /unknown option '--no-such-flag'/);
  });

  it("exits 2 listing every problem of a bad configuration file, with its field", async () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(
      file,
      [
        "apiVersion: kubeproxy.config.k8s.io/v1alpha1",
        "kind: KubeProxyConfiguration",
        "mode: turbo",
        "clusterCIDR: 10.0.0.0/33",
        "healthzBindAddress: everywhere",
        "iptables:",
        "  masqueradeBit: 99",
        "  syncPeriod: soon",
        "  minSyncPerod: 1s",
        "conntrack:",
        "  min: many",
        "oomScoreAdj: 5000",
        "",
      ].join("\n"),
    );
    const r = await runCli(["run", "--config", file]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /8 problem\(s\)/);
    for (const field of [
      "mode",
      "clusterCIDR",
      "healthzBindAddress",
      "iptables.masqueradeBit",
      "iptables.syncPeriod",
      "iptables.minSyncPerod",
      "conntrack.min",
      "oomScoreAdj",
    ]) {
      assert.match(r.stderr, new RegExp(`^  ${field.replace(".", "\\.")}: `, "m"), field);
    }
    assert.match(r.stderr, /iptables\.masqueradeBit: 99 is not in 0\.\.31 \(for example: 14\)/);
    assert.equal(r.stdout, "");
  });

  it("exits 2 listing every problem of bad flags, flags overriding the file", async () => {
    const file = join(dir, "good.yaml");
    writeFileSync(file, "mode: userspace\niptables:\n  masqueradeBit: 14\n");
    const r = await runCli([
      "run",
      "--config",
      file,
      "--iptables-masquerade-bit",
      "40",
      "--iptables-sync-period",
      "often",
      "--cluster-cidr",
      "10.0.0.0/8,bogus",
      "--v",
      "loud",
      "--userspace-workers",
      "99",
    ]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--iptables-sync-period: "often" is not a duration/);
    assert.match(r.stderr, /--v: "loud" is not an integer/);
    assert.match(r.stderr, /iptables\.masqueradeBit: 40 is not in 0\.\.31/);
    assert.match(r.stderr, /clusterCIDR\[1\]: "bogus" is not a CIDR/);
    assert.match(r.stderr, /userspace\.workers: 99 is not in 0\.\.64/);
  });

  it("exits 2 on a missing configuration file", async () => {
    const r = await runCli(["run", "--config", join(dir, "missing.yaml")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--config: cannot read .*missing\.yaml/);
  });

  it("exits 2 on an unknown proxy mode, listing the modes", async () => {
    const r = await runCli(["run", "--proxy-mode", "warp"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /mode: "warp" is not a proxy mode \(userspace, iptables, ipvs, nftables\)/);
    assert.match(r.stderr, new RegExp(`built here: ${availableModes().join(", ")}`));
  });

  const missing = knownProxyModes.find((m) => !availableModes().includes(m));
  it(
    "exits 2 on a known mode that is not built, listing the modes that are",
    { skip: missing === undefined ? "every mode is built" : false },
    async () => {
      const r = await runCli(["run", "--proxy-mode", missing ?? "", "--master", "http://127.0.0.1:9"]);
      assert.equal(r.code, 2);
      assert.match(
        r.stderr,
        new RegExp(
          `Cannot run proxy mode "${missing}": it is not built; available modes: ${availableModes().join(", ")}`,
        ),
      );
    },
  );

  it("stops cleanly with exit 0 on SIGTERM, even while waiting for an unreachable API server", async () => {
    // A port that refuses connections: the informers keep retrying until the signal.
    const port = await freePort();
    const healthzPort = await freePort();
    const child = startCli([
      "run",
      "--proxy-mode",
      availableModes()[0] ?? "userspace",
      "--master",
      `http://127.0.0.1:${port}`,
      "--hostname-override",
      "kp-cli-node",
      "--healthz-bind-address",
      `127.0.0.1:${healthzPort}`,
      "--metrics-bind-address",
      "127.0.0.1:0",
    ]);
    // /healthz answers once kproxy is up (it serves before the informers have synced).
    for (let i = 0; ; i++) {
      assert.equal(child.exitCode, null, `kproxy exited early: ${child.output().stderr}`);
      const ok = await fetch(`http://127.0.0.1:${healthzPort}/healthz`).then(
        (res) => res.status === 200,
        () => false,
      );
      if (ok) break;
      assert.ok(i < 200, "kproxy's /healthz never answered");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill("SIGTERM");
    const r = await finished(child, 15_000);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.signal, null);
  });
});
