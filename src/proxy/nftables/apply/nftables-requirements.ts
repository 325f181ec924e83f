import { release } from "node:os";
import { ProxyError } from "../../../errors.ts";
import type { Executor } from "../../../sys/executor.ts";

/** Oldest kernel and nft that nftables mode supports (upstream's limits). */
export const minKernelVersion: readonly [number, number] = [5, 13];
export const minNftVersion: readonly [number, number, number] = [1, 0, 1];

/** Versions found on this machine. */
export interface NftablesVersions {
  readonly kernel: string;
  readonly nft: string;
}

/**
 * Checks that the kernel and `nft` are new enough for the rules kproxy writes (verdict maps over
 * concatenations with `th dport`, `reject` in filter chains, `fib`), and returns their versions.
 * Throws ProxyError KPROXY_MODE_UNAVAILABLE naming what is too old and what is needed.
 */
export async function checkNftablesRequirements(
  executor: Executor,
  options: { kernelRelease?: string } = {},
): Promise<NftablesVersions> {
  const kernel = options.kernelRelease ?? release();
  const kv = numbers(kernel);
  if (compare(kv, minKernelVersion) < 0) {
    throw new ProxyError(
      "KPROXY_MODE_UNAVAILABLE",
      `Cannot use nftables mode: kernel ${kernel} is too old; ${minKernelVersion.join(".")} or later is needed (or use --proxy-mode iptables)`,
    );
  }
  let out: string;
  try {
    const result = await executor.run("nft", ["--version"]);
    if (result.code !== 0) throw new Error(result.stderr.trim() || `exit code ${result.code}`);
    out = result.stdout;
  } catch (err) {
    throw new ProxyError(
      "KPROXY_MODE_UNAVAILABLE",
      `Cannot use nftables mode: cannot run nft (${err instanceof Error ? err.message : String(err)}); install the nftables package, ${minNftVersion.join(".")} or later`,
      { cause: err },
    );
  }
  const m = /v(\d+\.\d+(?:\.\d+)?)/.exec(out);
  const nft = m?.[1] ?? "";
  if (m === null || compare(numbers(nft), minNftVersion) < 0) {
    throw new ProxyError(
      "KPROXY_MODE_UNAVAILABLE",
      `Cannot use nftables mode: nft ${nft || JSON.stringify(out.trim())} is too old; ${minNftVersion.join(".")} or later is needed`,
    );
  }
  return { kernel, nft };
}

function numbers(version: string): number[] {
  return (/^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(version) ?? []).slice(1).map((n) => Number(n ?? 0));
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
