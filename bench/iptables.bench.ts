// iptables mode (issue 4, must-show 6): for 1,000 / 10,000 / 20,000 services × 10 endpoints,
// with the legacy and the nft back ends, each inside a throwaway network namespace:
//  - render time (full payload; one-endpoint partial payload),
//  - restore time of the first (full) write into an empty kernel,
//  - full-sync time without changes, one-endpoint partial-sync time, the periodic audit,
//  - payload sizes, kproxy's peak memory,
//  - time from an API change (an EndpointSlice PATCH to `kproxy run`'s embedded API server) to
//    the new endpoint's chain being in the kernel,
// each beside the same operation done upstream's way (partial syncs rewrite KUBE-SERVICES and
// the filter table; full syncs re-declare every chain; no -Z for iptables-nft), measured in the
// same run; medians of several runs.
// Settings (environment): KPROXY_BENCH_IPTABLES_SIZES (default 1000,10000,20000),
// KPROXY_BENCH_IPTABLES_BACKENDS (legacy,nft), KPROXY_BENCH_IPTABLES_RUNS (3),
// KPROXY_BENCH_IPTABLES_API_SIZES (sizes of the API-to-kernel measurement, default 1000: each
// size loads its services through the API twice, about 4 min at 10,000 with iptables-nft),
// KPROXY_BENCH_IPTABLES_UPSTREAM_TIMEOUT_S (cap of one upstream-way restore, default 30 s; a
// capped figure is a lower bound, marked "≥"), KPROXY_BENCH_IPTABLES_SLOW_RUNS (runs of the
// multi-second restores at 10,000+ services, default 1).
// The defaults take about 15 minutes on this 2-core machine.
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { request } from "node:http";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Registry } from "prom-client";
import { defaultProxyConfig } from "../src/config/defaults.ts";
import type { ProxyConfig } from "../src/config/proxy-config.ts";
import type { ProxyState } from "../src/model/proxy-state.ts";
import { detectKernelFeatures } from "../src/proxy/iptables/apply/detect-kernel-features.ts";
import { iptablesTools, type IptablesBackend } from "../src/proxy/iptables/apply/iptables-tools.ts";
import { createIptablesProxierWith, type IptablesProxier } from "../src/proxy/iptables/iptables-proxier.ts";
import { buildIptablesRuleSet } from "../src/proxy/iptables/render/build-iptables-rule-set.ts";
import { endpointChainName } from "../src/proxy/iptables/render/chain-names.ts";
import type { IptablesRuleSet } from "../src/proxy/iptables/render/iptables-rule-set.ts";
import { formatFullPayload } from "../src/proxy/iptables/render/render-iptables.ts";
import { formatPartialPayload } from "../src/proxy/iptables/render/render-partial.ts";
import { formatUpstreamPartialPayload } from "../src/proxy/iptables/render/upstream-partial-payload.ts";
import { createNetns, netnsExecutor, type TestNetns } from "../src/proxy/iptables/testing/netns.ts";
import { syntheticState, withMovedEndpoint } from "../src/proxy/iptables/testing/synthetic-state.ts";
import type { KernelFeatures } from "../src/proxy/kernel-features.ts";
import { systemClock } from "../src/sys/clock.ts";
import { createExecutor } from "../src/sys/executor.ts";
import { silentLogger } from "../src/sys/logger.ts";
import { median, report, type BenchRow } from "./lib/report.ts";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const list = (name: string, fallback: string): string[] =>
  (process.env[name] ?? fallback)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
const sizes = list("KPROXY_BENCH_IPTABLES_SIZES", "1000,10000,20000").map(Number);
const apiSizes = list("KPROXY_BENCH_IPTABLES_API_SIZES", "1000").map(Number);
const backends = list("KPROXY_BENCH_IPTABLES_BACKENDS", "legacy,nft") as IptablesBackend[];
const runs = Number(process.env["KPROXY_BENCH_IPTABLES_RUNS"] ?? "3");
const slowRuns = Number(process.env["KPROXY_BENCH_IPTABLES_SLOW_RUNS"] ?? "1");
const upstreamTimeoutMs = 1000 * Number(process.env["KPROXY_BENCH_IPTABLES_UPSTREAM_TIMEOUT_S"] ?? "30");
const config: ProxyConfig = { ...defaultProxyConfig, clusterCIDRs: ["10.244.0.0/16"] };

/** One measured figure, with its upstream-way reference when there is one. */
interface Measure {
  readonly name: string;
  readonly unit: string;
  readonly samples: number[];
  readonly reference?: number[];
  /** True when a reference run hit the time cap (the figure is a lower bound). */
  readonly referenceCapped?: boolean;
  readonly note?: string;
}

function timedRestore(
  ns: TestNetns,
  backend: IptablesBackend,
  payload: string,
): { ms: number; capped: boolean } {
  const start = performance.now();
  const r = spawnSync(
    "ip",
    ["netns", "exec", ns.name, `iptables-${backend}-restore`, "--noflush", "-w", "5"],
    {
      input: payload,
      timeout: upstreamTimeoutMs,
      maxBuffer: 1 << 26,
    },
  );
  const ms = performance.now() - start;
  if (r.error !== undefined || r.status !== 0) {
    if (r.signal !== null) return { ms: upstreamTimeoutMs, capped: true };
    throw new Error(
      `Cannot restore the reference payload: ${r.stderr?.toString() ?? r.error?.message ?? ""}`,
    );
  }
  return { ms, capped: false };
}

/** Every namespace a worker made, deleted when it ends (even on failure). */
const namespaces: TestNetns[] = [];
function newNetns(backend?: IptablesBackend): TestNetns {
  const ns = createNetns("iptb");
  namespaces.push(ns);
  // Like a node where kubelet runs: a mangle table with kubelet's hint chain.
  if (backend !== undefined)
    ns.exec(`iptables-${backend}`, ["-w", "60", "-t", "mangle", "-N", "KUBE-IPTABLES-HINT"]);
  return ns;
}

/** Progress on stderr (the worker's stdout carries its results). */
function progress(what: string): void {
  process.stderr.write(`  [${new Date().toISOString().slice(11, 19)}] ${what}\n`);
}

async function timed(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function newProxier(
  ns: TestNetns,
  backend: IptablesBackend,
  features: KernelFeatures,
): Promise<IptablesProxier> {
  return createIptablesProxierWith(
    {
      config,
      executor: netnsExecutor(createExecutor(), ns.name),
      logger: silentLogger(),
      metrics: new Registry(),
      clock: systemClock,
    },
    { backend, features, auditPeriodMs: Number.POSITIVE_INFINITY },
  );
}

/** Everything measured with the proxier in this process, for one back end and size (run as a child). */
async function worker(backend: IptablesBackend, n: number): Promise<Measure[]> {
  const out: Measure[] = [];
  // At 10,000+ services every restore takes seconds (minutes upstream's way on iptables-nft).
  const slow = n >= 10_000;
  const r = slow ? slowRuns : runs;
  const state = syntheticState({ services: n, endpointsPerService: 10, nodePortEvery: 10 });
  const probe = newNetns();
  const features = await detectKernelFeatures(
    netnsExecutor(createExecutor(), probe.name),
    iptablesTools(backend, "IPv4"),
  );
  probe.delete();

  progress(`${backend} ${n}: render`);
  // Rendering (pure, in-process).
  const renderFull: number[] = [];
  let rs: IptablesRuleSet | undefined;
  let fullPayload = "";
  for (let i = 0; i < runs; i++) {
    renderFull.push(
      await timed(() => {
        rs = buildIptablesRuleSet(state, { config, features });
        fullPayload = formatFullPayload(rs, { canary: true });
      }),
    );
  }
  const base = rs as IptablesRuleSet;
  const renderPartial: number[] = [];
  const renderPartialUpstream: number[] = [];
  let partialBytes = 0;
  let upstreamPartialBytes = 0;
  for (let i = 0; i < runs; i++) {
    const moved = withMovedEndpoint(state, 7 + i, 1, 1);
    const changed = { previous: base, changedServices: new Set([`bench/svc-${7 + i}`]) };
    renderPartial.push(
      await timed(() => {
        partialBytes = formatPartialPayload(
          base,
          buildIptablesRuleSet(moved, { config, features, reuse: changed }),
          {
            canaryProbe: true,
          },
        ).text.length;
      }),
    );
    renderPartialUpstream.push(
      await timed(() => {
        upstreamPartialBytes = formatUpstreamPartialPayload(
          base,
          buildIptablesRuleSet(moved, { config, features, reuse: changed }),
        ).length;
      }),
    );
  }
  out.push(
    { name: "render full payload", unit: "ms", samples: renderFull, note: "build + format, in-process" },
    {
      name: "render 1-endpoint partial",
      unit: "ms",
      samples: renderPartial,
      reference: renderPartialUpstream,
    },
    { name: "payload full", unit: "MB", samples: [fullPayload.length / 1e6] },
    {
      name: "payload 1-endpoint partial",
      unit: "KB",
      samples: [partialBytes / 1e3],
      reference: [upstreamPartialBytes / 1e3],
    },
  );

  progress(`${backend} ${n}: first write into an empty kernel`);
  // First write into an empty kernel: kproxy's audit (save, compare, write) vs a plain restore.
  const firstSync: number[] = [];
  const firstRestore: number[] = [];
  const upstreamFirst: number[] = [];
  let upstreamFirstCapped = false;
  let ns: TestNetns | undefined;
  let proxier: IptablesProxier | undefined;
  for (let i = 0; i < r; i++) {
    const ref = newNetns(backend);
    try {
      const t = timedRestore(ref, backend, fullPayload);
      upstreamFirst.push(t.ms);
      upstreamFirstCapped ||= t.capped;
    } finally {
      ref.delete();
    }
    ns?.delete();
    ns = newNetns(backend);
    proxier = await newProxier(ns, backend, features);
    const p = proxier;
    firstSync.push(await timed(() => p.sync({ states: [state], full: true, changedServices: new Set() })));
    firstRestore.push(p.lastReports.get("IPv4")?.restore?.ms ?? Number.NaN);
  }
  out.push({
    name: "first sync (empty kernel), restore only",
    unit: "ms",
    samples: firstRestore,
    reference: upstreamFirst,
    referenceCapped: upstreamFirstCapped,
  });
  out.push({ name: "first sync (empty kernel), whole sync", unit: "ms", samples: firstSync });

  const px = proxier as IptablesProxier;
  const nsx = ns as TestNetns;
  try {
    progress(`${backend} ${n}: full syncs`);
    // Periodic full sync without changes: kproxy re-renders and diffs (writes the canary probe
    // only) vs upstream's re-declaration of every chain.
    const fullSync: number[] = [];
    for (let i = 0; i < runs; i++) {
      fullSync.push(await timed(() => px.sync({ states: [state], full: true, changedServices: new Set() })));
    }
    const upstreamFull: number[] = [];
    let upstreamFullCapped = false;
    for (let i = 0; i < r; i++) {
      const t = timedRestore(nsx, backend, fullPayload);
      upstreamFull.push(t.ms);
      upstreamFullCapped ||= t.capped;
    }
    out.push({
      name: "full sync, no change",
      unit: "ms",
      samples: fullSync,
      reference: upstreamFull,
      referenceCapped: upstreamFullCapped,
    });

    progress(`${backend} ${n}: partial syncs`);
    // One-endpoint partial syncs.
    const partialSync: number[] = [];
    const partialRestore: number[] = [];
    let current: ProxyState = state;
    for (let i = 0; i < runs; i++) {
      const next = withMovedEndpoint(current, 100 + i, 2, i + 1);
      const changed = new Set([`bench/svc-${100 + i}`]);
      partialSync.push(await timed(() => px.sync({ states: [next], full: false, changedServices: changed })));
      partialRestore.push(px.lastReports.get("IPv4")?.restore?.ms ?? Number.NaN);
      current = next;
    }
    // Upstream's way from the same kernel state (the proxier is not used afterwards).
    const upstreamPartial: number[] = [];
    let previous = buildIptablesRuleSet(current, { config, features });
    for (let i = 0; i < r; i++) {
      const next = withMovedEndpoint(current, 200 + i, 2, i + 1);
      const nextRs = buildIptablesRuleSet(next, {
        config,
        features,
        reuse: {
          previous,
          changedServices: new Set([`bench/svc-${200 + i}`]),
        },
      });
      const t = timedRestore(nsx, backend, formatUpstreamPartialPayload(previous, nextRs));
      upstreamPartial.push(t.ms);
      previous = nextRs;
      current = next;
    }
    out.push(
      {
        name: "partial sync 1 endpoint, restore only",
        unit: "ms",
        samples: partialRestore,
        reference: upstreamPartial,
      },
      {
        name: "partial sync 1 endpoint, whole sync",
        unit: "ms",
        samples: partialSync,
        note: "render + restore",
      },
    );

    progress(`${backend} ${n}: audit`);
    // The hourly audit (iptables-save, compare, nothing to repair).
    const auditor = await newProxier(nsx, backend, features);
    const audit = await timed(() =>
      auditor.sync({ states: [current], full: true, changedServices: new Set() }),
    );
    out.push({
      name: "audit (save + compare), hourly",
      unit: "ms",
      samples: [audit],
      note: `wrote ${auditor.lastReports.get("IPv4")?.writtenChains ?? "?"} chains`,
    });
  } finally {
    nsx.delete();
  }
  out.push({
    name: "peak memory (proxier process)",
    unit: "MB",
    samples: [process.resourceUsage().maxRSS / 1024],
    note: "all of the above in one process",
  });
  return out;
}

// ---- API change to rule in the kernel, with `kproxy run` and its embedded API server ----

function apiCall(
  socketPath: string,
  method: string,
  path: string,
  body: unknown,
  contentType = "application/json",
): Promise<number> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(
      {
        socketPath,
        method,
        path,
        headers: { "content-type": contentType, "content-length": Buffer.byteLength(data) },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

function endpointIP(i: number, j: number): string {
  const k = i * 64 + j;
  return `10.${128 + ((k >> 16) & 127)}.${(k >> 8) & 255}.${k & 255}`;
}

function sliceBody(i: number, ips: string[]): unknown {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: `svc-${i}-1`,
      namespace: "bench",
      labels: { "kubernetes.io/service-name": `svc-${i}` },
    },
    addressType: "IPv4",
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    endpoints: ips.map((ip) => ({ addresses: [ip] })),
  };
}

async function inParallel(
  count: number,
  concurrency: number,
  fn: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

function chainExists(ns: TestNetns, backend: IptablesBackend, chain: string): boolean {
  return (
    spawnSync("ip", ["netns", "exec", ns.name, `iptables-${backend}`, "-w", "5", "-t", "nat", "-S", chain])
      .status === 0
  );
}

async function waitForChain(
  ns: TestNetns,
  backend: IptablesBackend,
  chain: string,
  timeoutMs: number,
): Promise<number> {
  const start = performance.now();
  while (!chainExists(ns, backend, chain)) {
    if (performance.now() - start > timeoutMs)
      throw new Error(`Cannot see chain ${chain} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - start;
}

/** Latencies of `runs` endpoint changes (ms) and the process's peak RSS (MB). */
async function apiLatency(
  backend: IptablesBackend,
  n: number,
  partialSyncs: "kproxy" | "upstream",
): Promise<{ latency: number[]; peakMB: number }> {
  const ns = createNetns("iptapi");
  const socketPath = join(tmpdir(), `${ns.name}.sock`);
  // Make the back-end detection pick the wanted back end, as kubelet's hint chain does on a node.
  ns.exec(`iptables-${backend}`, ["-t", "mangle", "-N", "KUBE-IPTABLES-HINT"]);
  const child = spawn(
    "ip",
    [
      "netns",
      "exec",
      ns.name,
      process.execPath,
      join(repoRoot, "src/main.ts"),
      "run",
      "--proxy-mode",
      "iptables",
      "--listen",
      "127.0.0.1:0",
      "--listen-socket",
      socketPath,
      "--hostname-override",
      "node-a",
      // Sync as soon as a change arrives: the figure is then the proxy's own delay, not the rate limit.
      "--iptables-min-sync-period",
      "0s",
      "--cluster-cidr",
      "10.244.0.0/16",
      "--metrics-bind-address",
      "",
      "--healthz-bind-address",
      "",
    ],
    {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, KPROXY_LOG_LEVEL: "warn", KPROXY_IPTABLES_PARTIAL_SYNCS: partialSyncs },
    },
  );
  try {
    for (let t = 0; ; t++) {
      if (t > 600) throw new Error("kproxy run did not start its API server");
      if (await apiCall(socketPath, "GET", "/api/v1/namespaces", {}).catch(() => 0)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await apiCall(socketPath, "POST", "/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "bench" },
    });
    await inParallel(n, 16, async (i) => {
      const ip = `10.96.${((i + 256) >> 8) & 255}.${(i + 256) & 255}`;
      const status = await apiCall(socketPath, "POST", "/api/v1/namespaces/bench/services", {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: `svc-${i}`, namespace: "bench" },
        spec: { clusterIP: ip, ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: 8080 }] },
      });
      if (status !== 201) throw new Error(`Cannot create service svc-${i}: HTTP ${status}`);
      const s2 = await apiCall(
        socketPath,
        "POST",
        "/apis/discovery.k8s.io/v1/namespaces/bench/endpointslices",
        sliceBody(
          i,
          Array.from({ length: 10 }, (_, j) => endpointIP(i, j)),
        ),
      );
      if (s2 !== 201) throw new Error(`Cannot create slice svc-${i}-1: HTTP ${s2}`);
    });
    const last = endpointChainName(`bench/svc-${n - 1}:http`, "TCP", `${endpointIP(n - 1, 9)}:8080`);
    await waitForChain(ns, backend, last, 900_000);
    await new Promise((r) => setTimeout(r, 3000)); // let the syncs triggered by the load settle
    const latency: number[] = [];
    for (let k = 0; k < runs; k++) {
      const i = Math.floor(((k + 1) * n) / (runs + 1));
      const ips = Array.from({ length: 10 }, (_, j) => endpointIP(i, j));
      ips[0] = `10.250.${k}.${(i % 250) + 1}`;
      const chain = endpointChainName(`bench/svc-${i}:http`, "TCP", `${ips[0]}:8080`);
      const start = performance.now();
      const status = await apiCall(
        socketPath,
        "PATCH",
        `/apis/discovery.k8s.io/v1/namespaces/bench/endpointslices/svc-${i}-1`,
        { endpoints: ips.map((ip) => ({ addresses: [ip] })) },
        "application/merge-patch+json",
      );
      if (status !== 200) throw new Error(`Cannot patch slice svc-${i}-1: HTTP ${status}`);
      await waitForChain(ns, backend, chain, 300_000);
      latency.push(performance.now() - start);
      await new Promise((r) => setTimeout(r, 500));
    }
    const status = spawnSync("cat", [`/proc/${child.pid}/status`]).stdout.toString();
    const peakMB = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? "0") / 1024;
    return { latency, peakMB };
  } finally {
    if (child.pid !== undefined && child.exitCode === null) {
      child.kill("SIGTERM");
      const exited = once(child, "exit");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(socketPath, { force: true });
    ns.delete();
  }
}

// ---- main ----

if (process.argv[2] === "--worker") {
  try {
    const measures = await worker(process.argv[3] as IptablesBackend, Number(process.argv[4]));
    process.stdout.write(JSON.stringify(measures));
  } finally {
    for (const ns of namespaces) ns.delete();
  }
} else {
  const rows: BenchRow[] = [];
  const add = (label: string, m: Measure): void => {
    const value = median(m.samples);
    const reference = m.reference === undefined ? undefined : median(m.reference);
    rows.push({
      name: `${label} ${m.name}`,
      unit: m.unit,
      value,
      samples: m.samples,
      ...(reference === undefined
        ? {}
        : {
            reference,
            referenceName: m.referenceCapped ? `upstream's way, ≥ (capped)` : "upstream's way",
            ratio: value / reference,
            better: "lower" as const,
            referenceSamples: m.reference ?? [],
          }),
      ...(m.note === undefined && !m.referenceCapped
        ? {}
        : {
            note: [
              m.note,
              m.referenceCapped
                ? "upstream's way stopped at the time cap: the ratio is an upper bound"
                : undefined,
            ]
              .filter((x) => x !== undefined)
              .join("; "),
          }),
    });
  };
  for (const backend of backends) {
    for (const n of sizes) {
      const started = performance.now();
      const r = spawnSync(
        process.execPath,
        [fileURLToPath(import.meta.url), "--worker", backend, String(n)],
        {
          stdio: ["ignore", "pipe", "inherit"],
          maxBuffer: 1 << 24,
        },
      );
      if (r.status !== 0)
        throw new Error(`The ${backend} ${n} worker failed with exit code ${r.status ?? r.signal}`);
      for (const m of JSON.parse(r.stdout.toString()) as Measure[]) add(`${backend} ${n / 1000}k:`, m);
      console.error(`${backend} ${n}: ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
    for (const n of apiSizes) {
      const started = performance.now();
      const ours = await apiLatency(backend, n, "kproxy");
      const theirs = await apiLatency(backend, n, "upstream");
      add(`${backend} ${n / 1000}k:`, {
        name: "API change → rule in kernel",
        unit: "ms",
        samples: ours.latency,
        reference: theirs.latency,
        note: "EndpointSlice PATCH to kproxy run (minSyncPeriod 0) until the chain is in the kernel",
      });
      add(`${backend} ${n / 1000}k:`, {
        name: "peak memory (kproxy run)",
        unit: "MB",
        samples: [ours.peakMB],
        reference: [theirs.peakMB],
      });
      console.error(`${backend} ${n} API: ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
  }
  report("iptables", rows, { sizes, apiSizes, backends, runs, slowRuns, upstreamTimeoutMs });
}
