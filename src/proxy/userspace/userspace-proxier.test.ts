import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect, createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Proxier } from "../proxier.ts";
import {
  adjustableClock,
  endpointSlices,
  fetchName,
  service,
  startTcpBackend,
  startUdpBackend,
  syncRequest,
  testDeps,
  testNode,
  udpRequest,
  type TcpBackend,
} from "./testing/fixtures.ts";
import { createUserspaceProxierWith } from "./userspace-proxier.ts";

// This file's addresses: 127.71.0.0/16 (backends 127.71.1.x, services 127.71.2.x, clients 127.71.3.x).
const svcIP = (n: number): string => `127.71.2.${n}`;
const clientIP = (n: number): string => `127.71.3.${n}`;
const port = 20000 + Math.floor(Math.random() * 20000);

async function counts(
  ip: string,
  p: number,
  n: number,
  localAddress?: string,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const name = await fetchName(ip, p, localAddress);
    out[name] = (out[name] ?? 0) + 1;
  }
  return out;
}

/** Collects everything a connection receives until the peer's FIN; rejects on error or reset. */
function readToEnd(host: string, p: number, send?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port: p });
    const chunks: Buffer[] = [];
    s.on("data", (d: Buffer) => chunks.push(d));
    s.on("end", () => {
      s.destroy();
      resolve(Buffer.concat(chunks));
    });
    s.on("error", reject);
    if (send !== undefined) s.end(send);
  });
}

// Every test runs against the default TCP relay (relay threads with their own epoll loop) and
// against the main-thread relay on Node's handles, its fallback.
for (const [tcpRelay, relayEngine] of [
  ["threads", "auto"],
  ["threads", "epoll"],
  ["raw", "auto"],
] as const)
  describe(`userspace proxier: TCP and UDP relays on loopback (${tcpRelay} TCP relay, ${relayEngine})`, () => {
    const backends: TcpBackend[] = [];
    const proxiers: Proxier[] = [];
    const closers: (() => Promise<void>)[] = [];

    before(async () => {
      for (const [i, name] of ["web1", "web2", "web3"].entries())
        backends.push(await startTcpBackend(name, `127.71.1.${i + 1}`));
    });
    after(async () => {
      for (const p of proxiers) await p.close();
      for (const b of backends) await b.close();
      for (const c of closers) await c();
    });

    const eps = (): { ip: string; port: number }[] => backends.map((b) => ({ ip: b.ip, port: b.port }));

    async function proxier(
      deps = testDeps(),
      tuning = {},
    ): Promise<{ proxier: Proxier; deps: ReturnType<typeof testDeps> }> {
      const p = await createUserspaceProxierWith(deps, { portals: false, tuning, tcpRelay, relayEngine });
      proxiers.push(p);
      return { proxier: p, deps };
    }

    it("round robin gives each of three endpoints exactly a third of the TCP connections", async () => {
      const { proxier: p } = await proxier();
      await p.sync(
        syncRequest([service({ name: "web", clusterIP: svcIP(1), port }), ...endpointSlices("web", eps())]),
      );
      assert.deepEqual(await counts(svcIP(1), port, 90), { web1: 30, web2: 30, web3: 30 });
    });

    it("relays a large transfer intact both ways, with backpressure", async () => {
      const { proxier: p } = await proxier();
      await p.sync(
        syncRequest([
          service({ name: "bulk", clusterIP: svcIP(11), port }),
          ...endpointSlices("bulk", eps()),
        ]),
      );
      const payload = randomBytes(8 * 1024 * 1024);
      const received = await new Promise<Buffer>((resolve, reject) => {
        const s = connect({ host: svcIP(11), port });
        const chunks: Buffer[] = [];
        let total = 0;
        s.on("data", (d: Buffer) => {
          chunks.push(d);
          total += d.length;
          // Read slowly now and then, so that the relay has to hold back the sender.
          if (chunks.length % 50 === 0) {
            s.pause();
            setTimeout(() => s.resume(), 5);
          }
          if (total >= payload.length + 5) {
            s.destroy();
            resolve(Buffer.concat(chunks));
          }
        });
        s.on("error", reject);
        s.end(payload);
      });
      assert.match(received.subarray(0, 5).toString(), /^web\d\n$/);
      assert.ok(received.subarray(5).equals(payload), "echoed bytes differ");
    });

    it("passes on a FIN that arrives right behind the data, in both directions", async () => {
      // An endpoint that sends a payload and closes at once: data and FIN often arrive together.
      const payload = randomBytes(3 * 1024 * 1024 + 17);
      const sender = createServer((socket) => {
        socket.on("error", () => {});
        socket.end(payload);
      });
      await new Promise<void>((resolve) => sender.listen(0, "127.71.1.41", resolve));
      closers.push(() => new Promise((resolve) => sender.close(() => resolve())));
      const senderPort = (sender.address() as { port: number }).port;
      const { proxier: p } = await proxier();
      await p.sync(
        syncRequest([
          service({ name: "fin", clusterIP: svcIP(13), port }),
          ...endpointSlices("fin", [{ ip: "127.71.1.41", port: senderPort }]),
          service({ name: "echo", clusterIP: svcIP(14), port }),
          ...endpointSlices("echo", eps()),
        ]),
      );
      for (let i = 0; i < 5; i++) assert.ok((await readToEnd(svcIP(13), port)).equals(payload));
      // The client's FIN right behind its request: the echoing endpoint answers and closes in turn.
      for (let i = 0; i < 10; i++) {
        const answer = (await readToEnd(svcIP(14), port, Buffer.from(`ping ${i}`))).toString();
        assert.match(answer, new RegExp(`^web\\d\\nping ${i}$`));
      }
    });

    // Only the relay threads have threads: the main-thread relay has no such case to run.
    if (tcpRelay === "threads")
      it("several relay threads: each service port is balanced on one of them, exactly", async () => {
        const p = await createUserspaceProxierWith(testDeps(), {
          portals: false,
          tcpRelay,
          relayEngine,
          relayThreads: 3,
        });
        proxiers.push(p);
        const names = ["t1", "t2", "t3", "t4"];
        await p.sync(
          syncRequest(
            names.flatMap((name, i) => [
              service({ name, clusterIP: svcIP(20 + i), port, affinitySeconds: i === 3 ? 60 : 0 }),
              ...endpointSlices(name, eps()),
            ]),
          ),
        );
        for (const i of [0, 1, 2])
          assert.deepEqual(await counts(svcIP(20 + i), port, 9), { web1: 3, web2: 3, web3: 3 });
        assert.equal(Object.keys(await counts(svcIP(23), port, 6, clientIP(7))).length, 1, "affinity holds");
      });

    it("IPv6: TCP and UDP relays on ::1", async () => {
      const v6 = await Promise.all(["six1", "six2"].map((n) => startTcpBackend(n, "::1")));
      const udp6 = await startUdpBackend("six-udp", "::1");
      closers.push(async () => {
        for (const b of v6) await b.close();
        await udp6.close();
      });
      const { proxier: p } = await proxier();
      const v6Port = port + 2;
      await p.sync(
        syncRequest(
          [
            service({ name: "six", clusterIP: "::1", port: v6Port }),
            ...endpointSlices(
              "six",
              v6.map((b) => ({ ip: b.ip, port: b.port })),
            ),
            service({ name: "six-udp", clusterIP: "::1", port: v6Port, protocol: "UDP" }),
            ...endpointSlices("six-udp", [{ ip: "::1", port: udp6.port }], "UDP"),
          ],
          { family: "IPv6", node: { ...testNode, localAddresses: ["127.0.0.1/8", "::1/128"] } },
        ),
      );
      assert.deepEqual(await counts("::1", v6Port, 4), { six1: 2, six2: 2 });
      assert.equal(await udpRequest("::1", v6Port, "q"), "six-udp:q");
    });

    it("UDP datagrams reach every endpoint and the answers come back from the service address", async () => {
      const udp = await Promise.all(
        ["dns1", "dns2", "dns3"].map((n, i) => startUdpBackend(n, `127.71.1.${i + 11}`)),
      );
      closers.push(async () => void (await Promise.all(udp.map((u) => u.close()))));
      const { proxier: p } = await proxier();
      await p.sync(
        syncRequest([
          service({ name: "dns", clusterIP: svcIP(2), port, protocol: "UDP" }),
          ...endpointSlices(
            "dns",
            udp.map((u) => ({ ip: u.ip, port: u.port })),
            "UDP",
          ),
        ]),
      );
      const seen = new Map<string, number>();
      for (let i = 0; i < 30; i++) {
        const answer = await udpRequest(svcIP(2), port, `q${i}`);
        assert.match(answer, new RegExp(`^dns\\d:q${i}$`));
        const who = answer.split(":")[0] ?? "";
        seen.set(who, (seen.get(who) ?? 0) + 1);
      }
      assert.deepEqual(Object.fromEntries([...seen].sort()), { dns1: 10, dns2: 10, dns3: 10 });
    });

    it("a UDP session ends after its idle timeout", async () => {
      const udp = await startUdpBackend("idle", "127.71.1.31");
      closers.push(() => udp.close());
      const deps = testDeps({
        config: { userspace: { ...testDeps().config.userspace, udpIdleTimeoutMs: 300 } },
      });
      const { proxier: p } = await proxier(deps);
      await p.sync(
        syncRequest([
          service({ name: "idle", clusterIP: svcIP(12), port, protocol: "UDP" }),
          ...endpointSlices("idle", [{ ip: udp.ip, port: udp.port }], "UDP"),
        ]),
      );
      const sessions = async (): Promise<string> =>
        (await deps.registry.getSingleMetricAsString("kproxy_userspace_udp_sessions")).split("\n").at(-1) ??
        "";
      assert.equal(await udpRequest(svcIP(12), port, "hi"), "idle:hi");
      assert.match(await sessions(), / 1$/);
      const start = Date.now();
      while (/ 1$/.test(await sessions()) && Date.now() - start < 5000) await sleep(50);
      assert.match(await sessions(), / 0$/);
      assert.ok(Date.now() - start >= 200, "the session lived about its idle timeout");
    });

    // The relay threads keep their own time, so this test waits out a short timeout for real.
    it("ClientIP affinity keeps a client on one endpoint until the timeout, measured from last use", async () => {
      const clock = adjustableClock();
      const real = tcpRelay === "threads";
      const { proxier: p } = await proxier(real ? testDeps() : testDeps({ clock }));
      const advance = async (ms: number): Promise<void> =>
        real ? void (await sleep(ms)) : clock.advance(ms * 50);
      // Timeout: 2 s with real time, 100 s with the adjustable clock (50 times each step).
      await p.sync(
        syncRequest([
          service({ name: "sticky", clusterIP: svcIP(3), port, affinitySeconds: real ? 2 : 100 }),
          ...endpointSlices("sticky", eps()),
        ]),
      );
      const first = await counts(svcIP(3), port, 10, clientIP(1));
      assert.equal(Object.keys(first).length, 1, `one client saw ${JSON.stringify(first)}`);
      const other = await counts(svcIP(3), port, 10, clientIP(2));
      assert.equal(Object.keys(other).length, 1);
      assert.notDeepEqual(Object.keys(other), Object.keys(first), "a second client is balanced elsewhere");
      const pinned = Object.keys(first)[0] ?? "";
      await advance(1200);
      assert.deepEqual(await counts(svcIP(3), port, 1, clientIP(1)), { [pinned]: 1 });
      await advance(1200); // more than the timeout since the first request, not since the last: still pinned
      assert.deepEqual(await counts(svcIP(3), port, 1, clientIP(1)), { [pinned]: 1 });
      await advance(2300);
      const afterTimeout = await counts(svcIP(3), port, 1, clientIP(1));
      assert.notDeepEqual(
        Object.keys(afterTimeout),
        [pinned],
        "after the timeout the scheduler chooses again",
      );
    });

    it("an endpoint that refuses costs the client nothing, is ejected, and rejoins", async () => {
      const dead = await startTcpBackend("dead", "127.71.1.21");
      const deadPort = dead.port;
      await dead.close(); // nothing listens there any more: connections are refused
      // Long connect timeouts: on a busy machine a healthy endpoint must not time out and count as failing.
      const { proxier: p, deps } = await proxier(testDeps(), {
        baseEjectionMs: 400,
        ejectAfterFailures: 3,
        connectTimeoutsMs: [5000, 5000, 5000, 5000],
      });
      await p.sync(
        syncRequest([
          service({ name: "flaky", clusterIP: svcIP(4), port }),
          ...endpointSlices("flaky", [...eps(), { ip: "127.71.1.21", port: deadPort }]),
        ]),
      );
      const seen = await counts(svcIP(4), port, 40);
      assert.equal(
        Object.values(seen).reduce((a, b) => a + b, 0),
        40,
      );
      assert.equal(seen["dead"], undefined);
      const ejected = async (): Promise<string> =>
        (await deps.registry.getSingleMetricAsString("kproxy_userspace_endpoint_ejected"))
          .split("\n")
          .find((l) => l.includes("127.71.1.21")) ?? "";
      assert.match(await ejected(), / 1$/);
      const text = await deps.registry.getSingleMetricAsString("kproxy_userspace_endpoint_ejections_total");
      assert.match(text, /endpoint="127\.71\.1\.21:\d+"} 1/);
      // Only the first three connections that chose it failed over; then it was out of rotation.
      const failures = await deps.registry.getSingleMetricAsString(
        "kproxy_userspace_endpoint_connect_failures_total",
      );
      assert.match(failures, /endpoint="127\.71\.1\.21:\d+"} 3/);
      // Readmitted once the interval (400 ms) is over; polled, so that a busy machine cannot fail it.
      const ejectedAt = Date.now();
      while (/ 1$/.test(await ejected()) && Date.now() - ejectedAt < 5000) await sleep(50);
      assert.match(await ejected(), / 0$/, "readmitted after the ejection interval");
      // Readmitted and still dead: it fails again, and all clients still succeed.
      assert.equal(
        Object.values(await counts(svcIP(4), port, 20)).reduce((a, b) => a + b, 0),
        20,
      );
    });

    it("new connections follow endpoint changes at once; an open connection to a removed endpoint keeps working", async () => {
      const { proxier: p } = await proxier();
      const objects = (list: TcpBackend[]): ReturnType<typeof service>[] => [
        service({ name: "scale", clusterIP: svcIP(5), port }),
        ...endpointSlices(
          "scale",
          list.map((b) => ({ ip: b.ip, port: b.port })),
        ),
      ];
      await p.sync(syncRequest(objects(backends.slice(0, 1))));
      // A long-lived connection to web1.
      const long = connect({ host: svcIP(5), port });
      long.setEncoding("utf8");
      const lines: string[] = [];
      long.on("data", (d: string) => lines.push(d));
      await sleep(100);
      assert.equal(lines.join(""), "web1\n");
      await p.sync(syncRequest(objects(backends.slice(1)), { full: false, changed: ["default/scale"] }));
      assert.deepEqual(await counts(svcIP(5), port, 4), { web2: 2, web3: 2 });
      long.write("still here\n");
      await sleep(100);
      assert.equal(lines.join(""), "web1\nstill here\n");
      long.destroy();
    });

    it("no endpoints: TCP connections are reset at once and UDP datagrams are dropped and counted", async () => {
      const { proxier: p, deps } = await proxier();
      await p.sync(
        syncRequest([
          service({ name: "empty", clusterIP: svcIP(6), port }),
          service({ name: "empty-udp", clusterIP: svcIP(6), port, protocol: "UDP" }),
        ]),
      );
      const started = Date.now();
      await assert.rejects(
        fetchName(svcIP(6), port),
        (err: NodeJS.ErrnoException) => err.code === "ECONNRESET",
      );
      assert.ok(Date.now() - started < 1000);
      await assert.rejects(udpRequest(svcIP(6), port, "x", 300), /no UDP answer/);
      const dropped = await deps.registry.getSingleMetricAsString("kproxy_userspace_dropped_total");
      assert.match(dropped, /protocol="TCP",reason="no_endpoints"} 1/);
      assert.match(dropped, /protocol="UDP",reason="no_endpoints"} 1/);
    });

    it("a deleted Service stops accepting while its open connection drains", async () => {
      const { proxier: p } = await proxier();
      await p.sync(
        syncRequest([service({ name: "gone", clusterIP: svcIP(7), port }), ...endpointSlices("gone", eps())]),
      );
      const open = connect({ host: svcIP(7), port });
      open.setEncoding("utf8");
      const lines: string[] = [];
      open.on("data", (d: string) => lines.push(d));
      await sleep(100);
      await p.sync(syncRequest([], { full: false, changed: ["default/gone"] }));
      await assert.rejects(
        fetchName(svcIP(7), port),
        (err: NodeJS.ErrnoException) => err.code === "ECONNREFUSED",
      );
      open.write("bye\n");
      await sleep(100);
      assert.match(lines.join(""), /^web\d\nbye\n$/);
      open.destroy();
    });

    it("NodePort, external IP and load-balancer IP with source ranges", async () => {
      const nodePort = port + 1;
      const deps = testDeps({ config: { nodePortAddresses: ["127.71.9.0/24"] } });
      const { proxier: p } = await proxier(deps);
      await p.sync(
        syncRequest(
          [
            service({
              name: "lb",
              clusterIP: svcIP(8),
              port,
              type: "LoadBalancer",
              nodePort,
              externalIPs: [svcIP(9)],
              loadBalancerIP: svcIP(10),
              loadBalancerSourceRanges: ["127.71.3.0/28"],
            }),
            ...endpointSlices("lb", eps()),
          ],
          {
            node: {
              name: "node-a",
              labels: {},
              nodeIPs: ["127.71.9.1"],
              podCIDRs: [],
              localAddresses: ["127.0.0.1/8", "127.71.9.1/32"],
              deleting: false,
            },
          },
        ),
      );
      assert.match(await fetchName("127.71.9.1", nodePort), /^web\d$/);
      await assert.rejects(fetchName("127.0.0.1", nodePort), "nodePortAddresses leaves 127.0.0.1 out");
      assert.match(await fetchName(svcIP(9), port), /^web\d$/);
      assert.match(await fetchName(svcIP(10), port, clientIP(5)), /^web\d$/, "inside the source range");
      await assert.rejects(
        fetchName(svcIP(10), port, clientIP(20)),
        (err: NodeJS.ErrnoException) => err.code === "ECONNRESET",
      );
      assert.match(
        await fetchName(svcIP(8), port, clientIP(20)),
        /^web\d$/,
        "source ranges apply to the LB IP only",
      );
    });
  });
