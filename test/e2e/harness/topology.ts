import { fileURLToPath } from "node:url";
import type { TopologyPod, TopologySpec } from "../../../src/proxy/testing/conformance-topology.ts";
import { startNamespaceClient, type NamespaceClient } from "./namespace-client.ts";
import { startNamespaceProcess, type NamespaceProcess } from "./namespace-process.ts";
import {
  addNamespace,
  deleteNamespace,
  ip,
  listNamespaces,
  newNamespaceStem,
  nsSysctl,
  removeLeftoverNamespaces,
} from "./netns.ts";

const nameServerScript = fileURLToPath(new URL("./name-server.ts", import.meta.url));

/**
 * A built topology: a *fabric* namespace whose bridge joins the node namespaces and the
 * external client; in each node a pod bridge `cbr0` with the pods' veths in hairpin mode; a
 * name server in every backend pod. Names (`node1`, `n1-pod1`, `external`) are the spec's; the
 * namespaces are `<stem>-<name>`.
 */
export interface Topology {
  readonly spec: TopologySpec;
  /** `kp-h<pid>-<random>`: every namespace of this topology starts with it. */
  readonly stem: string;
  /** The namespace of a node, pod, the external client, or `fabric`. */
  namespaceOf(name: string): string;
  /** Every namespace created, in creation order. */
  readonly namespaces: readonly string[];
  /** A client agent in the namespace of `name` (started on first use, then reused). */
  client(name: string): Promise<NamespaceClient>;
  /** Stops every process and deletes every namespace (reverse order); throws if any remain. */
  close(): Promise<void>;
}

/**
 * Builds `spec` in fresh namespaces. On any failure, removes whatever it had created before
 * rethrowing, so a failed build leaks nothing. Never touches the host's network: every
 * interface is created inside a namespace (`ip -n`), and the veth pairs' both ends live in
 * harness namespaces.
 */
export async function buildTopology(spec: TopologySpec): Promise<Topology> {
  await removeLeftoverNamespaces();
  const stem = newNamespaceStem();
  const nsOf = (name: string): string => `${stem}-${name}`;
  const created: string[] = [];
  const processes: NamespaceProcess[] = [];
  const clients = new Map<string, Promise<NamespaceClient>>();
  const add = async (name: string): Promise<string> => {
    const ns = nsOf(name);
    created.push(ns);
    await addNamespace(ns);
    return ns;
  };

  const teardown = async (): Promise<void> => {
    const problems: string[] = [];
    const settled = await Promise.allSettled(clients.values());
    await Promise.all(settled.map((c) => (c.status === "fulfilled" ? c.value.close() : undefined)));
    clients.clear();
    await Promise.all(processes.map((p) => p.stop(1000)));
    processes.length = 0;
    for (const ns of [...created].reverse()) {
      await deleteNamespace(ns).catch((err: unknown) => problems.push(`${ns}: ${String(err)}`));
    }
    created.length = 0;
    const left = (await listNamespaces()).filter((ns) => ns.startsWith(`${stem}-`));
    for (const ns of left) await deleteNamespace(ns).catch(() => undefined);
    if (left.length > 0) problems.push(`namespaces left behind: ${left.join(", ")}`);
    if (problems.length > 0) throw new Error(`Cannot tear down topology ${stem}:\n${problems.join("\n")}`);
  };

  try {
    const fabric = await add("fabric");
    await ip(["-n", fabric, "link", "add", "br0", "type", "bridge"]);
    await ip(["-n", fabric, "link", "set", "br0", "up"]);
    const attach = async (name: string, address: string, prefix: number): Promise<string> => {
      const ns = await add(name);
      const port = `f-${name}`.slice(0, 15);
      await ip(["-n", fabric, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns]);
      await ip(["-n", fabric, "link", "set", port, "master", "br0", "up"]);
      await ip(["-n", ns, "addr", "add", `${address}/${prefix}`, "dev", "eth0"]);
      await ip(["-n", ns, "link", "set", "eth0", "up"]);
      return ns;
    };

    const ext = spec.external;
    const gateway = spec.nodes.find((n) => n.name === ext.gatewayNode);
    if (gateway === undefined)
      throw new Error(`Cannot route the external client: no node ${JSON.stringify(ext.gatewayNode)}`);
    await settleAll(
      spec.nodes.map(async (node) => {
        const ns = await attach(node.name, node.ip, spec.fabricPrefixLength);
        // The gateway node reaches the outside world (the external client) on-link; the other
        // nodes go through it, so that traffic between the outside and any node takes the same
        // path both ways. Otherwise a reply from node2's pod to an unmasqueraded external client
        // would bypass node1's connection tracking, where the client's packet was DNATed.
        if (node === gateway) await ip(["-n", ns, "route", "add", "default", "dev", "eth0"]);
        else await ip(["-n", ns, "route", "add", "default", "via", gateway.ip]);
        // No ICMP redirects: the gateway forwards in and out of eth0 (client ↔ node2), and a
        // redirect would send the client straight to node2, making its flows one-sided again.
        await nsSysctl(ns, [
          "net.ipv4.ip_forward=1",
          "net.ipv4.conf.all.send_redirects=0",
          "net.ipv4.conf.eth0.send_redirects=0",
        ]);
        await ip(["-n", ns, "link", "add", "cbr0", "type", "bridge"]);
        await ip(["-n", ns, "addr", "add", `${node.podGateway}/${spec.podPrefixLength}`, "dev", "cbr0"]);
        await ip(["-n", ns, "link", "set", "cbr0", "up"]);
        for (const other of spec.nodes) {
          if (other !== node) await ip(["-n", ns, "route", "add", other.podCIDR, "via", other.ip]);
        }
      }),
    );

    // The external client sits on the fabric, outside the node subnet, and sends everything
    // through the gateway node: the other nodes' IPs, the pod CIDRs (routable from outside, as on
    // most bare-metal networks; only the harness's own tests use that), and `routedCIDRs`.
    const extNs = await attach(ext.name, ext.ip, spec.fabricPrefixLength);
    await nsSysctl(extNs, ["net.ipv4.conf.all.accept_redirects=0", "net.ipv4.conf.eth0.accept_redirects=0"]);
    await ip(["-n", extNs, "route", "add", `${gateway.ip}/32`, "dev", "eth0"]);
    const destinations = [
      ...spec.nodes.filter((n) => n !== gateway).map((n) => `${n.ip}/32`),
      ...spec.nodes.map((n) => n.podCIDR),
      ...ext.routedCIDRs,
    ];
    for (const cidr of destinations) await ip(["-n", extNs, "route", "add", cidr, "via", gateway.ip]);

    await settleAll(spec.pods.map((pod) => addPod(spec, pod, add, nsOf)));
    const backends = spec.pods.filter((p) => p.role === "backend");
    const started = await Promise.allSettled(
      backends.map((pod) =>
        startNamespaceProcess(
          nsOf(pod.name),
          [
            process.execPath,
            nameServerScript,
            pod.name,
            spec.backendPorts.tcp.join(","),
            spec.backendPorts.udp.join(","),
          ],
          { ready: /^ready$/ },
        ),
      ),
    );
    for (const s of started) if (s.status === "fulfilled") processes.push(s.value);
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  } catch (err) {
    await teardown().catch(() => undefined);
    throw err;
  }

  const namespaceOf = (name: string): string => {
    if (name !== "fabric" && !knownName(spec, name))
      throw new Error(
        `Cannot find ${JSON.stringify(name)} in the topology: expected a node, a pod, ${spec.external.name} or fabric`,
      );
    return nsOf(name);
  };
  return {
    spec,
    stem,
    namespaceOf,
    get namespaces() {
      return [...created];
    },
    client(name) {
      let client = clients.get(name);
      if (client === undefined) {
        client = startNamespaceClient(namespaceOf(name));
        clients.set(name, client);
      }
      return client;
    },
    close: teardown,
  };
}

function knownName(spec: TopologySpec, name: string): boolean {
  return (
    spec.external.name === name ||
    spec.nodes.some((n) => n.name === name) ||
    spec.pods.some((p) => p.name === name)
  );
}

async function addPod(
  spec: TopologySpec,
  pod: TopologyPod,
  add: (name: string) => Promise<string>,
  nsOf: (name: string) => string,
): Promise<void> {
  const node = spec.nodes.find((n) => n.name === pod.node);
  if (node === undefined)
    throw new Error(`Cannot place pod ${pod.name}: no node ${JSON.stringify(pod.node)}`);
  const nodeNs = nsOf(node.name);
  const ns = await add(pod.name);
  const port = `v-${pod.name}`.slice(0, 15);
  await ip(["-n", nodeNs, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns]);
  await ip(["-n", nodeNs, "link", "set", port, "master", "cbr0", "up"]);
  // Hairpin, as CNI bridge plugins set it: with bridge-nf-call-iptables on, a pod's packet to
  // its own Service is DNATed back out of the port it came in on, which a bridge drops otherwise.
  await ip(["-n", nodeNs, "link", "set", port, "type", "bridge_slave", "hairpin", "on"]);
  await ip(["-n", ns, "addr", "add", `${pod.ip}/${spec.podPrefixLength}`, "dev", "eth0"]);
  await ip(["-n", ns, "link", "set", "eth0", "up"]);
  await ip(["-n", ns, "route", "add", "default", "via", node.podGateway]);
}

/** Like Promise.all, but waits for every promise, so nothing is still creating while we clean up. */
async function settleAll(promises: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
}
