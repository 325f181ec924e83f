// `kproxy run --proxy-mode userspace` inside a node network namespace, with its embedded API
// server: a Service IP that no interface owns works through the portal rules from a client in
// another namespace (PREROUTING) and from the node itself (OUTPUT);
// NodePort with externalTrafficPolicy Local, an external IP, and load-balancer IPs with source
// ranges behave as specified. Everything lives in namespaces this test creates and removes.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { KubernetesObject } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { createExecutor, runChecked } from "../../src/sys/executor.ts";
import { service } from "../../src/proxy/userspace/testing/fixtures.ts";
import { missingRequirement, suiteSkip } from "../support/requirements.ts";

const requirement = missingRequirement({
  root: true,
  commands: ["ip", "iptables", "iptables-restore", "iptables-save"],
});
const executor = createExecutor();
const backendScript = fileURLToPath(
  new URL("../../src/proxy/userspace/testing/netns-backends.ts", import.meta.url),
);
const mainScript = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const clientScript = fileURLToPath(
  new URL("../../src/proxy/userspace/testing/netns-client.ts", import.meta.url),
);
const stem = `kp-us${randomBytes(3).toString("hex")}`;
const nodeNs = `${stem}-node`;
const clientNs = `${stem}-client`;

function ip(args: string[]): Promise<string> {
  return runChecked(executor, "ip", args, { timeoutMs: 10_000 });
}

async function client(
  ns: string,
  kind: "tcp" | "udp",
  address: string,
  port: number,
  count: number,
): Promise<string[]> {
  const out = await runChecked(
    executor,
    "ip",
    ["netns", "exec", ns, process.execPath, clientScript, kind, address, String(port), String(count)],
    { timeoutMs: 60_000 },
  );
  return JSON.parse(out) as string[];
}

/** Starts `node ARGS` in the node namespace and waits for `readyText` on its stdout. */
function startInNode(what: string, args: string[], readyText: string): Promise<ChildProcess> {
  const child = spawn("ip", ["netns", "exec", nodeNs, process.execPath, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, KPROXY_LOG_LEVEL: "warn" },
  });
  let out = "";
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} not ready in 30 s: ${out}`)), 30_000);
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes(readyText)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once("exit", (code) => reject(new Error(`${what} exited with ${code}: ${out}`)));
  });
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

function tally(names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[n] = (out[n] ?? 0) + 1;
  return out;
}

describe("userspace portals in network namespaces", suiteSkip(requirement), () => {
  let node: ChildProcess | undefined;
  let backends: ChildProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), "kp-us-portal-"));

  before(async () => {
    if (requirement !== undefined) throw new Error(`Cannot run: ${requirement}`);
    for (const ns of [nodeNs, clientNs]) {
      await ip(["netns", "add", ns]);
      await ip(["-n", ns, "link", "set", "lo", "up"]);
    }
    // Both veth ends are created inside the node namespace and one is moved to the client's:
    // nothing appears in the host's namespace.
    await ip(["-n", nodeNs, "link", "add", "vn0", "type", "veth", "peer", "name", "vc0", "netns", clientNs]);
    await ip(["-n", nodeNs, "addr", "add", "10.77.0.1/24", "dev", "vn0"]);
    await ip(["-n", clientNs, "addr", "add", "10.77.0.2/24", "dev", "vc0"]);
    await ip(["-n", nodeNs, "link", "set", "vn0", "up"]);
    await ip(["-n", clientNs, "link", "set", "vc0", "up"]);
    await ip(["-n", clientNs, "route", "add", "default", "via", "10.77.0.1"]);
    // A node has a default route; without one, its own connections to a Service IP fail routing
    // before the OUTPUT portal can redirect them.
    await ip(["-n", nodeNs, "route", "add", "default", "via", "10.77.0.2"]);
    const lb = (obj: KubernetesObject, ip: string): KubernetesObject => {
      // The API server allocates load-balancer IPs; spec.loadBalancerIP asks for a given one.
      const o = obj as KubernetesObject & { spec: Record<string, unknown>; status?: unknown };
      delete o.status;
      o.spec["loadBalancerIP"] = ip;
      return o;
    };
    const services = [
      service({ name: "web", clusterIP: "172.30.77.10", port: 80 }),
      service({ name: "dns", clusterIP: "172.30.77.15", port: 53, protocol: "UDP" }),
      service({
        name: "local",
        clusterIP: "172.30.77.11",
        port: 80,
        type: "NodePort",
        nodePort: 30080,
        externalTrafficPolicy: "Local",
      }),
      service({ name: "ext", clusterIP: "172.30.77.12", port: 80, externalIPs: ["172.30.77.20"] }),
      lb(
        service({
          name: "lb-ok",
          clusterIP: "172.30.77.13",
          port: 80,
          type: "LoadBalancer",
          nodePort: 30081,
          loadBalancerSourceRanges: ["10.77.0.2/32"],
        }),
        "172.30.78.30",
      ),
      lb(
        service({
          name: "lb-deny",
          clusterIP: "172.30.77.14",
          port: 80,
          type: "LoadBalancer",
          nodePort: 30082,
          loadBalancerSourceRanges: ["10.99.0.0/24"],
        }),
        "172.30.78.31",
      ),
    ];
    writeFileSync(join(dir, "services.yaml"), services.map((o) => stringify(o)).join("---\n"));
    const input = {
      nodeName: "node-a",
      backends: [
        { service: "web", names: ["web1", "web2", "web3"] },
        { service: "dns", names: ["dns1", "dns2"], udp: true },
        { service: "local", names: ["here", "elsewhere"], nodeNames: ["node-a", "node-b"] },
        { service: "ext", names: ["ext1"] },
        { service: "lb-ok", names: ["lb1"] },
        { service: "lb-deny", names: ["lb2"] },
      ],
    };
    writeFileSync(join(dir, "backends.json"), JSON.stringify(input));
    backends = await startInNode(
      "backends",
      [backendScript, join(dir, "backends.json"), join(dir, "slices.yaml")],
      '"ready":true',
    );
    node = await startInNode(
      "kproxy",
      [
        mainScript,
        "run",
        "--proxy-mode",
        "userspace",
        "--hostname-override",
        "node-a",
        "--node-ip",
        "10.77.0.1",
        "--listen",
        "127.0.0.1:0",
        "--listen-socket",
        join(dir, "api.sock"),
        "--service-cluster-ip-range",
        "172.30.77.0/24",
        "--service-node-port-range",
        "30000-30100",
        "--load-balancer-ip-range",
        "172.30.78.0/24",
        "--healthz-bind-address",
        "127.0.0.1:0",
        "--metrics-bind-address",
        "127.0.0.1:0",
        "--manifests",
        join(dir, "services.yaml"),
        "--manifests",
        join(dir, "slices.yaml"),
      ],
      "kproxy: ready",
    );
    // The manifests are applied as kproxy starts; wait until the last Service is relayed.
    for (let i = 0; i < 100; i++) {
      const answer = await client(clientNs, "tcp", "172.30.78.30", 80, 1);
      if (answer[0] === "lb1") break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(async () => {
    await stop(node);
    await stop(backends);
    for (const ns of [clientNs, nodeNs]) await ip(["netns", "delete", ns]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("installs the portal chains, hooked from PREROUTING and OUTPUT", async () => {
    const rules = await runChecked(executor, "ip", ["netns", "exec", nodeNs, "iptables-save", "-t", "nat"]);
    assert.match(rules, /-A PREROUTING .*-j KUBE-PORTALS-CONTAINER/);
    assert.match(rules, /-A OUTPUT .*-j KUBE-PORTALS-HOST/);
    assert.match(
      rules,
      /-A KUBE-PORTALS-CONTAINER .*-d 172\.30\.77\.10\/32 .*--dport 80 -j REDIRECT --to-ports \d+/,
    );
  });

  it("a ClusterIP no interface owns answers a client in another namespace, round robin in exact thirds", async () => {
    assert.deepEqual(tally(await client(clientNs, "tcp", "172.30.77.10", 80, 30)), {
      web1: 10,
      web2: 10,
      web3: 10,
    });
  });

  it("the same ClusterIP answers processes on the node itself (OUTPUT)", async () => {
    const names = await client(nodeNs, "tcp", "172.30.77.10", 80, 6);
    assert.deepEqual(tally(names), { web1: 2, web2: 2, web3: 2 });
  });

  it("UDP through a portal: answers come back from the Service address", async () => {
    const answers = await client(clientNs, "udp", "172.30.77.15", 53, 6);
    assert.ok(
      answers.every((a) => /^dns[12]:q\d$/.test(a)),
      answers.join(","),
    );
    assert.deepEqual(Object.keys(tally(answers.map((a) => a.split(":")[0] ?? ""))).sort(), ["dns1", "dns2"]);
  });

  it("UDP through a portal from the node itself (OUTPUT): answers come back from the Service address", async () => {
    // The client's socket is connected, as a resolver's is: an answer whose source conntrack did
    // not map back to 172.30.77.15:53 never reaches it.
    const answers = await client(nodeNs, "udp", "172.30.77.15", 53, 4);
    assert.ok(
      answers.every((a) => /^dns[12]:q\d$/.test(a)),
      answers.join(","),
    );
  });

  it("NodePort with externalTrafficPolicy Local sends external clients only to the local endpoint", async () => {
    assert.deepEqual(tally(await client(clientNs, "tcp", "10.77.0.1", 30080, 8)), { here: 8 });
    // The ClusterIP is internal traffic: every endpoint.
    assert.deepEqual(tally(await client(clientNs, "tcp", "172.30.77.11", 80, 8)), { here: 4, elsewhere: 4 });
  });

  it("an external IP works through the portal", async () => {
    assert.deepEqual(await client(clientNs, "tcp", "172.30.77.20", 80, 2), ["ext1", "ext1"]);
  });

  it("load-balancer IPs admit only their source ranges (reset otherwise)", async () => {
    assert.deepEqual(await client(clientNs, "tcp", "172.30.78.30", 80, 2), ["lb1", "lb1"]);
    assert.deepEqual(await client(clientNs, "tcp", "172.30.78.31", 80, 2), [
      "error:ECONNRESET",
      "error:ECONNRESET",
    ]);
    // Source ranges guard the LB IP only: the ClusterIP of the same Service answers.
    assert.deepEqual(await client(clientNs, "tcp", "172.30.77.14", 80, 1), ["lb2"]);
  });

  it("kproxy cleanup removes every portal rule after kproxy stopped", async () => {
    await stop(node);
    const left = await runChecked(executor, "ip", ["netns", "exec", nodeNs, "iptables-save", "-t", "nat"]);
    assert.match(left, /KUBE-PORTALS-CONTAINER/, "stopping leaves the rules in place, as upstream does");
    await runChecked(
      executor,
      "ip",
      ["netns", "exec", nodeNs, process.execPath, mainScript, "cleanup", "--proxy-mode", "userspace"],
      {
        timeoutMs: 30_000,
      },
    );
    const rules = await runChecked(executor, "ip", ["netns", "exec", nodeNs, "iptables-save", "-t", "nat"]);
    assert.doesNotMatch(rules, /KUBE-PORTALS|KUBE-NODEPORT/);
  });
});
