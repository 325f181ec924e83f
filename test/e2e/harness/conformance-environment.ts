import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProxyMode } from "../../../src/config/proxy-config.ts";
import type {
  ConformanceCase,
  ConformanceStep,
  Expectation,
  SettingsGroup,
} from "../../../src/proxy/testing/conformance-case.ts";
import {
  conformanceFixtures,
  endpointSliceFor,
  sentinelService,
  type ServiceFixture,
} from "../../../src/proxy/testing/conformance-fixtures.ts";
import { conformanceTopology, nodeAddresses } from "../../../src/proxy/testing/conformance-topology.ts";
import { apiClient, type ApiClient } from "./api-client.ts";
import { checkExpectation } from "./check-expectation.ts";
import {
  startKproxy,
  writeKubeconfig,
  type ApiSource,
  type KproxyProcess,
  type KproxySettings,
} from "./kproxy-process.ts";
import { nsExec } from "./netns.ts";
import { buildTopology, type Topology } from "./topology.ts";

/** How long a dynamic step may take to be synced before its case fails. */
const stepDeadlineMs = 20_000;
/** How long kproxy may take to program the fixtures at start-up. */
const convergeDeadlineMs = 60_000;

/** The running cluster of one conformance suite: topology, kproxy on both nodes, the fixtures. */
export interface ConformanceEnvironment {
  readonly mode: ProxyMode;
  readonly topology: Topology;
  readonly api: ApiClient;
  /** Where kproxy logs and rule dumps go (kept when a case failed). */
  readonly logDir: string;
  /** Restarts node1's kproxy with the group's settings, unless it already runs with them. */
  useSettings(group: SettingsGroup): Promise<void>;
  /** Runs a case's expectation and steps; throws with what happened instead. */
  runCase(c: ConformanceCase, expect: Expectation, steps: readonly ConformanceStep[]): Promise<void>;
  close(): Promise<void>;
}

const base: KproxySettings = { masqueradeAll: false, localDetector: true };

/** Builds the topology, starts kproxy on node1 (embedded API server) and node2, creates the fixtures. */
export async function startConformanceEnvironment(
  mode: ProxyMode,
  options: { extraArgs?: readonly string[] } = {},
): Promise<ConformanceEnvironment> {
  const spec = conformanceTopology;
  const logDir = mkdtempSync(join(tmpdir(), `kp-conformance-${mode}-`));
  const token = randomBytes(16).toString("hex");
  const tokenFile = join(logDir, "tokens.csv");
  writeFileSync(tokenFile, `${token},conformance,conformance,"system:masters"\n`, { mode: 0o600 });
  const embedded: ApiSource = {
    embedded: true,
    socketPath: join(logDir, "apiserver.sock"),
    tokenFile,
    dataDir: join(logDir, "data"),
  };
  const [node1, node2] = spec.nodes;
  if (node1 === undefined || node2 === undefined)
    throw new Error("Cannot run conformance: the topology needs two nodes");
  const fixtures = conformanceFixtures(spec);
  const masqueraded = new Set(nodeAddresses(spec));
  const proxies = new Map<string, KproxyProcess>();
  let settings = base;
  let failed = false;

  const topology = await buildTopology(spec);
  const api = apiClient(embedded.socketPath);
  const start = async (node: typeof node1, source: ApiSource, s: KproxySettings): Promise<void> => {
    const proc = await startKproxy(topology.namespaceOf(node.name), node, {
      mode,
      source,
      settings: s,
      logDir,
      ...(options.extraArgs ? { extraArgs: options.extraArgs } : {}),
    });
    proxies.set(node.name, proc);
  };

  const createFixtures = async (): Promise<void> => {
    for (const ns of new Set(fixtures.map((f) => f.key.split("/")[0] ?? "")))
      await api.ensure({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    for (const f of fixtures) {
      await api.ensure(f.service);
      if (f.loadBalancerIPs.length > 0)
        await api.setLoadBalancerIPs(
          f.service.metadata?.namespace ?? "",
          f.service.metadata?.name ?? "",
          f.loadBalancerIPs,
        );
      await api.ensure(endpointSliceFor(f, f.endpoints, spec));
    }
  };

  const sentinel = fixtures.find((f) => f.key === sentinelService) as ServiceFixture;
  const sentinelIP = (sentinel.service["spec"] as { clusterIP: string }).clusterIP;
  const waitForSentinel = async (from: readonly string[]): Promise<void> => {
    for (const name of from) {
      const client = await topology.client(name);
      const deadline = Date.now() + convergeDeadlineMs;
      for (;;) {
        const r = await client.tcp(sentinelIP, 80, { timeoutMs: 1000 });
        if (r.outcome === "answered") break;
        if (Date.now() > deadline)
          throw new Error(
            `Cannot run conformance in ${mode} mode: the sentinel Service ${sentinelIP}:80 does not answer from ${name} after ${convergeDeadlineMs} ms (last: ${JSON.stringify(r)}); kproxy logs in ${logDir}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  };

  const dumpRules = async (label: string): Promise<void> => {
    for (const node of spec.nodes) {
      const ns = topology.namespaceOf(node.name);
      const dumps = await Promise.all([
        nsExec(ns, "iptables-save", []).catch((e: unknown) => String(e)),
        nsExec(ns, "nft", ["list", "ruleset"]).catch((e: unknown) => String(e)),
        nsExec(ns, "conntrack", ["-L"]).catch((e: unknown) => String(e)),
      ]);
      writeFileSync(join(logDir, `rules-${node.name}-${label}.txt`), dumps.join("\n\n"));
    }
  };

  try {
    await start(node1, embedded, base);
    const url = new URL(proxies.get(node1.name)?.apiServerURL ?? `http://${node1.ip}:6443`);
    url.hostname = node1.ip;
    const kubeconfig = join(logDir, "node2.kubeconfig");
    writeKubeconfig(kubeconfig, url.origin, token);
    await createFixtures();
    await start(node2, { embedded: false, kubeconfig }, base);
    await waitForSentinel(["node1", "n1-client", "n2-client"]);
  } catch (err) {
    for (const p of proxies.values()) await p.stop();
    await topology.close().catch(() => undefined);
    if (err instanceof Error) err.message += `\n(kproxy logs kept in ${logDir})`;
    throw err;
  }

  return {
    mode,
    topology,
    api,
    logDir,
    async useSettings(group) {
      const wanted: KproxySettings = {
        masqueradeAll: group.masqueradeAll,
        localDetector: group.localDetector,
      };
      if (wanted.masqueradeAll === settings.masqueradeAll && wanted.localDetector === settings.localDetector)
        return;
      await proxies.get(node1.name)?.stop();
      await start(node1, embedded, wanted);
      settings = wanted;
      // The store survives restarts (--data-dir); creating again is a no-op then, and a repair otherwise.
      await createFixtures();
      await waitForSentinel(["node1", "n1-client"]);
    },
    async runCase(c, expect, steps) {
      const client = await topology.client(c.from);
      const fixture = fixtures.find((f) => f.key === c.service);
      let problem = await checkExpectation(client, c, { expect, nodeAddresses: masqueraded });
      for (const [i, step] of steps.entries()) {
        if (problem !== undefined) break;
        if (fixture === undefined) throw new Error(`Cannot change endpoints: no fixture ${c.service}`);
        await api.apply(endpointSliceFor(fixture, step.setEndpoints, spec));
        const deadline = Date.now() + stepDeadlineMs;
        for (;;) {
          problem = await checkExpectation(client, c, { expect: step.expect, nodeAddresses: masqueraded });
          if (problem === undefined || Date.now() > deadline) break;
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        if (problem !== undefined)
          problem = `after step ${i + 1} (endpoints → [${step.setEndpoints.join(", ")}]), within ${stepDeadlineMs} ms: ${problem}`;
      }
      if (problem !== undefined) {
        failed = true;
        const label = c.name.replace(/[^A-Za-z0-9]+/g, "-").slice(0, 80);
        await dumpRules(label).catch(() => undefined);
        throw new Error(
          `${c.from} → ${c.to.kind} ${c.to.address}:${c.port}/${c.protocol}: ${problem}${c.note ? `\nnote: ${c.note}` : ""}\nkproxy logs and rule dumps: ${logDir}`,
        );
      }
    },
    async close() {
      const problems: string[] = [];
      for (const p of [...proxies.values()].reverse()) {
        await p.stop();
        const code = await p.process.exited;
        if (code !== 0) problems.push(`kproxy on ${p.node} exited with ${code}; log: ${p.logFile}`);
      }
      // kproxy leaves its rules in place on exit, as upstream does; they go with the namespaces.
      await topology.close();
      if (!failed && problems.length === 0) rmSync(logDir, { recursive: true, force: true });
      if (problems.length > 0) throw new Error(problems.join("\n"));
    },
  };
}
