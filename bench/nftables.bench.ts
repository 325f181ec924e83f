// nftables mode beside iptables, on this machine, in one run (issue 5, must-show 4):
//  - time to establish a new TCP connection through a Service with 0 / 1k / 10k / 30k services
//    loaded (nftables default layout vs iptables with the tested service last in KUBE-SERVICES),
//    measured from a client namespace through a node namespace to a backend in a pod namespace;
//  - full and partial (one endpoint) sync times at 1k / 10k / 20k services, both layouts; the
//    one-endpoint change (added, not ready, removed, ready again, in turn) of the default layout
//    side by side at every size, with the share spent sending it to the kernel;
//  - change-to-traffic latency: from the start of a one-endpoint sync until a client's new
//    connections reach the new endpoint.
// Writes a table (report()) and an SVG plot to bench/results/.
// Sizes: KPROXY_BENCH_NFT_CONNECT_SIZES, KPROXY_BENCH_NFT_SYNC_SIZES (comma-separated),
// KPROXY_BENCH_NFT_UPSTREAM_MAX (largest size run with the upstream layout, default 20000, so
// that every size is compared; at 20,000 one load takes about five minutes, lower it for a quick run), KPROXY_BENCH_NFT_RUNS (default 3),
// KPROXY_BENCH_NFT_PARTIAL_RUNS (one-endpoint changes per size, default 40), KPROXY_BENCH_IPTABLES (restore command, default iptables-legacy-restore; iptables-nft-restore
// works too but loads 30k services very slowly).
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Registry } from "prom-client";
import { defaultProxyConfig } from "../src/config/defaults.ts";
import type { ProxyConfig } from "../src/config/proxy-config.ts";
import type { NodeInfo } from "../src/model/node-info.ts";
import { newNftablesProxier, type NftablesProxier } from "../src/proxy/nftables/nftables-proxier.ts";
import {
  createTestNetns,
  linkNetns,
  removeAll,
  type TestNetns,
} from "../src/proxy/nftables/testing/netns.ts";
import {
  fixtureState,
  manyServices,
  type FixtureService,
} from "../src/proxy/nftables/testing/service-fixtures.ts";
import { systemClock } from "../src/sys/clock.ts";
import { silentLogger } from "../src/sys/logger.ts";
import { median, percentile, report, type BenchRow } from "./lib/report.ts";

const here = dirname(fileURLToPath(import.meta.url));
const testing = join(here, "../src/proxy/nftables/testing");
const sizes = (name: string, fallback: string): number[] =>
  (process.env[name] ?? fallback).split(",").map((s) => Number(s.trim()));
const connectSizes = sizes("KPROXY_BENCH_NFT_CONNECT_SIZES", "0,1000,10000,30000");
const syncSizes = sizes("KPROXY_BENCH_NFT_SYNC_SIZES", "1000,10000,20000");
const upstreamMax = Number(process.env["KPROXY_BENCH_NFT_UPSTREAM_MAX"] ?? "20000");
const runs = Number(process.env["KPROXY_BENCH_NFT_RUNS"] ?? "3");
const partialRuns = Number(process.env["KPROXY_BENCH_NFT_PARTIAL_RUNS"] ?? "40");
const iptablesRestore = process.env["KPROXY_BENCH_IPTABLES"] ?? "iptables-legacy-restore";
const iptables = iptablesRestore.replace(/-restore$/, "");

const node: NodeInfo = {
  name: "node-a",
  labels: {},
  nodeIPs: ["192.168.50.1"],
  podCIDRs: [],
  localAddresses: ["192.168.50.1/24", "10.244.0.1/24"],
  deleting: false,
};
const baseConfig: ProxyConfig = { ...defaultProxyConfig, mode: "nftables", clusterCIDRs: ["10.0.0.0/8"] };
const rows: BenchRow[] = [];
const meta: Record<string, unknown> = { runs, iptablesRestore, upstreamMax };

async function proxierIn(ns: TestNetns, layout: "kproxy" | "upstream"): Promise<NftablesProxier> {
  return newNftablesProxier(
    {
      config: { ...baseConfig, nftables: { ...baseConfig.nftables, layout } },
      executor: ns.executor,
      logger: silentLogger(),
      metrics: new Registry(),
      clock: systemClock,
    },
    // Partial syncs go by netlink: the socket must be opened in the same namespace.
    { staleChainDelayMs: 0, netnsName: ns.name },
  );
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/**
 * Service `index` after one more one-endpoint change, in turn: an endpoint added (a different one
 * each cycle), the first one not ready, the added one removed, the first one ready again.
 */
function withEndpointChange(services: FixtureService[], index: number, round: number): FixtureService[] {
  const out = [...services];
  const s = services[index];
  if (s === undefined) return out;
  const [first, second] = s.endpoints;
  if (first === undefined || second === undefined) return out;
  const cycle = Math.floor(round / 4);
  const added = { ip: `10.250.${cycle >> 8}.${cycle & 255}`, port: 8080 };
  const endpoints = [
    [first, second, added],
    [{ ...first, ready: false }, second, added],
    [{ ...first, ready: false }, second],
    [{ ...first, ready: true }, second],
  ][round % 4];
  out[index] = { ...s, endpoints: endpoints ?? s.endpoints };
  return out;
}

// ---------------------------------------------------------------- sync times
interface SyncFigures {
  rebuildMs: number;
  fullMs?: number[];
  partialMs: number[];
  /** The part of each partial sync spent sending it (netlink batch or nft -f). */
  partialApplyMs: number[];
  partialBytes: number;
}

async function measureSync(size: number, layout: "kproxy" | "upstream"): Promise<SyncFigures> {
  const ns = await createTestNetns("nftbench");
  try {
    const proxier = await proxierIn(ns, layout);
    let services = manyServices(size);
    const state = (): ReturnType<typeof fixtureState> => fixtureState(services, node);
    // States are built outside the timed part: the runtime keeps them up to date incrementally.
    const initial = state();
    const rebuildMs = await timed(() =>
      proxier.sync({ states: [initial], full: true, changedServices: new Set() }),
    );
    const fullMs: number[] = [];
    // A periodic full resync of the upstream layout costs as much as the first load: run it only
    // where that stays short.
    const fullRuns = layout === "kproxy" || size <= 1000 ? runs : 0;
    for (let i = 0; i < fullRuns; i++)
      fullMs.push(
        await timed(() => proxier.sync({ states: [initial], full: true, changedServices: new Set() })),
      );
    const partialMs: number[] = [];
    const partialApplyMs: number[] = [];
    const applyPaths = new Set<string>();
    let partialBytes = 0;
    const index = Math.floor(size / 2);
    const target = services[index];
    // The upstream layout's partial syncs cost up to seconds each: fewer of them.
    const count = layout === "kproxy" ? partialRuns : Math.max(runs, 5);
    for (let i = 0; i < count; i++) {
      services = withEndpointChange(services, index, i);
      const s = state();
      partialMs.push(
        await timed(() =>
          proxier.sync({
            states: [s],
            full: false,
            changedServices: new Set([`${target?.namespace ?? ""}/${target?.name ?? ""}`]),
          }),
        ),
      );
      partialApplyMs.push(proxier.lastApplyMs);
      partialBytes = Math.max(partialBytes, proxier.lastTransaction.length);
      applyPaths.add(proxier.lastApplyPath);
    }
    await proxier.close();
    meta[`partial sync path ${layout}/${size}`] = [...applyPaths].join(",");
    return { rebuildMs, ...(fullMs.length > 0 ? { fullMs } : {}), partialMs, partialApplyMs, partialBytes };
  } finally {
    await ns.remove();
  }
}

// ---------------------------------------------------------------- connection setup
const target: FixtureService = {
  namespace: "bench",
  name: "target",
  clusterIP: "172.31.255.1",
  port: 80,
  endpoints: [{ ip: "10.244.0.10", port: 8080 }],
};

/** iptables-restore input for `services` with upstream's shape, the tested service last. */
function iptablesPayload(services: readonly FixtureService[]): string {
  const chains: string[] = [":KUBE-SERVICES - [0:0]", ":KUBE-MARK-MASQ - [0:0]", ":KUBE-POSTROUTING - [0:0]"];
  const rules: string[] = [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000",
    "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
    "-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000",
    "-A KUBE-POSTROUTING -j MASQUERADE --random-fully",
  ];
  services.forEach((s, i) => {
    const svc = `KUBE-SVC-${String(i).padStart(16, "0")}`;
    chains.push(`:${svc} - [0:0]`);
    rules.push(
      `-A KUBE-SERVICES -d ${s.clusterIP}/32 -p tcp -m comment --comment "${s.namespace}/${s.name}:p cluster IP" -m tcp --dport ${s.port} -j ${svc}`,
      `-A ${svc} ! -s 10.0.0.0/8 -d ${s.clusterIP}/32 -p tcp -m tcp --dport ${s.port} -j KUBE-MARK-MASQ`,
    );
    s.endpoints.forEach((e, j) => {
      const sep = `KUBE-SEP-${String(i).padStart(13, "0")}-${j.toString().padStart(2, "0")}`;
      chains.push(`:${sep} - [0:0]`);
      const left = s.endpoints.length - j;
      rules.push(
        left > 1
          ? `-A ${svc} -m statistic --mode random --probability ${(1 / left).toFixed(10)} -j ${sep}`
          : `-A ${svc} -j ${sep}`,
        `-A ${sep} -s ${e.ip}/32 -j KUBE-MARK-MASQ`,
        `-A ${sep} -p tcp -m tcp -j DNAT --to-destination ${e.ip}:${e.port}`,
      );
    });
  });
  rules.push("-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS");
  chains.push(":KUBE-NODEPORTS - [0:0]");
  return `*nat\n${chains.join("\n")}\n${rules.join("\n")}\nCOMMIT\n`;
}

function runIn(ns: TestNetns, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("ip", ["netns", "exec", ns.name, process.execPath, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`probe failed (${code}): ${err}`)),
    );
  });
}

async function connectLatency(client: TestNetns, address: string, port: number): Promise<number[]> {
  const out = await runIn(client, [
    join(testing, "connect-probe.ts"),
    "latency",
    address,
    String(port),
    "300",
  ]);
  return (JSON.parse(out) as { samplesUs: number[] }).samplesUs;
}

/** Starts a watcher that reports when new connections reach `expected`; resolves once it is ready. */
function startWatch(client: TestNetns, expected: string): Promise<{ done: Promise<number | null> }> {
  return new Promise((ready, reject) => {
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        client.name,
        process.execPath,
        join(testing, "connect-probe.ts"),
        "watch",
        target.clusterIP,
        "80",
        expected,
        "20000",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    const done = new Promise<number | null>((resolve) => {
      child.on("close", () => {
        const last = out.trim().split("\n").pop() ?? "{}";
        resolve((JSON.parse(last) as { atMs?: number | null }).atMs ?? null);
      });
    });
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      // Wrapped: resolving with a bare promise would wait for the watcher to finish.
      if (out.startsWith("ready\n")) ready({ done });
    });
    child.on("error", reject);
  });
}

interface ConnectFigures {
  nft: number[];
  ipt: number[];
  changeToTrafficMs: number | null;
  nftLoadMs: number;
  iptLoadMs: number;
}

async function measureConnect(): Promise<{ direct: number[]; bySize: Map<number, ConnectFigures> }> {
  const nodeNs = await createTestNetns("nftbnode");
  const pod = await createTestNetns("nftbpod");
  const client = await createTestNetns("nftbcli");
  try {
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
    await nodeNs.exec("sysctl", ["-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.send_redirects=0"]);
    await nodeNs.exec("ip", ["route", "add", "default", "via", "192.168.50.2"]);
    await pod.exec("ip", ["route", "add", "default", "via", "10.244.0.1"]);
    await client.exec("ip", ["route", "add", "default", "via", "192.168.50.1"]);
    pod.spawn(process.execPath, [join(testing, "port-echo-server.ts"), "8080", "8081"]);
    await new Promise((r) => setTimeout(r, 1000));
    const direct = await connectLatency(client, "10.244.0.10", 8080);
    const bySize = new Map<number, ConnectFigures>();
    const proxier = await proxierIn(nodeNs, "kproxy");
    for (const size of connectSizes) {
      const services = [...manyServices(size), target];
      await proxier.cleanup();
      const loaded = fixtureState(services, node);
      const nftLoadMs = await timed(() =>
        proxier.sync({ states: [loaded], full: true, changedServices: new Set() }),
      );
      const nft = await connectLatency(client, target.clusterIP, 80);
      // Change to traffic: move the target to the backend's other port and wait for a client to see it.
      const watch = await startWatch(client, "8081");
      const moved = services.map((s) =>
        s === target ? { ...target, endpoints: [{ ip: "10.244.0.10", port: 8081 }] } : s,
      );
      const movedState = fixtureState(moved, node);
      const t0 = performance.timeOrigin + performance.now();
      await proxier.sync({
        states: [movedState],
        full: false,
        changedServices: new Set(["bench/target"]),
      });
      const seen = await watch.done;
      await proxier.cleanup();
      const iptLoadMs = await timed(() => nodeNs.exec(iptablesRestore, [], iptablesPayload(services)));
      const ipt = await connectLatency(client, target.clusterIP, 80);
      await nodeNs.exec(iptables, ["-t", "nat", "-F"]);
      await nodeNs.exec(iptables, ["-t", "nat", "-X"]);
      bySize.set(size, {
        nft,
        ipt,
        changeToTrafficMs: seen === null ? null : seen - t0,
        nftLoadMs,
        iptLoadMs,
      });
      console.error(`connect: ${size} services done`);
    }
    return { direct, bySize };
  } finally {
    await removeAll([client, pod, nodeNs]);
  }
}

// ---------------------------------------------------------------- plot
interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
}

function linePanel(
  title: string,
  unit: string,
  series: readonly Series[],
  x0: number,
  y0: number,
  log: boolean,
): string {
  const w = 460;
  const h = 260;
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => v > 0);
  const yMax = Math.max(...ys) * 1.1;
  const yMin = log ? Math.min(...ys) / 1.5 : 0;
  const px = (x: number): number => x0 + 50 + (xs.indexOf(x) / Math.max(1, xs.length - 1)) * (w - 70);
  const py = (y: number): number =>
    log
      ? y0 + h - 30 - ((Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * (h - 60)
      : y0 + h - 30 - ((y - yMin) / (yMax - yMin)) * (h - 60);
  const out = [
    `<text x="${x0 + w / 2}" y="${y0 + 16}" text-anchor="middle" font-weight="bold">${title}</text>`,
    `<line x1="${x0 + 50}" y1="${y0 + h - 30}" x2="${x0 + w - 20}" y2="${y0 + h - 30}" stroke="black"/>`,
    `<line x1="${x0 + 50}" y1="${y0 + 30}" x2="${x0 + 50}" y2="${y0 + h - 30}" stroke="black"/>`,
    `<text x="${x0 + 12}" y="${y0 + h / 2}" transform="rotate(-90 ${x0 + 12} ${y0 + h / 2})" text-anchor="middle" font-size="11">${unit}${log ? " (log)" : ""}</text>`,
  ];
  for (const x of xs)
    out.push(
      `<text x="${px(x)}" y="${y0 + h - 14}" text-anchor="middle" font-size="11">${x.toLocaleString("en-US")}</text>`,
    );
  const ticks = log ? [yMin, Math.sqrt(yMin * yMax), yMax] : [yMin, yMax / 2, yMax];
  for (const t of ticks)
    out.push(
      `<text x="${x0 + 46}" y="${py(t) + 4}" text-anchor="end" font-size="10">${Number(t.toPrecision(2))}</text>`,
    );
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => p[1] > 0);
    out.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map((p) => `${px(p[0])},${py(p[1])}`).join(" ")}"/>`,
    );
    for (const p of pts) out.push(`<circle cx="${px(p[0])}" cy="${py(p[1])}" r="3" fill="${s.color}"/>`);
    out.push(
      `<text x="${x0 + 60}" y="${y0 + 34 + i * 14}" font-size="11" fill="${s.color}">${s.name}</text>`,
    );
  });
  return out.join("\n");
}

function fmtMs(ms: number): string {
  return `${Number(ms.toPrecision(3))} ms`;
}

function writePlot(panels: readonly string[]): string {
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="940" height="${Math.ceil(panels.length / 2) * 280 + 30}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="470" y="18" text-anchor="middle" font-size="13">kproxy nftables vs iptables (x: services loaded)</text>`,
    ...panels,
    "</svg>",
  ].join("\n");
  const dir = join(here, "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `nftables-${new Date().toISOString().replace(/[:.]/g, "-")}.svg`);
  writeFileSync(file, svg + "\n");
  return file;
}

// ---------------------------------------------------------------- main
if (process.getuid?.() !== 0) {
  console.error("bench/nftables.bench.ts needs root (network namespaces, netfilter); skipped.");
  process.exit(0);
}

const connect = await measureConnect();
const d = median(connect.direct);
rows.push({
  name: "new TCP connection, direct to the pod (no Service)",
  unit: "µs",
  value: d,
  samples: connect.direct,
  better: "lower",
});
for (const [size, f] of connect.bySize) {
  const n = median(f.nft);
  const i = median(f.ipt);
  rows.push({
    name: `new TCP connection via Service, ${size} services (p90 nft ${Math.round(percentile(f.nft, 90))} / ipt ${Math.round(percentile(f.ipt, 90))})`,
    unit: "µs",
    value: n,
    reference: i,
    referenceName: iptables,
    ratio: n / i,
    better: "lower",
  });
  rows.push({
    name: `load ${size} services from empty (kproxy layout vs ${iptablesRestore})`,
    unit: "ms",
    value: f.nftLoadMs,
    reference: f.iptLoadMs,
    referenceName: iptablesRestore,
    ratio: f.nftLoadMs / f.iptLoadMs,
    better: "lower",
  });
  rows.push({
    name: `change to traffic: one-endpoint sync until new connections reach it, ${size} services`,
    unit: "ms",
    value: f.changeToTrafficMs ?? Number.NaN,
    ...(f.changeToTrafficMs === null ? { note: "not seen within 20 s" } : {}),
  });
}

const sync = new Map<string, SyncFigures | string>();
for (const size of syncSizes) {
  for (const layout of ["kproxy", "upstream"] as const) {
    if (layout === "upstream" && size > upstreamMax) {
      sync.set(
        `${layout}/${size}`,
        `not run: above KPROXY_BENCH_NFT_UPSTREAM_MAX=${upstreamMax} (FACTS.md: 310 s to load 20,000)`,
      );
      continue;
    }
    sync.set(`${layout}/${size}`, await measureSync(size, layout));
    console.error(`sync: ${layout} ${size} done`);
  }
}
for (const size of syncSizes) {
  const k = sync.get(`kproxy/${size}`);
  const u = sync.get(`upstream/${size}`);
  if (typeof k !== "object" || k === undefined) continue;
  const up = typeof u === "object" ? u : undefined;
  const note = typeof u === "string" ? u : undefined;
  const row = (name: string, value: number, ref: number | undefined, samples?: number[]): BenchRow => ({
    name,
    unit: "ms",
    value,
    ...(ref === undefined ? {} : { reference: ref, referenceName: "upstream layout", ratio: value / ref }),
    better: "lower",
    ...(samples ? { samples } : {}),
    ...(note && ref === undefined ? { note } : {}),
  });
  rows.push(row(`full sync from empty (rebuild), ${size} services`, k.rebuildMs, up?.rebuildMs));
  if (k.fullMs)
    rows.push(
      row(
        `full resync (flush + refill), ${size} services`,
        median(k.fullMs),
        up?.fullMs ? median(up.fullMs) : undefined,
        k.fullMs,
      ),
    );
  rows.push(
    row(
      `partial sync, one endpoint changed, ${size} services`,
      median(k.partialMs),
      up ? median(up.partialMs) : undefined,
      k.partialMs,
    ),
  );
  rows.push({
    name: `partial sync transaction size (largest), ${size} services`,
    unit: "bytes",
    value: k.partialBytes,
    ...(up
      ? {
          reference: up.partialBytes,
          referenceName: "upstream layout",
          ratio: k.partialBytes / up.partialBytes,
        }
      : {}),
  });
}

// The one-endpoint change of the default layout side by side: each size against the smallest.
const smallest = syncSizes[0] ?? 1000;
const baseline = sync.get(`kproxy/${smallest}`);
for (const size of syncSizes) {
  const k = sync.get(`kproxy/${size}`);
  if (typeof k !== "object" || typeof baseline !== "object") continue;
  for (const [what, samples, ref] of [
    ["one-endpoint change, whole sync", k.partialMs, baseline.partialMs],
    ["one-endpoint change, sending it to the kernel", k.partialApplyMs, baseline.partialApplyMs],
  ] as const) {
    rows.push({
      name: `${what} (kproxy layout, p90 ${fmtMs(percentile(samples, 90))}), ${size} services`,
      unit: "ms",
      value: median(samples),
      reference: median(ref),
      referenceName: `${smallest} services`,
      ratio: median(samples) / median(ref),
      better: "lower",
      samples,
    });
  }
}

const plot = writePlot([
  linePanel(
    "new connection via a Service",
    "µs (median)",
    [
      {
        name: "nftables (kproxy layout)",
        color: "#1f77b4",
        points: [...connect.bySize].map(([s, f]) => [s, median(f.nft)] as const),
      },
      {
        name: iptables,
        color: "#d62728",
        points: [...connect.bySize].map(([s, f]) => [s, median(f.ipt)] as const),
      },
      {
        name: "direct (no Service)",
        color: "#7f7f7f",
        points: [...connect.bySize.keys()].map((s) => [s, d] as const),
      },
    ],
    0,
    30,
    false,
  ),
  linePanel(
    "sync time",
    "ms (median)",
    [
      ...(["kproxy", "upstream"] as const).flatMap((layout, li) => [
        {
          name: `${layout}: full (rebuild)`,
          color: li === 0 ? "#1f77b4" : "#ff7f0e",
          points: syncSizes.flatMap((s) => {
            const f = sync.get(`${layout}/${s}`);
            return typeof f === "object" ? [[s, f.rebuildMs] as const] : [];
          }),
        },
        {
          name: `${layout}: partial (1 endpoint)`,
          color: li === 0 ? "#2ca02c" : "#9467bd",
          points: syncSizes.flatMap((s) => {
            const f = sync.get(`${layout}/${s}`);
            return typeof f === "object" ? [[s, median(f.partialMs)] as const] : [];
          }),
        },
      ]),
    ],
    470,
    30,
    true,
  ),
  linePanel(
    "one-endpoint change, kproxy layout",
    "ms (median)",
    [
      {
        name: "whole sync",
        color: "#2ca02c",
        points: syncSizes.flatMap((s) => {
          const f = sync.get(`kproxy/${s}`);
          return typeof f === "object" ? [[s, median(f.partialMs)] as const] : [];
        }),
      },
      {
        name: "sending it to the kernel",
        color: "#8c564b",
        points: syncSizes.flatMap((s) => {
          const f = sync.get(`kproxy/${s}`);
          return typeof f === "object" ? [[s, median(f.partialApplyMs)] as const] : [];
        }),
      },
    ],
    0,
    310,
    false,
  ),
]);
meta["plot"] = plot;
for (const [k, v] of sync) if (typeof v === "string") meta[`skipped ${k}`] = v;
report("nftables", rows, meta);
console.log(`(plot written to ${plot})`);
