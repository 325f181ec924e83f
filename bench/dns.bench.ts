// Cluster DNS beside dnsmasq (issue 6, must-show 6): queries per second and latency (p50, p99)
// for cluster names, kproxy's DNS server (`kproxy dns`, its own process, fed by informers) against
// Debian's dnsmasq answering the same names from a hosts file, on the same machine, in one run.
// Each round measures both with the same closed-loop load generator (a Node process keeping a
// fixed number of UDP queries outstanding; this file, run with `--load`); rows are medians over
// the rounds. With dnsperf installed, a second pair of rows gives its throughput figure, which
// spends less CPU on the client side. On a 2-core machine the server and the client each get a
// core (taskset), the same for both servers.
// Knobs: KPROXY_BENCH_DNS_SERVICES (default 1000), KPROXY_BENCH_DNS_RUNS (5),
// KPROXY_BENCH_DNS_SECONDS (3), KPROXY_BENCH_DNS_CONCURRENCY (64).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import dnsPacket from "dns-packet";
import { askUdp } from "../src/dns/testing/ask-udp.ts";
import { clusterIPService, endpointSlice, headlessService } from "../src/dns/testing/dns-fixtures.ts";
import { startDnsmasq } from "../src/dns/testing/dnsmasq.ts";
import { startInMemoryKubeApi } from "../src/dns/testing/in-memory-kube-api.ts";
import { hasCommand } from "../test/support/requirements.ts";
import { median, report, type BenchRow } from "./lib/report.ts";

const here = dirname(fileURLToPath(import.meta.url));
const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);

interface LoadResult {
  readonly qps: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly lost: number;
  readonly failed: number;
}

/**
 * The load generator (`node bench/dns.bench.ts --load PORT SECONDS CONCURRENCY NAMESFILE`): keeps
 * CONCURRENCY queries outstanding over four sockets for SECONDS after a short warm-up, and prints
 * one JSON line with the answered rate and latency percentiles. Queries are prebuilt; replies are
 * read only for their ID and rcode, so that the client stays cheap.
 */
async function runLoad(port: number, seconds: number, concurrency: number, namesFile: string): Promise<void> {
  const names = readFileSync(namesFile, "utf8")
    .split("\n")
    .filter((n) => n !== "");
  const queries = names.map((name) =>
    dnsPacket.encode({
      type: "query",
      id: 0,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ name, type: "A" }],
    }),
  );
  const socketsCount = 4;
  const latencies: number[] = [];
  let measuring = false;
  let stopped = false;
  let answered = 0;
  let lost = 0;
  let failed = 0;
  let next = 0;
  const sockets: Socket[] = [];
  const outstanding: Array<Map<number, bigint>> = [];
  const send = (s: number): void => {
    if (stopped) return;
    const socket = sockets[s];
    const pending = outstanding[s];
    if (socket === undefined || pending === undefined) return;
    let id = Math.floor(Math.random() * 0x10000);
    while (pending.has(id)) id = (id + 1) & 0xffff;
    const q = queries[next++ % queries.length] ?? Buffer.alloc(0);
    q.writeUInt16BE(id, 0);
    pending.set(id, process.hrtime.bigint());
    socket.send(q, port, "127.0.0.1");
  };
  for (let s = 0; s < socketsCount; s++) {
    const socket = createSocket({ type: "udp4", recvBufferSize: 1 << 22, sendBufferSize: 1 << 22 });
    const pending = new Map<number, bigint>();
    sockets.push(socket);
    outstanding.push(pending);
    socket.on("message", (msg) => {
      const sent = pending.get(msg.readUInt16BE(0));
      if (sent === undefined) return;
      pending.delete(msg.readUInt16BE(0));
      if (measuring) {
        answered++;
        latencies.push(Number(process.hrtime.bigint() - sent) / 1000);
        if ((msg.readUInt16BE(2) & 0xf) !== 0) failed++;
      }
      send(s);
    });
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  }
  // A query unanswered for a second is counted lost and replaced, so the load never stalls.
  const sweeper = setInterval(() => {
    const now = process.hrtime.bigint();
    outstanding.forEach((pending, s) => {
      for (const [id, sent] of pending) {
        if (now - sent > 1_000_000_000n) {
          pending.delete(id);
          if (measuring) lost++;
          send(s);
        }
      }
    });
  }, 100);
  for (let i = 0; i < concurrency; i++) send(i % socketsCount);
  await new Promise((resolve) => setTimeout(resolve, 500));
  measuring = true;
  const start = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  measuring = false;
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  stopped = true;
  clearInterval(sweeper);
  for (const socket of sockets) socket.close();
  latencies.sort((a, b) => a - b);
  const at = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? Number.NaN;
  const result: LoadResult = { qps: answered / elapsed, p50Us: at(50), p99Us: at(99), lost, failed };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Runs `command` pinned to `cpu` when taskset exists (and there are two or more cores). */
function pinned(cpu: number, command: string, args: readonly string[]): [string, string[]] {
  return hasCommand("taskset") ? ["taskset", ["-c", String(cpu), command, ...args]] : [command, [...args]];
}

function load(port: number, seconds: number, concurrency: number, namesFile: string): Promise<LoadResult> {
  const [cmd, args] = pinned(1, process.execPath, [
    fileURLToPath(import.meta.url),
    "--load",
    String(port),
    String(seconds),
    String(concurrency),
    namesFile,
  ]);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`load generator exited ${code}`));
      else resolve(JSON.parse(out.trim()) as LoadResult);
    });
  });
}

function dnsperfQps(port: number, seconds: number, namesFile: string): number {
  const data = readFileSync(namesFile, "utf8")
    .split("\n")
    .filter((n) => n !== "")
    .map((n) => `${n} A`)
    .join("\n");
  const dataFile = `${namesFile}.dnsperf`;
  writeFileSync(dataFile, `${data}\n`);
  const [cmd, args] = pinned(1, "dnsperf", [
    "-s",
    "127.0.0.1",
    "-p",
    String(port),
    "-d",
    dataFile,
    "-l",
    String(seconds),
    "-c",
    "4",
    "-q",
    "200",
  ]);
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return Number(/Queries per second:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? Number.NaN);
}

async function waitForAnswer(port: number, name: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await askUdp("127.0.0.1", port, name, "A", 200)).rcode === "NOERROR") return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Cannot benchmark: nothing answers ${name} on port ${port}`);
}

async function freePort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function main(): Promise<void> {
  const services = env("KPROXY_BENCH_DNS_SERVICES", 1000);
  const runs = env("KPROXY_BENCH_DNS_RUNS", 5);
  const seconds = env("KPROXY_BENCH_DNS_SECONDS", 3);
  const concurrency = env("KPROXY_BENCH_DNS_CONCURRENCY", 64);
  if (!hasCommand("dnsmasq"))
    throw new Error("Cannot benchmark DNS: dnsmasq (Debian dnsmasq-base) is not installed");

  // The same names for both servers: ClusterIP Services, and every tenth one headless with three endpoints.
  const api = await startInMemoryKubeApi();
  const hosts: string[] = [];
  const names: string[] = [];
  for (let i = 0; i < services; i++) {
    const name = `svc-${i}`;
    const fqdn = `${name}.default.svc.cluster.local`;
    names.push(fqdn);
    if (i % 10 === 9) {
      const ips = [1, 2, 3].map((k) => `10.${100 + k}.${i >> 8}.${i & 255}`);
      api.apply(
        "services",
        headlessService("default", name, [{ name: "http", port: 80 }]) as unknown as Record<string, unknown>,
      );
      api.apply(
        "endpointslices",
        endpointSlice(
          "default",
          name,
          `${name}-1`,
          ips.map((ip) => ({ ip })),
          [{ name: "http", port: 80 }],
        ) as unknown as Record<string, unknown>,
      );
      for (const ip of ips) hosts.push(`${ip} ${fqdn}`);
    } else {
      const ip = `10.96.${i >> 8}.${i & 255}`;
      api.apply(
        "services",
        clusterIPService("default", name, [ip], [{ name: "http", port: 80 }]) as unknown as Record<
          string,
          unknown
        >,
      );
      hosts.push(`${ip} ${fqdn}`);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "kp-dnsbench-"));
  const namesFile = join(dir, "names");
  writeFileSync(namesFile, `${names.join("\n")}\n`);
  const last = names[names.length - 1] ?? "";

  const kproxyPort = await freePort();
  const [cmd, args] = pinned(0, process.execPath, [
    join(here, "../src/main.ts"),
    "dns",
    "--master",
    api.url,
    "--bind-address",
    `127.0.0.1:${kproxyPort}`,
    "--upstream",
    "127.0.0.1:9",
  ]);
  const kproxy: ChildProcess = spawn(cmd, args, {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, KPROXY_LOG_LEVEL: "warn" },
  });
  const dnsmasq = await startDnsmasq({
    hosts: `${hosts.join("\n")}\n`,
    probeName: last,
    localDomains: ["cluster.local"],
  });
  // The server's core, as for kproxy (dnsmasq answers hosts-file names from its cache).
  if (hasCommand("taskset")) spawnSync("taskset", ["-p", "-c", "0", String(dnsmasq.pid)]);
  try {
    await waitForAnswer(kproxyPort, last);
    const mine: LoadResult[] = [];
    const theirs: LoadResult[] = [];
    const perfMine: number[] = [];
    const perfTheirs: number[] = [];
    const withDnsperf = hasCommand("dnsperf");
    for (let r = 0; r < runs; r++) {
      // Alternate who goes first, so that a slow spell of a busy machine hits both alike.
      const order = r % 2 === 0 ? ["kproxy", "dnsmasq"] : ["dnsmasq", "kproxy"];
      for (const who of order) {
        if (who === "kproxy") mine.push(await load(kproxyPort, seconds, concurrency, namesFile));
        else theirs.push(await load(dnsmasq.port, seconds, concurrency, namesFile));
      }
      if (withDnsperf) {
        for (const who of order) {
          if (who === "kproxy") perfMine.push(dnsperfQps(kproxyPort, seconds, namesFile));
          else perfTheirs.push(dnsperfQps(dnsmasq.port, seconds, namesFile));
        }
      }
      process.stderr.write(
        `round ${r + 1}/${runs}: kproxy ${Math.round(mine[r]?.qps ?? 0)} q/s, dnsmasq ${Math.round(theirs[r]?.qps ?? 0)} q/s\n`,
      );
    }
    const row = (
      name: string,
      unit: string,
      better: "higher" | "lower",
      pick: (l: LoadResult) => number,
    ): BenchRow => {
      const value = median(mine.map(pick));
      const reference = median(theirs.map(pick));
      return {
        name,
        unit,
        value,
        reference,
        referenceName: "dnsmasq",
        ratio: value / reference,
        better,
        samples: mine.map(pick),
        referenceSamples: theirs.map(pick),
      };
    };
    const rows: BenchRow[] = [
      row(`cluster names, ${concurrency} outstanding: answered queries`, "queries/s", "higher", (l) => l.qps),
      row("latency p50", "µs", "lower", (l) => l.p50Us),
      row("latency p99", "µs", "lower", (l) => l.p99Us),
    ];
    if (withDnsperf) {
      const value = median(perfMine);
      const reference = median(perfTheirs);
      rows.push({
        name: "dnsperf throughput (4 clients, 200 outstanding)",
        unit: "queries/s",
        value,
        reference,
        referenceName: "dnsmasq",
        ratio: value / reference,
        better: "higher",
        samples: perfMine,
        referenceSamples: perfTheirs,
      });
    }
    const lost = mine.reduce((n, l) => n + l.lost, 0);
    const failed = [...mine, ...theirs].reduce((n, l) => n + l.failed, 0);
    report("dns", rows, {
      services,
      names: names.length,
      runs,
      seconds,
      concurrency,
      lostQueries: lost,
      nonNoerror: failed,
      pinned: hasCommand("taskset"),
    });
  } finally {
    kproxy.kill("SIGTERM");
    await dnsmasq.close();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--load") {
  const [port, seconds, concurrency, namesFile] = process.argv.slice(3);
  await runLoad(Number(port), Number(seconds), Number(concurrency), namesFile ?? "");
} else {
  await main();
}
