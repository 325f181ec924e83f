import { RuleApplyError } from "../../errors.ts";
import type { IPFamily } from "../../model/protocol.ts";
import type { Executor } from "../../sys/executor.ts";
import type { Logger } from "../../sys/logger.ts";
import { portalChains, portalJumps } from "./portal-rules.ts";

/** Writes and removes the portal rules of one IP family; the only side effect on netfilter. */
export interface PortalApplier {
  /**
   * Writes the payload with one `iptables-restore --noflush`, skipped when unchanged unless
   * `force` (full syncs re-assert the rules and jumps, in case someone flushed them).
   */
  apply(payload: string, force?: boolean): Promise<void>;
  /** Removes the jumps and kproxy's portal chains; safe when nothing is installed. */
  cleanup(): Promise<void>;
}

function tools(family: IPFamily): { iptables: string; restore: string } {
  return family === "IPv4"
    ? { iptables: "iptables", restore: "iptables-restore" }
    : { iptables: "ip6tables", restore: "ip6tables-restore" };
}

/** Creates the applier for `family`. */
export function createPortalApplier(executor: Executor, family: IPFamily, logger: Logger): PortalApplier {
  const { iptables, restore } = tools(family);
  let written: string | undefined;
  let jumpsEnsured = false;

  async function ensureJumps(): Promise<void> {
    for (const jump of portalJumps) {
      const rule = [
        ...jump.match,
        "-m",
        "comment",
        "--comment",
        "kproxy userspace portals",
        "-j",
        jump.chain,
      ];
      const check = await executor.run(iptables, ["-w", "-t", "nat", "-C", jump.from, ...rule]);
      if (check.code === 0) continue;
      const insert = await executor.run(iptables, ["-w", "-t", "nat", "-I", jump.from, ...rule]);
      if (insert.code !== 0) throw new RuleApplyError(iptables, insert.stderr);
    }
  }

  return {
    async apply(payload, force = false) {
      if (payload === written && jumpsEnsured && !force) return;
      if (force) jumpsEnsured = false;
      // Chains first (the restore declares them), then the jumps that need them to exist.
      const result = await executor.run(restore, ["-w", "--noflush"], { input: payload });
      if (result.code !== 0) {
        written = undefined;
        const lineNo = /line:? (\d+)/i.exec(result.stderr)?.[1];
        const failing = lineNo === undefined ? [] : [payload.split("\n")[Number(lineNo) - 1] ?? ""];
        throw new RuleApplyError(restore, result.stderr, failing);
      }
      written = payload;
      if (!jumpsEnsured) {
        await ensureJumps();
        jumpsEnsured = true;
      }
    },
    async cleanup() {
      for (const jump of portalJumps) {
        const rule = [
          ...jump.match,
          "-m",
          "comment",
          "--comment",
          "kproxy userspace portals",
          "-j",
          jump.chain,
        ];
        // Delete every copy (a crash between check and insert could have left two).
        for (let i = 0; i < 10; i++) {
          const del = await executor.run(iptables, ["-w", "-t", "nat", "-D", jump.from, ...rule]);
          if (del.code !== 0) break;
        }
      }
      for (const chain of Object.values(portalChains)) {
        const flush = await executor.run(iptables, ["-w", "-t", "nat", "-F", chain]);
        if (flush.code !== 0) continue; // not installed
        const del = await executor.run(iptables, ["-w", "-t", "nat", "-X", chain]);
        if (del.code !== 0) logger.warn({ chain, stderr: del.stderr.trim() }, "cannot delete portal chain");
      }
      written = undefined;
      jumpsEnsured = false;
    },
  };
}
