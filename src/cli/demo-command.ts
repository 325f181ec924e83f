import { stopSignal } from "../sys/stop-signal.ts";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { KubernetesObjectApi, type KubernetesObject } from "@kubernetes/client-node";
import { Command } from "commander";
import { parseAllDocuments, stringify } from "yaml";
import { defaultProxyConfig } from "../config/defaults.ts";
import type { ProxyConfig } from "../config/proxy-config.ts";
import { ProxyError, UsageError } from "../errors.ts";
import { isSchedulerName } from "../lb/scheduler.ts";
import { loadKubeConfig } from "../sources/kube-config.ts";
import { createLogger, type Logger } from "../sys/logger.ts";
import { runProxy, type RunningProxy } from "./run-proxy.ts";

/** The demo's "pods": name and loopback address. */
const pods = [
  { name: "web1", ip: "127.10.0.1" },
  { name: "web2", ip: "127.10.0.2" },
  { name: "web3", ip: "127.10.0.3" },
] as const;

const serviceRange = "127.100.0.0/16";
const examplesDir = fileURLToPath(new URL("../../examples/demo/", import.meta.url));

interface DemoFlags {
  listen: string;
  scheduler: string;
  v?: string;
}

/**
 * `kproxy demo`: three web backends answering web1, web2, web3 on loopback addresses, the
 * embedded API server and kproxy in userspace mode with the manifests of `examples/demo/`. Every
 * address lies in 127.0.0.0/8, so it needs no privilege and changes nothing on the host; it stops
 * cleanly on Ctrl-C (SIGINT) or SIGTERM.
 */
export function demoCommand(): Command {
  return new Command("demo")
    .description(
      "Start a self-contained demo: three web backends, the embedded API server and kproxy in userspace mode (no privilege needed, nothing changed on the host)",
    )
    .option(
      "--listen <addr:port>",
      "address of the embedded API server (port 0 picks a free one)",
      "127.0.0.1:0",
    )
    .option(
      "--scheduler <name>",
      "load-balancing scheduler of the relays (rr, wrr, lc, ..., mh, random, p2c)",
      "rr",
    )
    .option("--v <n>", "log verbosity (0 prints warnings only, 2 debug)")
    .action(async (flags: DemoFlags) => {
      if (!isSchedulerName(flags.scheduler))
        throw new UsageError(
          `Cannot use --scheduler ${JSON.stringify(flags.scheduler)}: not a scheduler; use rr, wrr, lc, wlc, sed, nq, sh, dh, mh, random or p2c`,
        );
      const logger = createLogger(Number(flags.v ?? 0));
      if (flags.v === undefined && process.env["KPROXY_LOG_LEVEL"] === undefined) logger.level = "warn";
      await runDemo(flags, logger);
    });
}

async function runDemo(flags: DemoFlags, logger: Logger): Promise<void> {
  const { signal: stopping, stopped } = stopSignal();
  const tmp = mkdtempSync(join(tmpdir(), "kproxy-demo-"));
  const backends: Server[] = [];
  let running: RunningProxy | undefined;
  try {
    const port = await startBackends(backends);
    const slices = port === 80 ? join(examplesDir, "endpointslices.yaml") : rewriteSlicePort(tmp, port);
    const config: ProxyConfig = {
      ...defaultProxyConfig,
      mode: "userspace",
      hostnameOverride: "demo-node",
      nodeIPs: ["127.0.0.1"],
      nodePortAddresses: ["127.0.0.0/8"],
      healthzBindAddress: "127.0.0.1:0",
      metricsBindAddress: "127.0.0.1:0",
      userspace: { ...defaultProxyConfig.userspace, scheduler: flags.scheduler },
      apiserver: {
        ...defaultProxyConfig.apiserver,
        listen: flags.listen,
        serviceClusterIPRange: serviceRange,
      },
    };
    try {
      running = await runProxy(config, { logger, signal: stopping });
    } catch (err) {
      if (stopping.aborted) return;
      throw err;
    }
    // The demo creates the example objects itself (as `kubectl create -f examples/demo/` would),
    // after the proxy runs, so that one sees the relays follow the API.
    if (running.apiServer !== undefined)
      await createObjects(running.apiServer.url, [join(examplesDir, "services.yaml"), slices]);
    const ready = await waitForService("127.100.0.10", 8080, 15_000, stopping);
    if (!ready && !stopping.aborted)
      logger.warn("the web Service did not answer within 15 s; the commands below may need a moment");
    if (!stopping.aborted) process.stdout.write(banner(running, port));
    const signal = await stopped;
    process.stdout.write(`\nkproxy demo: ${signal} received, stopping\n`);
  } finally {
    await running?.close();
    await Promise.all(backends.map(closeServer));
    rmSync(tmp, { recursive: true, force: true });
  }
  process.stdout.write("kproxy demo: stopped\n");
}

/** Starts the three web backends on port 80, or on one free port above 1024 when 80 is not ours to take. */
async function startBackends(servers: Server[]): Promise<number> {
  const candidates = [80, ...Array.from({ length: 20 }, () => 20000 + Math.floor(Math.random() * 20000))];
  for (const port of candidates) {
    try {
      for (const pod of pods) servers.push(await listen(pod.name, pod.ip, port));
      return port;
    } catch {
      await Promise.all(servers.splice(0).map(closeServer));
    }
  }
  throw new ProxyError(
    "KPROXY_LISTEN_FAILED",
    "Cannot start the demo backends: no port free on 127.10.0.1-3 (tried 80 and 20 others)",
  );
}

function listen(name: string, ip: string, port: number): Promise<Server> {
  const server = createServer((_req, res) => {
    res.setHeader("content-type", "text/plain");
    res.end(`${name}\n`);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: ip, port, exclusive: true }, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** A copy of the example EndpointSlices with the backends' real port. */
function rewriteSlicePort(dir: string, port: number): string {
  const text = readFileSync(join(examplesDir, "endpointslices.yaml"), "utf8");
  const docs = parseAllDocuments(text).map((doc) => {
    const slice = doc.toJS() as { ports?: { port: number }[] };
    for (const p of slice.ports ?? []) p.port = port;
    return stringify(slice);
  });
  const file = join(dir, "endpointslices.yaml");
  writeFileSync(file, docs.join("---\n"));
  return file;
}

/** Creates every object of the YAML files in the API server. */
async function createObjects(url: string, files: readonly string[]): Promise<void> {
  const client = KubernetesObjectApi.makeApiClient(loadKubeConfig({ kubeconfig: "", master: url }));
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
      const obj = doc.toJS() as KubernetesObject | null;
      if (obj !== null) await client.create(obj);
    }
  }
}

/** Polls the Service until it answers (the first sync may still be applying the manifests). */
async function waitForService(
  ip: string,
  port: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal.aborted) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = request({ host: ip, port, path: "/", timeout: 1000, agent: false }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode === 200));
      });
      req.on("error", () => resolve(false));
      req.on("timeout", () => req.destroy());
      req.end();
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

function banner(running: RunningProxy, port: number): string {
  const api = running.apiServer?.url ?? "(none)";
  const metrics = running.metricsAddress;
  const lines = [
    "",
    "kproxy demo is running: userspace mode, every address on loopback, nothing changed on this host.",
    "",
    `  backends ("pods")  ${pods.map((p) => `${p.name} ${p.ip}:${port}`).join(", ")}`,
    `  API server         ${api}`,
    "  Services           web           ClusterIP 127.100.0.10:8080 -> web1, web2, web3 (round robin)",
    "                     web-nodeport  NodePort  127.0.0.1:30080 (and 127.100.0.11:8080)",
    "                     web-sticky    ClusterIP 127.100.0.12:8080 (sessionAffinity: ClientIP)",
    ...(metrics ? [`  metrics            http://${metrics}/metrics`] : []),
    "",
    "Try:",
    "  for i in 1 2 3 4 5 6; do curl -s http://127.100.0.10:8080; done",
    "  curl -s http://127.0.0.1:30080",
    "  for i in 1 2 3; do curl -s http://127.100.0.12:8080; done   # the same pod every time",
    `  kubectl --server=${api} get services,endpointslices`,
    ...(metrics
      ? [`  curl -s http://${metrics}/metrics | grep kproxy_userspace_endpoint_connections_total`]
      : []),
    "",
    "Press Ctrl-C to stop.",
    "",
  ];
  return lines.join("\n");
}
