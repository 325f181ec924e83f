// Must-show 5: in a network namespace whose /etc/resolv.conf (bind-mounted by `ip netns exec` from
// /etc/netns/<name>/resolv.conf) points at kproxy's DNS on a Service IP, with a Pod's search path
// `<ns>.svc.<zone> svc.<zone> <zone>`, `curl <svc>.<ns>.svc:port` reaches the Service. The Pod
// namespace hangs off a node namespace by a veth pair; kproxy runs on the node as
// `kproxy run --proxy-mode iptables|userspace --dns`, with kube-dns a Service whose endpoint is
// its DNS listener, so the Pod's queries go through the Service's rules (DNAT, or the userspace
// relay's portal) like any other traffic.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { apiRequest } from "../../src/apiserver/testing/api-client.ts";
import { pollUntil } from "../../src/dns/testing/dig.ts";
import { endpointSlice } from "../../src/dns/testing/dns-fixtures.ts";
import { createExecutor, runChecked } from "../../src/sys/executor.ts";
import { missingRequirement, suiteSkip } from "../support/requirements.ts";

const requirement = missingRequirement({
  root: true,
  commands: ["ip", "nsenter", "iptables", "curl", "dig"],
});
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const executor = createExecutor();

/** The node's address: where kproxy's DNS listens and the backend (host-network) serves. */
const nodeIP = "10.250.0.1";
const podIP = "10.250.0.2";
const dnsServiceIP = "10.96.0.10";

interface Started {
  readonly child: ChildProcess;
  output(): string;
}

/**
 * Starts a command in the node namespace with nsenter, which enters the network namespace only: the
 * node keeps the host's resolv.conf, so kproxy's upstream is never its own Service IP.
 */
function startInNamespace(ns: string, command: readonly string[]): Started {
  const child = spawn("nsenter", [`--net=/run/netns/${ns}`, "--", ...command], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, KPROXY_LOG_LEVEL: process.env["KPROXY_LOG_LEVEL"] ?? "warn" },
  });
  let out = "";
  child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (out = (out + b.toString()).slice(-64 * 1024)));
  return { child, output: () => out };
}

async function stop(p: Started | undefined): Promise<void> {
  const child = p?.child;
  if (child === undefined || child.pid === undefined || child.exitCode !== null || child.signalCode !== null)
    return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

for (const mode of ["iptables", "userspace"] as const) {
  describe(
    `dns: a Pod's resolver in a network namespace reaches a Service by name (${mode} mode)`,
    suiteSkip(requirement),
    () => {
      const stem = `kp-dns-${randomBytes(3).toString("hex")}`;
      // The node (kproxy, the backend, the DNS listener) and a Pod beside it on a veth pair.
      const ns = `${stem}-n`;
      const pod = `${stem}-p`;
      const etcDir = `/etc/netns/${pod}`;
      const etcNetnsExisted = existsSync("/etc/netns");
      const work = mkdtempSync(join(tmpdir(), "kp-dnsns-"));
      const socketPath = join(work, "api.sock");
      let kproxy: Started | undefined;
      let backend: Started | undefined;

      const api = async (method: string, path: string, body?: unknown): Promise<unknown> => {
        const r = await apiRequest({ socketPath }, method, path, body === undefined ? {} : { body });
        assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: HTTP ${r.status} ${r.text}`);
        return r.body;
      };
      /** Runs a command in the Pod, with its resolv.conf (what `ip netns exec` bind-mounts). */
      const inPod = (file: string, args: readonly string[]): Promise<string> =>
        runChecked(executor, "ip", ["netns", "exec", pod, file, ...args], { timeoutMs: 30_000 });

      before(async () => {
        if (requirement !== undefined) throw new Error(requirement);
        await runChecked(executor, "ip", ["netns", "add", ns]);
        await runChecked(executor, "ip", ["netns", "add", pod]);
        const steps: Array<[string, string[]]> = [
          [ns, ["link", "set", "lo", "up"]],
          [pod, ["link", "set", "lo", "up"]],
          // Created inside the node namespace, one end then moved to the Pod: nothing on the host.
          [ns, ["link", "add", "kpd0", "type", "veth", "peer", "name", "eth0", "netns", pod]],
          [ns, ["addr", "add", `${nodeIP}/24`, "dev", "kpd0"]],
          [ns, ["link", "set", "kpd0", "up"]],
          [pod, ["addr", "add", `${podIP}/24`, "dev", "eth0"]],
          [pod, ["link", "set", "eth0", "up"]],
          // Service IPs are routed to the node, whose rules (or relays) take them from there.
          [pod, ["route", "add", "default", "via", nodeIP]],
        ];
        for (const [where, args] of steps) await runChecked(executor, "ip", ["-n", where, ...args]);

        backend = startInNamespace(ns, [
          process.execPath,
          "-e",
          `require("node:http").createServer((q, s) => s.end("hello from web\\n")).listen(8080, "${nodeIP}")`,
        ]);
        kproxy = startInNamespace(ns, [
          process.execPath,
          join(repoRoot, "src/main.ts"),
          "run",
          "--proxy-mode",
          mode,
          "--hostname-override",
          "node-a",
          "--node-ip",
          nodeIP,
          "--listen",
          "127.0.0.1:0",
          "--listen-socket",
          socketPath,
          "--service-cluster-ip-range",
          "10.96.0.0/16",
          "--dns",
          "--dns-bind-address",
          `${nodeIP}:53`,
          "--cluster-domain",
          "cluster.local",
        ]);
        const ready = await pollUntil(
          () => Promise.resolve(kproxy?.output() ?? ""),
          (out) => out.includes("kproxy: ready") || kproxy?.child.exitCode !== null,
          60_000,
          100,
        );
        assert.ok(ready.value.includes("kproxy: ready"), `kproxy did not start:\n${ready.value}`);

        // kube-dns: a fixed ClusterIP whose endpoint is kproxy's own DNS listener.
        await api("POST", "/api/v1/namespaces/kube-system/services", {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "kube-dns", namespace: "kube-system" },
          spec: {
            clusterIP: dnsServiceIP,
            ports: [
              { name: "dns", port: 53, protocol: "UDP" },
              { name: "dns-tcp", port: 53, protocol: "TCP" },
            ],
          },
        });
        await api(
          "POST",
          "/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices",
          endpointSlice(
            "kube-system",
            "kube-dns",
            "kube-dns-1",
            [{ ip: nodeIP }],
            [
              { name: "dns", port: 53, protocol: "UDP" },
              { name: "dns-tcp", port: 53, protocol: "TCP" },
            ],
          ),
        );
        await api("POST", "/api/v1/namespaces/default/services", {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "web", namespace: "default" },
          spec: { ports: [{ name: "http", port: 8080, targetPort: 8080 }] },
        });
        await api(
          "POST",
          "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
          endpointSlice("default", "web", "web-1", [{ ip: nodeIP }], [{ name: "http", port: 8080 }]),
        );

        // What kubelet writes into a Pod of namespace `default`.
        mkdirSync(etcDir, { recursive: true });
        writeFileSync(
          join(etcDir, "resolv.conf"),
          `nameserver ${dnsServiceIP}\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`,
        );
      });

      after(async () => {
        await stop(kproxy);
        await stop(backend);
        await runChecked(executor, "ip", ["netns", "del", pod]).catch(() => "");
        await runChecked(executor, "ip", ["netns", "del", ns]).catch(() => "");
        rmSync(etcDir, { recursive: true, force: true });
        if (!etcNetnsExisted) {
          try {
            // Only if still empty: another test may have put its own namespace's files there meanwhile.
            rmdirSync("/etc/netns");
          } catch {
            // not empty, or already gone
          }
        }
        rmSync(work, { recursive: true, force: true });
      });

      it("curl <svc>.<ns>.svc:port reaches the Service through kproxy's DNS on the kube-dns Service IP", async () => {
        const r = await pollUntil(
          () =>
            inPod("curl", ["-sS", "--max-time", "5", "http://web.default.svc:8080/"]).catch(
              (err: unknown) => `failed: ${String(err)}`,
            ),
          (out) => out === "hello from web\n",
          10_000,
          200,
        );
        assert.equal(r.value, "hello from web\n", kproxy?.output());
        // The same through the short name a Pod in `default` uses.
        assert.equal(await inPod("curl", ["-sS", "--max-time", "5", "http://web:8080/"]), "hello from web\n");
      });

      it("answers over the Service IP with the search path, as the Pod's resolver sees it", async () => {
        // dig reads the namespace's resolv.conf: nameserver = the Service IP, search list and ndots.
        const a = await inPod("dig", ["+search", "+short", "web.default.svc"]);
        const clusterIP = (
          (await api("GET", "/api/v1/namespaces/default/services/web")) as { spec: { clusterIP: string } }
        ).spec.clusterIP;
        assert.equal(a.trim(), clusterIP);
        assert.equal((await inPod("dig", ["+tcp", "+search", "+short", "web"])).trim(), clusterIP);
        const nx = await inPod("dig", ["nope.default.svc.cluster.local"]);
        assert.match(nx, /status: NXDOMAIN/);
        assert.match(nx, /SERVER: 10\.96\.0\.10#53/);
      });
    },
  );
}
