// The iptables proxier against the real kernel, with both back ends, in throwaway network
// namespaces: partial syncs write only what changed (Must-show 3), a flushed table comes back on
// the next sync, and cleanup leaves iptables-save as it was (Must-show 5).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { defaultProxyConfig } from "../../src/config/defaults.ts";
import type { ProxyConfig } from "../../src/config/proxy-config.ts";
import type { ProxyState } from "../../src/model/proxy-state.ts";
import type { IptablesBackend } from "../../src/proxy/iptables/apply/iptables-tools.ts";
import { formatRepairPayload } from "../../src/proxy/iptables/apply/repair-payload.ts";
import {
  createIptablesProxierWith,
  type IptablesProxier,
} from "../../src/proxy/iptables/iptables-proxier.ts";
import { buildIptablesRuleSet } from "../../src/proxy/iptables/render/build-iptables-rule-set.ts";
import { endpointChainName, servicePortChainNames } from "../../src/proxy/iptables/render/chain-names.ts";
import {
  createNetns,
  netnsExecutor,
  withoutSaveComments,
  type TestNetns,
} from "../../src/proxy/iptables/testing/netns.ts";
import { loadConformanceFixture } from "../../src/proxy/iptables/testing/render-fixtures.ts";
import {
  syntheticEndpoint,
  syntheticServicePort,
  syntheticState,
  withMovedEndpoint,
} from "../../src/proxy/iptables/testing/synthetic-state.ts";
import type { KernelFeatures } from "../../src/proxy/kernel-features.ts";
import { createExecutor } from "../../src/sys/executor.ts";
import { systemClock } from "../../src/sys/clock.ts";
import { silentLogger } from "../../src/sys/logger.ts";
import { missingRequirement, suiteSkip } from "../support/requirements.ts";

const requirement = missingRequirement({
  root: true,
  commands: [
    "ip",
    "iptables-nft-restore",
    "iptables-legacy-restore",
    "iptables-nft-save",
    "iptables-legacy-save",
  ],
});
const repoRoot = join(import.meta.dirname, "..", "..");

const userRules = `*filter
:USER-CHAIN - [0:0]
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A FORWARD -j USER-CHAIN
-A OUTPUT -d 203.0.113.9/32 -j REJECT --reject-with icmp-port-unreachable
-A USER-CHAIN -s 192.0.2.0/24 -j DROP
COMMIT
*nat
-A POSTROUTING -s 198.51.100.0/24 -j MASQUERADE
COMMIT
`;

for (const backend of ["legacy", "nft"] as const satisfies readonly IptablesBackend[]) {
  describe(`iptables proxier on the ${backend} back end`, suiteSkip(requirement), () => {
    let ns: TestNetns;
    let proxier: IptablesProxier;
    let before_: string;
    let features: KernelFeatures;
    const save = (): string => ns.exec(`iptables-${backend}-save`, []);
    const config: ProxyConfig = { ...defaultProxyConfig, clusterCIDRs: ["10.244.0.0/16"] };
    const sync = (state: ProxyState, full: boolean, changed: string[] = []): Promise<void> =>
      proxier.sync({ states: [state], full, changedServices: new Set(changed) });
    const assertKernelHolds = (state: ProxyState): void => {
      const repair = formatRepairPayload(buildIptablesRuleSet(state, { config, features }), save());
      assert.equal(
        repair.text,
        "",
        `the kernel should hold exactly the desired rules; repair needed:\n${repair.text.slice(0, 3000)}`,
      );
    };

    before(async () => {
      if (requirement !== undefined) throw new Error(`Cannot run: ${requirement}`);
      ns = createNetns("ipt");
      ns.exec(`iptables-${backend}-restore`, ["--noflush", "-w", "60"], userRules);
      before_ = withoutSaveComments(save());
      proxier = await createIptablesProxierWith(
        {
          config,
          executor: netnsExecutor(createExecutor(), ns.name),
          logger: silentLogger(),
          metrics: new Registry(),
          clock: systemClock,
        },
        { backend },
      );
      features = proxier.features;
    });
    after(() => ns?.delete());

    it("writes upstream's overall rules with their top-level jumps, and reads them back unchanged", async () => {
      const fixture = loadConformanceFixture("iptables-overall");
      await proxier.sync({ states: [fixture.state], full: true, changedServices: new Set() });
      const report = proxier.lastReports.get("IPv4");
      assert.equal(report?.kind, "audit");
      const saved = save();
      for (const jump of [
        /^-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES$/m,
        /^-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES$/m,
        /^-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING$/m,
        /^-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD$/m,
        /^-A INPUT -j KUBE-FIREWALL$/m,
      ]) {
        assert.match(saved, jump);
      }
      assert.match(saved, /^-A KUBE-SVC-NUKIZ6OKUXPJNT4C .*--rcheck --seconds 10800 --reap/m);
      assertKernelHolds(fixture.state);
      // A second full sync finds nothing to do but the canary probe.
      await proxier.sync({ states: [fixture.state], full: true, changedServices: new Set() });
      assert.equal(proxier.lastReports.get("IPv4")?.kind, "diff");
      assert.equal(proxier.lastReports.get("IPv4")?.servicePorts, 0);
    });

    it("Must-show 3: a change to one endpoint among 1,000 services rewrites only that service's chains", async () => {
      const state = syntheticState({ services: 1000, endpointsPerService: 10, nodePortEvery: 10 });
      await sync(state, true);
      assertKernelHolds(state);

      const moved = withMovedEndpoint(state, 500, 3, 1);
      const svc = syntheticServicePort(500);
      await sync(moved, false, [svc.serviceKey]);
      const report = proxier.lastReports.get("IPv4");
      assert.equal(report?.kind, "diff");
      const names = servicePortChainNames(svc.key, svc.protocol);
      const oldSep = endpointChainName(svc.key, "TCP", syntheticEndpoint(500, 3).key);
      const newSep = endpointChainName(svc.key, "TCP", syntheticEndpoint(500, 3, 8081).key);
      const declared = (report?.payload ?? "").split("\n").filter((l) => l.startsWith(":"));
      assert.deepEqual(
        declared.sort(),
        [`:${names.cluster} - [0:0]`, `:${newSep} - [0:0]`, `:${oldSep} - [0:0]`].sort(),
      );
      assert.doesNotMatch(report?.payload ?? "", /^:KUBE-SERVICES /m, "KUBE-SERVICES is not rewritten");
      const foreign = (report?.payload ?? "")
        .split("\n")
        .filter((l) => /bench\/svc-\d+/.test(l) && !l.includes("bench/svc-500:"));
      assert.deepEqual(foreign, []);
      assert.ok((report?.payload.length ?? 0) < 4000, `payload is small:\n${report?.payload}`);
      assertKernelHolds(moved);

      // Someone flushes both tables: the next sync notices through the canary and restores all.
      ns.exec(`iptables-${backend}`, ["-w", "60", "-t", "nat", "-F"]);
      ns.exec(`iptables-${backend}`, ["-w", "60", "-t", "filter", "-F"]);
      const again = withMovedEndpoint(moved, 7, 0, 1);
      await sync(again, false, ["bench/svc-7"]);
      assert.equal(proxier.lastReports.get("IPv4")?.canaryTripped, true);
      assert.equal(proxier.lastReports.get("IPv4")?.kind, "audit");
      assertKernelHolds(again);
      // A flush with deleted chains, followed by a periodic full sync without changes.
      ns.exec(`iptables-${backend}`, ["-w", "60", "-t", "nat", "-F"]);
      ns.exec(`iptables-${backend}`, ["-w", "60", "-t", "nat", "-X"]);
      await sync(again, true);
      assert.equal(proxier.lastReports.get("IPv4")?.canaryTripped, true);
      assertKernelHolds(again);
    });

    it("Must-show 5: `kproxy cleanup` leaves iptables-save exactly as it was before kproxy started", () => {
      // The user's rules were flushed by the test above; put them back as they were.
      ns.exec(
        `iptables-${backend}-restore`,
        ["--noflush", "-w", "60"],
        userRules
          .replace("*filter\n", "*filter\n-F INPUT\n-F FORWARD\n-F OUTPUT\n-F USER-CHAIN\n")
          .replace("*nat\n", "*nat\n-F POSTROUTING\n"),
      );
      assert.match(save(), /KUBE-SERVICES/);
      const out = execFileSync(
        "ip",
        [
          "netns",
          "exec",
          ns.name,
          process.execPath,
          join(repoRoot, "src/main.ts"),
          "cleanup",
          "--proxy-mode",
          "iptables",
        ],
        {
          env: { ...process.env, KPROXY_LOG_LEVEL: "silent" },
        },
      ).toString();
      assert.match(out, /iptables: done/);
      assert.equal(withoutSaveComments(save()), before_);
    });
  });
}

describe("iptables proxier with IPv6 (ip6tables)", suiteSkip(requirement), () => {
  let ns: TestNetns;
  after(() => ns?.delete());

  it("writes and reads back IPv6 rules with both back ends, and cleans them up", async () => {
    if (requirement !== undefined) throw new Error(`Cannot run: ${requirement}`);
    ns = createNetns("ipt6");
    const config: ProxyConfig = { ...defaultProxyConfig, clusterCIDRs: ["fd00:10:244::/48"] };
    const base = syntheticState({ services: 3, endpointsPerService: 2, nodePortEvery: 1 });
    const services = new Map(
      [...base.services].map(([k, s], i) => [
        k,
        { ...s, family: "IPv6" as const, clusterIP: `fd00:10:96::${i + 1}` },
      ]),
    );
    const endpoints = new Map(
      [...base.endpoints].map(([k, eps], i) => [
        k,
        eps.map((e, j) => ({ ...e, ip: `fd00:10:244::${i}:${j}`, key: `[fd00:10:244::${i}:${j}]:8080` })),
      ]),
    );
    const state: ProxyState = {
      ...base,
      family: "IPv6",
      services,
      endpoints,
      node: { ...base.node, nodeIPs: ["fd00::2"], localAddresses: ["::1/128", "fd00::2/64"] },
    };
    for (const backend of ["legacy", "nft"] as const) {
      const save = (): string => ns.exec(`ip6tables-${backend}-save`, []);
      ns.exec(
        `ip6tables-${backend}-restore`,
        ["--noflush", "-w", "60"],
        "*filter\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n*nat\n-A POSTROUTING -s fd00:99::/64 -j MASQUERADE\nCOMMIT\n",
      );
      const before_ = withoutSaveComments(save());
      const proxier = await createIptablesProxierWith(
        {
          config,
          executor: netnsExecutor(createExecutor(), ns.name),
          logger: silentLogger(),
          metrics: new Registry(),
          clock: systemClock,
        },
        { backend },
      );
      await proxier.sync({ states: [state], full: true, changedServices: new Set() });
      const saved = save();
      assert.match(saved, /-j DNAT --to-destination \[fd00:10:244::1:1\]:8080$/m);
      assert.match(saved, /--dst-type LOCAL -m comment --comment .*-j KUBE-NODEPORTS|! -d ::1\/128/);
      const repair = formatRepairPayload(
        buildIptablesRuleSet(state, { config, features: proxier.features }),
        saved,
      );
      assert.equal(repair.text, "", `IPv6 rules read back unchanged; repair needed:\n${repair.text}`);
      await proxier.cleanup();
      assert.equal(withoutSaveComments(save()), before_);
    }
  });
});
