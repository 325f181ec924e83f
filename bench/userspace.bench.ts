// Userspace relay vs a direct connection vs HAProxy (TCP mode, one thread) in front of the same
// backend: throughput of a large transfer, new-connection requests/s, keep-alive requests/s and
// small-request latency. Each figure is the median of several runs and a ratio to HAProxy,
// measured in the same run. Run: `npm run bench -- userspace`.
//
// The file plays every role in its own process (`--role backend|client|relay`), so that the
// relay, the backend and the load generator do not share an event loop. Clients bind many
// 127.0.x.y source addresses and close with RST, so that TIME_WAIT does not distort the figures.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, percentile, report, type BenchRow } from "./lib/report.ts";

const self = fileURLToPath(import.meta.url);
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i] ?? "", process.argv[i + 1] ?? "");
const requestSize = 64;
const responseSize = 64;
const bulkBytes = 512 * 1024 * 1024;

// ---------------------------------------------------------------- roles
async function backendRole(): Promise<void> {
  const host = args.get("--host") ?? "127.0.0.1";
  const chunk = Buffer.alloc(1 << 20, 120);
  const response = Buffer.alloc(responseSize, 114);
  // Port A: answers every request of requestSize bytes with responseSize bytes.
  const rr = createServer({ noDelay: true }, (socket) => {
    socket.on("error", () => {});
    let pending = 0;
    socket.on("data", (data: Buffer) => {
      pending += data.length;
      while (pending >= requestSize) {
        pending -= requestSize;
        socket.write(response);
      }
    });
  });
  // Port B: sends bulkBytes as fast as it can, then closes.
  const bulk = createServer((socket) => {
    socket.on("error", () => {});
    let left = bulkBytes;
    const pump = (): void => {
      while (left > 0) {
        left -= chunk.length;
        if (!socket.write(chunk)) return void socket.once("drain", pump);
      }
      socket.end();
    };
    pump();
  });
  await new Promise<void>((r) => rr.listen({ host, port: 0, backlog: 4096 }, r));
  await new Promise<void>((r) => bulk.listen({ host, port: 0, backlog: 4096 }, r));
  const port = (s: typeof rr): number => (s.address() as { port: number }).port;
  process.stdout.write(`${JSON.stringify({ rrPort: port(rr), bulkPort: port(bulk) })}\n`);
}

async function relayRole(): Promise<void> {
  const { createUserspaceProxierWith } = await import("../src/proxy/userspace/userspace-proxier.ts");
  const { endpointSlices, service, syncRequest, testDeps } =
    await import("../src/proxy/userspace/testing/fixtures.ts");
  const backendHost = args.get("--backend-host") ?? "";
  const ports = [Number(args.get("--rr-port")), Number(args.get("--bulk-port"))];
  const vip = args.get("--vip") ?? "";
  const deps = testDeps({
    config: {
      userspace: { udpIdleTimeoutMs: 30_000, scheduler: "rr", syncPeriodMs: 30_000, minSyncPeriodMs: 1000 },
    },
  });
  const wanted = args.get("--tcp-relay") ?? "threads";
  const tcpRelay = wanted === "streams" || wanted === "raw" ? wanted : "threads";
  const proxier = await createUserspaceProxierWith(deps, {
    portals: false,
    tcpRelay,
    relayThreads: Number(args.get("--relay-threads") ?? "1"),
    relayEngine: args.get("--relay-engine") === "epoll" ? "epoll" : "auto",
  });
  const objects = ports.flatMap((p, i) => [
    service({ name: `s${i}`, clusterIP: vip, port: 10000 + i }),
    ...endpointSlices(`s${i}`, [{ ip: backendHost, port: p }]),
  ]);
  await proxier.sync(syncRequest(objects));
  // Exit through process.exit so that `--cpu-prof` can write its profile.
  process.on("SIGINT", () => process.exit(0));
  process.stdout.write(`${JSON.stringify({ rrPort: 10000, bulkPort: 10001 })}\n`);
}

function clientAddress(i: number): string {
  return `127.200.${(i >> 8) & 255}.${i & 255 || 1}`;
}

async function clientRole(): Promise<void> {
  const mode = args.get("--mode");
  const host = args.get("--host") ?? "";
  const port = Number(args.get("--port"));
  const seconds = Number(args.get("--seconds") ?? "3");
  const concurrency = Number(args.get("--concurrency") ?? "32");
  const request = Buffer.alloc(requestSize, 113);
  const deadline = performance.now() + seconds * 1000;
  let result: Record<string, number> = {};
  if (mode === "bulk") {
    const start = performance.now();
    const bytes = await new Promise<number>((resolve, reject) => {
      const s = connect({ host, port });
      let n = 0;
      s.on("data", (d: Buffer) => (n += d.length));
      s.on("end", () => resolve(n));
      s.on("error", reject);
    });
    result = { gbits: (bytes * 8) / ((performance.now() - start) / 1000) / 1e9 };
  } else if (mode === "connect") {
    let done = 0;
    let errors = 0;
    let next = 0;
    const one = (): Promise<void> =>
      new Promise((resolve) => {
        const s: Socket = connect({ host, port, localAddress: clientAddress(next++ % 4000), noDelay: true });
        s.on("connect", () => s.write(request));
        let got = 0;
        s.on("data", (d: Buffer) => {
          got += d.length;
          if (got >= responseSize) {
            done++;
            s.resetAndDestroy();
            resolve();
          }
        });
        s.on("error", () => {
          errors++;
          resolve();
        });
      });
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) await one();
      }),
    );
    result = { rps: done / ((performance.now() - start) / 1000), errors };
  } else if (mode === "keepalive" || mode === "latency") {
    const conns = mode === "latency" ? 1 : concurrency;
    const samples: number[] = [];
    let done = 0;
    const start = performance.now();
    await Promise.all(
      Array.from(
        { length: conns },
        (_, i) =>
          new Promise<void>((resolve, reject) => {
            const s = connect({ host, port, localAddress: clientAddress(i + 1), noDelay: true });
            let got = 0;
            let sent = 0;
            const send = (): void => {
              sent = performance.now();
              s.write(request);
            };
            s.on("connect", send);
            s.on("data", (d: Buffer) => {
              got += d.length;
              while (got >= responseSize) {
                got -= responseSize;
                done++;
                if (mode === "latency") samples.push((performance.now() - sent) * 1000);
                if (performance.now() < deadline) send();
                else {
                  s.resetAndDestroy();
                  resolve();
                }
              }
            });
            s.on("error", reject);
          }),
      ),
    );
    result =
      mode === "latency"
        ? { p50: percentile(samples, 50), p99: percentile(samples, 99) }
        : { rps: done / ((performance.now() - start) / 1000) };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// ---------------------------------------------------------------- orchestration
interface Started {
  child: ChildProcess;
  info: Record<string, number>;
}

function startRole(role: string, extra: string[]): Promise<Started> {
  const child = spawn(process.execPath, [self, "--role", role, ...extra], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve({ child, info: JSON.parse(out.slice(0, nl)) as Record<string, number> });
    });
    child.once("exit", (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}

function runClient(extra: string[]): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [self, "--role", "client", ...extra], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) =>
      code === 0
        ? resolve(JSON.parse(out) as Record<string, number>)
        : reject(new Error(`client exited ${code}`)),
    );
  });
}

async function startHaproxy(
  dir: string,
  backendHost: string,
  rrPort: number,
  bulkPort: number,
): Promise<ChildProcess> {
  const cfg = join(dir, "haproxy.cfg");
  writeFileSync(
    cfg,
    [
      "global",
      "  nbthread 1",
      "  maxconn 8000",
      "defaults",
      "  mode tcp",
      "  timeout connect 5s",
      "  timeout client 60s",
      "  timeout server 60s",
      "frontend rr",
      "  bind 127.201.0.2:10000",
      "  default_backend rr",
      "frontend bulk",
      "  bind 127.201.0.2:10001",
      "  default_backend bulk",
      "backend rr",
      `  server b1 ${backendHost}:${rrPort}`,
      "backend bulk",
      `  server b1 ${backendHost}:${bulkPort}`,
      "",
    ].join("\n"),
  );
  const child = spawn("haproxy", ["-db", "-f", cfg], { stdio: ["ignore", "ignore", "inherit"] });
  // Wait until it accepts.
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: "127.201.0.2", port: 10000 }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new Error("haproxy did not start");
}

/** CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 10 ms). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the command name: state is field 3, utime field 14 and stime field 15 (1-based).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function orchestrate(): Promise<void> {
  if (spawnSync("haproxy", ["-v"]).status !== 0)
    throw new Error("haproxy is not installed (Debian package haproxy)");
  const runs = Number(process.env["BENCH_RUNS"] ?? "5");
  // BENCH_TCP_RELAY=threads|raw|streams, BENCH_RELAY_ENGINE=auto|epoll and BENCH_RELAY_THREADS=N
  // measure the other relays.
  const tcpRelay = process.env["BENCH_TCP_RELAY"] ?? "threads";
  const relayEngine = process.env["BENCH_RELAY_ENGINE"] ?? "auto";
  const relayThreads = Number(process.env["BENCH_RELAY_THREADS"] ?? "1");
  const dir = mkdtempSync(join(tmpdir(), "kproxy-bench-"));
  const backendHost = "127.201.0.1";
  const children: ChildProcess[] = [];
  try {
    const backend = await startRole("backend", ["--host", backendHost]);
    children.push(backend.child);
    const { rrPort = 0, bulkPort = 0 } = backend.info;
    const relay = await startRole("relay", [
      "--vip",
      "127.201.0.3",
      "--backend-host",
      backendHost,
      "--rr-port",
      String(rrPort),
      "--bulk-port",
      String(bulkPort),
      "--tcp-relay",
      tcpRelay,
      "--relay-threads",
      String(relayThreads),
      "--relay-engine",
      relayEngine,
    ]);
    children.push(relay.child);
    const haproxy = await startHaproxy(dir, backendHost, rrPort, bulkPort);
    children.push(haproxy);
    const targets = {
      direct: { host: backendHost, rr: rrPort, bulk: bulkPort, pid: undefined },
      haproxy: { host: "127.201.0.2", rr: 10000, bulk: 10001, pid: haproxy.pid },
      kproxy: { host: "127.201.0.3", rr: 10000, bulk: 10001, pid: relay.child.pid },
    };
    type Name = keyof typeof targets;
    const samples = new Map<string, number[]>();
    const add = (key: string, v: number): void => void samples.set(key, [...(samples.get(key) ?? []), v]);
    for (let run = 0; run < runs; run++) {
      // Each figure is measured for every target back to back, in an order that alternates
      // between runs, so that the machine's other work weighs on both proxies alike.
      const names: Name[] = run % 2 === 0 ? ["haproxy", "kproxy", "direct"] : ["kproxy", "haproxy", "direct"];
      const each = async (fn: (name: Name, t: (typeof targets)[Name]) => Promise<void>): Promise<void> => {
        for (const name of names) await fn(name, targets[name]);
      };
      const client = (
        t: (typeof targets)[Name],
        mode: string,
        port: number,
      ): Promise<Record<string, number>> =>
        runClient(["--mode", mode, "--host", t.host, "--port", String(port), "--seconds", "2"]);
      // The proxy's own CPU time per unit of work hardly depends on what else the machine runs,
      // unlike the rates; it is recorded beside them.
      await each(async (name, t) => {
        const cpu = cpuSeconds(t.pid);
        const bulk = await client(t, "bulk", t.bulk);
        add(`${name}.gbits`, bulk["gbits"] ?? NaN);
        add(`${name}.cpuPerGiB`, (cpuSeconds(t.pid) - cpu) / (bulkBytes / 2 ** 30));
      });
      await each(async (name, t) => {
        const cpu = cpuSeconds(t.pid);
        const conn = await client(t, "connect", t.rr);
        add(`${name}.connect`, conn["rps"] ?? NaN);
        add(`${name}.cpuPerConnect`, ((cpuSeconds(t.pid) - cpu) * 1e6) / ((conn["rps"] ?? NaN) * 2));
      });
      await each(async (name, t) => {
        const cpu = cpuSeconds(t.pid);
        const ka = await client(t, "keepalive", t.rr);
        add(`${name}.keepalive`, ka["rps"] ?? NaN);
        add(`${name}.cpuPerRequest`, ((cpuSeconds(t.pid) - cpu) * 1e6) / ((ka["rps"] ?? NaN) * 2));
      });
      await each(async (name, t) => {
        const lat = await client(t, "latency", t.rr);
        add(`${name}.p50`, lat["p50"] ?? NaN);
        add(`${name}.p99`, lat["p99"] ?? NaN);
      });
      process.stderr.write(`run ${run + 1}/${runs} done\n`);
    }
    const row = (
      metric: string,
      label: string,
      unit: string,
      better: "higher" | "lower",
      withDirect = true,
    ): BenchRow[] => {
      const k = samples.get(`kproxy.${metric}`) ?? [];
      const h = samples.get(`haproxy.${metric}`) ?? [];
      const d = samples.get(`direct.${metric}`) ?? [];
      return [
        {
          name: label,
          unit,
          value: median(k),
          reference: median(h),
          referenceName: "haproxy",
          ratio: median(k) / median(h),
          better,
          samples: k,
          referenceSamples: h,
          ...(withDirect ? { note: `direct connection: ${median(d).toFixed(2)} ${unit}` } : {}),
        },
        ...(withDirect
          ? [
              {
                name: `${label} (direct)`,
                unit,
                value: median(d),
                reference: median(h),
                referenceName: "haproxy",
                ratio: median(d) / median(h),
                better,
                samples: d,
              },
            ]
          : []),
      ];
    };
    report(
      "userspace",
      [
        ...row("gbits", "throughput, 512 MiB transfer", "Gbit/s", "higher"),
        ...row("connect", "requests/s, new connection each", "req/s", "higher"),
        ...row("keepalive", "requests/s, keep-alive (32 conns)", "req/s", "higher"),
        ...row("p50", "latency p50, 64-byte request", "µs", "lower"),
        ...row("p99", "latency p99, 64-byte request", "µs", "lower"),
        ...row("cpuPerGiB", "proxy CPU per GiB transferred", "s", "lower", false),
        ...row("cpuPerConnect", "proxy CPU per new-connection request", "µs", "lower", false),
        ...row("cpuPerRequest", "proxy CPU per keep-alive request", "µs", "lower", false),
      ],
      { runs, requestSize, responseSize, bulkBytes, tcpRelay, relayEngine, relayThreads },
    );
  } finally {
    for (const c of children) c.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

const role = args.get("--role");
if (role === "backend") await backendRole();
else if (role === "relay") await relayRole();
else if (role === "client") {
  await clientRole();
  process.exit(0);
} else await orchestrate();
