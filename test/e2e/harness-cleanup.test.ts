// The harness leaves nothing behind: a closed topology, a build that fails half-way, and
// namespaces of a harness run that died (no after() hooks) are all removed; a live run's are not.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, describe, test } from "node:test";
import type { TopologySpec } from "../../src/proxy/testing/conformance-topology.ts";
import { suiteSkip } from "../support/requirements.ts";
import {
  addNamespace,
  deleteNamespace,
  harnessPrefix,
  listNamespaces,
  removeLeftoverNamespaces,
} from "./harness/netns.ts";
import { topologyRequirement } from "./harness/requirements.ts";
import { buildTopology } from "./harness/topology.ts";

const small: TopologySpec = {
  fabricPrefixLength: 24,
  podPrefixLength: 24,
  nodes: [{ name: "node1", ip: "192.168.0.2", podGateway: "10.180.0.254", podCIDR: "10.180.0.0/24" }],
  pods: [
    { name: "p1", node: "node1", ip: "10.180.0.1", role: "backend" },
    { name: "c1", node: "node1", ip: "10.180.0.100", role: "client" },
  ],
  external: { name: "external", ip: "203.0.113.2", gatewayNode: "node1", routedCIDRs: [] },
  backendPorts: { tcp: [80], udp: [80] },
};

async function ours(): Promise<string[]> {
  return (await listNamespaces()).filter((ns) => ns.startsWith(`${harnessPrefix}${process.pid}-`));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("harness cleanup", suiteSkip(topologyRequirement()), () => {
  const extra: string[] = [];
  after(async () => {
    for (const ns of extra) await deleteNamespace(ns).catch(() => undefined);
  });

  test("close() stops every process and deletes every namespace", async () => {
    const topo = await buildTopology(small);
    const client = await topo.client("c1");
    const answer = await client.tcp("10.180.0.1", 80);
    assert.equal(answer.outcome, "answered");
    assert.equal((await ours()).length, 5);
    const pid = client.process.pid;
    await topo.close();
    assert.deepEqual(await ours(), []);
    assert.equal(alive(pid), false, "client agent still running");
  });

  test("a build that fails half-way removes what it had created and rethrows", async () => {
    const broken: TopologySpec = {
      ...small,
      pods: [...small.pods, { name: "bad", node: "node1", ip: "10.180.0.300", role: "backend" }],
    };
    await assert.rejects(buildTopology(broken), /10\.180\.0\.300/);
    assert.deepEqual(await ours(), []);
  });

  test("leftovers of a dead harness run are removed; a live run's namespaces are kept", async () => {
    const dead = spawnSync("true").pid;
    assert.ok(dead !== undefined && !alive(dead));
    const deadNs = `${harnessPrefix}${dead}-000000-fabric`;
    const liveNs = `${harnessPrefix}${process.ppid}-000000-fabric`;
    extra.push(deadNs, liveNs);
    await addNamespace(deadNs);
    await addNamespace(liveNs);
    await removeLeftoverNamespaces();
    // Another suite running in parallel may have removed it first: only the result matters.
    const remaining = await listNamespaces();
    assert.ok(!remaining.includes(deadNs));
    assert.ok(remaining.includes(liveNs));
  });
});
