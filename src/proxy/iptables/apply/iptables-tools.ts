import type { IPFamily } from "../../../model/protocol.ts";
import type { Executor } from "../../../sys/executor.ts";
import type { Logger } from "../../../sys/logger.ts";

/** The two iptables back ends: the nf_tables-based `iptables-nft` and the old x_tables `iptables-legacy`. */
export type IptablesBackend = "nft" | "legacy";

/** The binaries of one back end and family. */
export interface IptablesTools {
  readonly backend: IptablesBackend;
  readonly family: IPFamily;
  /** e.g. `iptables-nft-restore`, `ip6tables-legacy-restore`. */
  readonly restore: string;
  readonly save: string;
  /** e.g. `iptables-nft` (for `--version`). */
  readonly iptables: string;
}

/** The binaries of a back end for a family. */
export function iptablesTools(backend: IptablesBackend, family: IPFamily): IptablesTools {
  const base = family === "IPv4" ? "iptables" : "ip6tables";
  return {
    backend,
    family,
    restore: `${base}-${backend}-restore`,
    save: `${base}-${backend}-save`,
    iptables: `${base}-${backend}`,
  };
}

// Chains kubelet (and kube-proxy) create in the mangle table to tell wrappers which back end the
// system uses.
const hintChains = /^:(KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY) /m;

async function saveText(executor: Executor, file: string, args: readonly string[]): Promise<string> {
  try {
    const r = await executor.run(file, args, { timeoutMs: 10_000 });
    return r.code === 0 ? r.stdout : "";
  } catch {
    return ""; // the binary is missing: that back end has no rules
  }
}

function ruleCount(text: string): number {
  let n = 0;
  for (const line of text.split("\n")) if (line.startsWith("-")) n++;
  return n;
}

/**
 * Decides which back end the node uses, the way upstream's `iptables-wrapper` does (kube-proxy
 * must write where kubelet and the CNI plugin write, or the two rule sets would not see each
 * other): a `KUBE-IPTABLES-HINT`/`KUBE-KUBELET-CANARY` chain in mangle decides; otherwise the back
 * end holding more rules; on a tie (e.g. an empty network namespace), the system's default
 * `iptables` (`iptables --version` prints `(nf_tables)` or `(legacy)`). Only plain `*-save` calls
 * are made: `-t <table>` would create the table as a side effect.
 */
export async function detectIptablesBackend(executor: Executor, logger?: Logger): Promise<IptablesBackend> {
  const decide = (backend: IptablesBackend, why: string): IptablesBackend => {
    logger?.info({ backend, why }, "iptables back end detected");
    return backend;
  };
  const saved: Record<IptablesBackend, string[]> = { legacy: [], nft: [] };
  for (const backend of ["legacy", "nft"] as const) {
    for (const family of ["IPv6", "IPv4"] as const) {
      saved[backend].push(await saveText(executor, iptablesTools(backend, family).save, []));
    }
  }
  for (const backend of ["legacy", "nft"] as const) {
    if (saved[backend].some((t) => hintChains.test(t))) return decide(backend, "a hint chain exists");
  }
  const legacy = saved.legacy.reduce((n, t) => n + ruleCount(t), 0);
  const nft = saved.nft.reduce((n, t) => n + ruleCount(t), 0);
  if (legacy !== nft) return decide(legacy > nft ? "legacy" : "nft", `rules: legacy ${legacy}, nft ${nft}`);
  let version = "";
  try {
    version = (await executor.run("iptables", ["--version"], { timeoutMs: 10_000 })).stdout;
  } catch {
    // no iptables alternative installed: fall through to nft
  }
  return decide(
    version.includes("legacy") ? "legacy" : "nft",
    `system default: ${version.trim() || "unknown"}`,
  );
}
