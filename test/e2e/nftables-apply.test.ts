// nftables mode against the real kernel: rules applied with real `nft` inside network namespaces
// this test creates, real TCP connections through veth pairs between them.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { defaultProxyConfig } from "../../src/config/defaults.ts";
import type { ProxyConfig } from "../../src/config/proxy-config.ts";
import type { NodeInfo } from "../../src/model/node-info.ts";
import type { ProxyState } from "../../src/model/proxy-state.ts";
import { RuleApplyError } from "../../src/errors.ts";
import { baselineKernelFeatures } from "../../src/proxy/kernel-features.ts";
import { newNftablesProxier, type NftablesProxier } from "../../src/proxy/nftables/nftables-proxier.ts";
import { renderNftables } from "../../src/proxy/nftables/render/render-nftables.ts";
import {
  createTestNetns,
  linkNetns,
  removeAll,
  type TestNetns,
} from "../../src/proxy/nftables/testing/netns.ts";
import { normalizeNftJson } from "../../src/proxy/nftables/testing/normalize-nft-listing.ts";
import { fixtureState, type FixtureService } from "../../src/proxy/nftables/testing/service-fixtures.ts";
import { systemClock } from "../../src/sys/clock.ts";
import type { Executor } from "../../src/sys/executor.ts";
import { silentLogger } from "../../src/sys/logger.ts";
import { missingRequirement, suiteSkip } from "../support/requirements.ts";

const requirement = missingRequirement({ root: true, commands: ["nft", "ip", "socat"] });

const node: NodeInfo = {
  name: "node-a",
  labels: {},
  nodeIPs: ["192.168.50.1"],
  podCIDRs: [],
  localAddresses: ["192.168.50.1/24", "10.244.0.1/24", "127.0.0.1/8"],
  deleting: false,
};
const config: ProxyConfig = { ...defaultProxyConfig, mode: "nftables", clusterCIDRs: ["10.244.0.0/16"] };
const serviceCIDRs = ["172.30.0.0/16"];

const web = (endpointPort: number): FixtureService => ({
  namespace: "default",
  name: "web",
  clusterIP: "172.30.0.10",
  port: 80,
  type: "NodePort",
  nodePort: 30080,
  endpoints: [{ ip: "10.244.0.10", port: endpointPort, nodeName: "node-a" }],
});
const empty: FixtureService = {
  namespace: "default",
  name: "empty",
  clusterIP: "172.30.0.11",
  port: 80,
  endpoints: [],
};

describe("nftables proxier on a real kernel", suiteSkip(requirement), () => {
  let nodeNs: TestNetns | undefined;
  let pod: TestNetns | undefined;
  let client: TestNetns | undefined;
  let proxier: NftablesProxier;
  let failNext = false;

  /** The node's executor, which can corrupt the next transaction to simulate a kernel that rejects a rule. */
  const executor = (): Executor => ({
    run(file, args, options) {
      if (failNext && file === "nft" && options?.input !== undefined) {
        failNext = false;
        return (nodeNs as TestNetns).executor.run(file, args, {
          ...options,
          input: `${options.input}add rule ip kproxy services meta unsupported-expression\n`,
        });
      }
      return (nodeNs as TestNetns).executor.run(file, args, options);
    },
  });

  const sync = (
    services: readonly FixtureService[],
    full: boolean,
    changed: readonly string[] = [],
  ): Promise<void> =>
    proxier.sync({
      states: [fixtureState(services, node, serviceCIDRs)],
      full,
      changedServices: new Set(changed),
    });

  /** Connects with socat from a namespace; resolves with the reply or the error text. */
  const connect = async (from: TestNetns, address: string): Promise<string> => {
    const r = await from.executor.run("socat", ["-T3", "-", `TCP:${address},connect-timeout=3`], {
      input: "",
    });
    return r.code === 0 ? r.stdout.trim() : `error: ${r.stderr.trim()}`;
  };

  const listing = async (ns: TestNetns): Promise<string> =>
    normalizeNftJson(await ns.exec("nft", ["-j", "list", "table", "ip", "kproxy"]));

  before(async () => {
    if (requirement !== undefined) throw new Error(`Cannot run: ${requirement}`);
    nodeNs = await createTestNetns("nftnode");
    pod = await createTestNetns("nftpod");
    client = await createTestNetns("nftcli");
    await linkNetns(nodeNs, pod, {
      aName: "p0",
      bName: "eth0",
      aAddr: "10.244.0.1/24",
      bAddr: "10.244.0.10/24",
    });
    await linkNetns(nodeNs, client, {
      aName: "c0",
      bName: "eth0",
      aAddr: "192.168.50.1/24",
      bAddr: "192.168.50.2/24",
    });
    // No ICMP redirects: the client is also the node's default gateway here, and a redirect
    // would use up the per-host ICMP budget that the REJECT's "port unreachable" needs.
    await nodeNs.exec("sysctl", [
      "-qw",
      "net.ipv4.ip_forward=1",
      "net.ipv4.conf.all.send_redirects=0",
      "net.ipv4.conf.c0.send_redirects=0",
    ]);
    await nodeNs.exec("ip", ["route", "add", "default", "via", "192.168.50.2"]);
    await pod.exec("ip", ["route", "add", "default", "via", "10.244.0.1"]);
    await client.exec("ip", ["route", "add", "default", "via", "192.168.50.1"]);
    for (const [port, answer] of [
      [8080, "pod-a"],
      [8081, "pod-b"],
    ] as const)
      pod.spawn("socat", [`TCP-LISTEN:${port},fork,reuseaddr`, `SYSTEM:echo ${answer}`]);
    for (let i = 0; i < 50 && !(await connect(pod, "127.0.0.1:8081")).startsWith("pod-b"); i++)
      await new Promise((r) => setTimeout(r, 100));
    proxier = await newNftablesProxier(
      { config, executor: executor(), logger: silentLogger(), metrics: new Registry(), clock: systemClock },
      { staleChainDelayMs: 0, netnsName: nodeNs.name },
    );
  });
  after(() => removeAll([client, pod, nodeNs]));

  it("DNATs ClusterIP and NodePort connections to the endpoint and rejects a service without endpoints", async () => {
    await sync([web(8080), empty], true);
    const c = client as TestNetns;
    assert.equal(await connect(c, "172.30.0.10:80"), "pod-a");
    assert.equal(await connect(c, "192.168.50.1:30080"), "pod-a");
    assert.equal(await connect(nodeNs as TestNetns, "172.30.0.10:80"), "pod-a");
    assert.match(await connect(c, "172.30.0.11:80"), /Connection refused/);
    assert.match(await connect(c, "172.30.0.10:81"), /Connection refused/);
  });

  it("moves traffic to a new endpoint with a partial sync that touches only that service", async (t) => {
    await sync([web(8081), empty], false, ["default/web"]);
    assert.deepEqual(proxier.lastPlanKinds, ["partial"]);
    assert.doesNotMatch(proxier.lastTransaction, /empty/);
    t.diagnostic(`partial sync sent by ${proxier.lastApplyPath}`);
    assert.equal(await connect(client as TestNetns, "172.30.0.10:80"), "pod-b");
  });

  it("leaves, after many partial syncs, the same ruleset as a fresh full render", async (t) => {
    // A deterministic sequence of changes: services come and go, gain and lose endpoints,
    // switch type, affinity and traffic policy.
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      // The high bits: an LCG's low bits repeat with a short period.
      return Math.floor(seed / 65536) % n;
    };
    const variant = (i: number): FixtureService | undefined => {
      const kind = random(6);
      if (kind === 0) return undefined;
      return {
        namespace: "churn",
        name: `s${i}`,
        clusterIP: `172.30.1.${i}`,
        port: 80 + random(2),
        protocol: random(4) === 0 ? "UDP" : "TCP",
        type: kind === 2 ? "NodePort" : kind === 3 ? "LoadBalancer" : "ClusterIP",
        ...(kind === 2 || kind === 3 ? { nodePort: 31000 + i } : {}),
        ...(kind === 3 ? { loadBalancerIPs: [`203.0.113.${i}`], sourceRanges: ["198.51.100.0/24"] } : {}),
        ...(kind === 4 ? { externalIPs: [`198.18.0.${i}`], externalTrafficPolicyLocal: true } : {}),
        ...(kind === 5 ? { affinitySeconds: 60 + random(3) } : {}),
        endpoints: Array.from({ length: random(4) }, (_, j) => ({
          ip: `10.244.${1 + j}.${i}`,
          port: 8080,
          ...(random(2) === 0 ? { nodeName: "node-a" } : {}),
        })),
      };
    };
    const current = new Map<number, FixtureService>();
    const services = (): FixtureService[] => [web(8081), empty, ...current.values()];
    const paths = new Map<string, number>();
    // What the rounds must have exercised, so that the comparison below means something.
    const covered = [
      ["affinity set added", /^add set ip kproxy affinity-/m],
      ["affinity set deleted", /^delete set ip kproxy affinity-/m],
      ["endpoint map range", /^(add|delete) element ip kproxy endpoints-(tcp|udp)-/m],
      ["hairpin pair", /^(add|delete) element ip kproxy hairpin-endpoints /m],
      ["chain removed", /^delete chain ip kproxy /m],
    ] as const;
    const seen = new Map<string, number>();
    for (let round = 0; round < 30; round++) {
      const changed: string[] = [];
      for (let k = 0; k < 3; k++) {
        const i = random(20);
        const next = variant(i);
        if (next === undefined) current.delete(i);
        else current.set(i, next);
        changed.push(`churn/s${i}`);
      }
      await sync(services(), false, changed);
      paths.set(proxier.lastApplyPath, (paths.get(proxier.lastApplyPath) ?? 0) + 1);
      for (const [what, re] of covered)
        if (re.test(proxier.lastTransaction)) seen.set(what, (seen.get(what) ?? 0) + 1);
    }
    t.diagnostic(`partial syncs sent by: ${JSON.stringify(Object.fromEntries(paths))}`);
    t.diagnostic(`rounds that exercised: ${JSON.stringify(Object.fromEntries(seen))}`);
    assert.deepEqual(
      covered.filter(([what]) => !seen.has(what)).map(([what]) => what),
      [],
    );
    await sync(services(), false, []); // deletes the chains that went stale in the last round
    const fresh = await createTestNetns("nftfresh");
    try {
      const state: ProxyState = fixtureState(services(), node, serviceCIDRs);
      await fresh.exec("nft", ["-f", "-"], renderNftables(state, config, baselineKernelFeatures));
      const synced = await listing(nodeNs as TestNetns);
      const expected = await listing(fresh);
      // Only the lines that differ, so that a failure shows the difference and not the table.
      const only = (a: string, b: string): string[] => {
        const other = new Set(b.split("\n"));
        return a.split("\n").filter((l) => !other.has(l));
      };
      assert.deepEqual(
        { synced: only(synced, expected), fresh: only(expected, synced) },
        { synced: [], fresh: [] },
      );
      assert.equal(synced, expected);
    } finally {
      await fresh.remove();
    }
    assert.equal(await connect(client as TestNetns, "172.30.0.10:80"), "pod-b");
  });

  it("keeps the previous rules when nft refuses a transaction, and the next sync recovers", async () => {
    // A second proxier on the same table that always uses `nft -f`, whose executor corrupts
    // the next transaction as a kernel without some expression would refuse it.
    const viaNft = await newNftablesProxier(
      { config, executor: executor(), logger: silentLogger(), metrics: new Registry(), clock: systemClock },
      { staleChainDelayMs: 0, netlink: false },
    );
    const states = (services: readonly FixtureService[]): ProxyState[] => [
      fixtureState(services, node, serviceCIDRs),
    ];
    await viaNft.sync({ states: states([web(8081), empty]), full: true, changedServices: new Set() });
    const beforeFailure = await listing(nodeNs as TestNetns);
    failNext = true;
    await assert.rejects(
      viaNft.sync({
        states: states([web(8080), empty]),
        full: false,
        changedServices: new Set(["default/web"]),
      }),
      (err: unknown) => {
        assert.ok(err instanceof RuleApplyError);
        assert.match(err.stderr, /unsupported-expression/);
        assert.equal(err.failingLines.length, 1, err.message);
        return true;
      },
    );
    assert.equal(viaNft.lastApplyPath, "nft");
    assert.equal(await listing(nodeNs as TestNetns), beforeFailure);
    assert.equal(await connect(client as TestNetns, "172.30.0.10:80"), "pod-b");
    await viaNft.sync({ states: states([web(8080), empty]), full: true, changedServices: new Set() });
    assert.deepEqual(viaNft.lastPlanKinds, ["rebuild"]);
    assert.equal(await connect(client as TestNetns, "172.30.0.10:80"), "pod-a");
  });

  it("keeps the previous rules when the kernel refuses a netlink batch, and the next sync recovers", async (t) => {
    // The test above rebuilt the table behind this proxier's back: start it afresh.
    await proxier.cleanup();
    await sync([web(8080), empty], true);
    await sync([web(8081), empty], false, ["default/web"]);
    if (proxier.lastApplyPath !== "netlink") {
      t.diagnostic("netlink path not available here (koffi not installed): covered by the nft test above");
      return;
    }
    // Someone removes an element kproxy wrote; the batch that deletes it must fail as a whole.
    await (nodeNs as TestNetns).exec("nft", [
      "delete",
      "element",
      "ip",
      "kproxy",
      "cluster-ips",
      "{ 172.30.0.11 }",
    ]);
    const beforeFailure = await listing(nodeNs as TestNetns);
    await assert.rejects(sync([web(8080)], false, ["default/web", "default/empty"]), (err: unknown) => {
      assert.ok(err instanceof RuleApplyError);
      assert.ok(
        err.failingLines.some((l) =>
          l.startsWith("ENOENT: delete element ip kproxy cluster-ips { 172.30.0.11 }"),
        ),
        err.message,
      );
      return true;
    });
    assert.equal(await listing(nodeNs as TestNetns), beforeFailure);
    assert.equal(await connect(client as TestNetns, "172.30.0.10:80"), "pod-b");
    await sync([web(8080)], false, ["default/web", "default/empty"]);
    assert.deepEqual(proxier.lastPlanKinds, ["rebuild"]);
    assert.equal(await connect(client as TestNetns, "172.30.0.10:80"), "pod-a");
    await sync([web(8081), empty], true);
  });

  it("cleanup deletes the table, and is safe to repeat", async () => {
    await proxier.cleanup();
    const tables = await (nodeNs as TestNetns).exec("nft", ["list", "tables"]);
    assert.doesNotMatch(tables, /kproxy|kube-proxy/);
    await proxier.cleanup();
    assert.match(await connect(client as TestNetns, "172.30.0.10:80"), /error/);
  });
});
