import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ProxyMode } from "../../../src/config/proxy-config.ts";
import { proxierFactories } from "../../../src/proxy/mode-registry.ts";
import {
  conformanceCases,
  resolveCase,
  settingsGroups,
} from "../../../src/proxy/testing/conformance-cases.ts";
import { inCI, suiteSkip } from "../../support/requirements.ts";
import { startConformanceEnvironment, type ConformanceEnvironment } from "./conformance-environment.ts";
import { topologyRequirement } from "./requirements.ts";

/** Tools each mode needs beyond `ip` and `sysctl` (the dumps on failure use them too). */
const modeCommands: Record<ProxyMode, readonly string[]> = {
  iptables: ["iptables", "iptables-save", "iptables-restore", "conntrack"],
  nftables: ["nft", "conntrack"],
  userspace: ["iptables", "iptables-save", "iptables-restore"],
  ipvs: ["ipvsadm", "ipset", "iptables", "conntrack"],
};

export interface ConformanceSuiteOptions {
  /** Run only these settings groups (default: all; `base` holds the suite's own cases). */
  readonly groups?: readonly string[];
  /** Extra `kproxy run` flags for both nodes (e.g. `--nftables-layout upstream`). */
  readonly extraArgs?: readonly string[];
  /** Cases of a group run this many at a time (default 4). */
  readonly concurrency?: number;
  /** Suite title suffix (to tell two runs of one mode apart). */
  readonly label?: string;
}

/**
 * Registers the conformance suite for `mode`: one topology and one kproxy per node for the whole
 * suite (expensive to build), a `describe` per settings group (kproxy on node1 restarted with the
 * group's settings), and one test per case the mode supports. Cases a mode does not support get
 * no test; their reasons are printed by a test of their own with `t.diagnostic`, so that CI's
 * "no skipped tests" rule still catches real skips (see `conformance-cases.ts`).
 */
export function runConformanceSuite(mode: ProxyMode, options: ConformanceSuiteOptions = {}): void {
  const built =
    proxierFactories[mode] !== undefined
      ? undefined
      : `${mode} mode is not built (not in src/proxy/mode-registry.ts)`;
  const reason = topologyRequirement(modeCommands[mode]) ?? built;
  const cases = conformanceCases();
  const groups = settingsGroups().filter(
    (g) => options.groups === undefined || options.groups.includes(g.name),
  );
  const title = `conformance: ${mode}${options.label ? ` (${options.label})` : ""}`;

  describe(title, suiteSkip(reason), () => {
    let env: ConformanceEnvironment | undefined;
    before(async () => {
      if (reason !== undefined && inCI) throw new Error(`Cannot run the conformance suite in CI: ${reason}`);
      env = await startConformanceEnvironment(
        mode,
        options.extraArgs ? { extraArgs: options.extraArgs } : {},
      );
    });
    after(async () => {
      await env?.close();
    });

    const exceptions = cases
      .filter((c) => groups.some((g) => g.name === c.settings))
      .map((c) => ({ c, resolved: resolveCase(c, mode) }));
    const notRun = exceptions.flatMap(({ c, resolved }) =>
      resolved.run ? [] : [{ c, reason: resolved.reason }],
    );
    test(`per-mode exceptions: ${notRun.length} case(s) not run in ${mode} mode, each with its reason`, (t) => {
      // One line per reason and settings group, naming the cases, so the list stays readable.
      const byReason = new Map<string, string[]>();
      for (const { c, reason: why } of notRun) {
        assert.ok(why.trim().length > 0, `${c.name} has no reason`);
        const key = `[${c.settings}] ${why}`;
        byReason.set(key, [...(byReason.get(key) ?? []), c.name]);
      }
      for (const [key, names] of byReason) {
        const group = key.slice(1, key.indexOf("]"));
        const all = names.length === cases.filter((c) => c.settings === group).length;
        t.diagnostic(
          `not run in ${mode} mode ${key}: ${all ? `all ${names.length} cases of this settings group` : names.join("; ")}`,
        );
      }
    });

    for (const group of groups) {
      // A group with nothing to run in this mode would only cost a kproxy restart.
      if (!exceptions.some(({ c, resolved }) => c.settings === group.name && resolved.run)) continue;
      describe(`settings: ${group.name}`, { concurrency: options.concurrency ?? 4 }, () => {
        before(async () => {
          await env?.useSettings(group);
        });
        for (const { c, resolved } of exceptions) {
          if (c.settings !== group.name || !resolved.run) continue;
          test(c.name, async () => {
            assert.ok(env, "the conformance environment did not start");
            await env.runCase(c, resolved.expect, resolved.then);
          });
        }
      });
    }
  });
}
