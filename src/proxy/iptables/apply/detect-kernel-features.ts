import type { Executor } from "../../../sys/executor.ts";
import type { KernelFeatures } from "../../kernel-features.ts";
import { ctStateInvalidDroppedCounter } from "../render/base-chains.ts";
import { localhostNodePortsAcceptedCounter } from "../render/service-port-rules.ts";
import type { IptablesTools } from "./iptables-tools.ts";

/** `MASQUERADE --random-fully` needs iptables 1.6.2 (upstream `RandomFullyMinVersion`). */
const randomFullyMinVersion = [1, 6, 2] as const;

/** Parses `iptables v1.8.9 (nf_tables)` into [1, 8, 9]. */
export function parseIptablesVersion(text: string): [number, number, number] | undefined {
  const m = /v(\d+)\.(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function atLeast(v: readonly number[], min: readonly number[]): boolean {
  for (let i = 0; i < min.length; i++) {
    const a = v[i] ?? 0;
    const b = min[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/**
 * What the tools support: `--random-fully` from the iptables version, and nfacct counters when the
 * `nfacct` tool can create upstream's two counters (upstream uses netlink; without the objects a
 * rule with `-m nfacct` would fail to load, so they are only used when they exist).
 */
export async function detectKernelFeatures(
  executor: Executor,
  tools: IptablesTools,
): Promise<KernelFeatures> {
  let randomFully = false;
  try {
    const r = await executor.run(tools.iptables, ["--version"], { timeoutMs: 10_000 });
    const v = parseIptablesVersion(r.stdout + r.stderr);
    randomFully = v !== undefined && atLeast(v, randomFullyMinVersion);
  } catch {
    // no such binary: no --random-fully
  }
  let nfacct = false;
  try {
    const counters = [ctStateInvalidDroppedCounter, localhostNodePortsAcceptedCounter];
    for (const name of counters) await executor.run("nfacct", ["add", name], { timeoutMs: 10_000 });
    const list = await executor.run("nfacct", ["list"], { timeoutMs: 10_000 });
    nfacct = list.code === 0 && counters.every((c) => list.stdout.includes(c));
  } catch {
    // no nfacct tool: no counters
  }
  return { randomFully, nfacct };
}
