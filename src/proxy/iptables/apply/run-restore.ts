import { RuleApplyError } from "../../../errors.ts";
import type { Executor } from "../../../sys/executor.ts";
import type { IptablesTools } from "./iptables-tools.ts";

/**
 * iptables-nft 1.8.x collects the chains a `--noflush` restore names in a sorted list, inserting
 * each with a linear scan: a payload declaring 11,000 chains takes 6 s, one with 110,000 more than
 * five minutes (measured, see README.md). One command without a chain makes it fetch every chain
 * instead; `-Z` (zero counters) is the only such command without lasting effect on rules. It costs
 * one full cache fetch, so it is used for large payloads only.
 */
export const nftChainListThreshold = 2000;

/** Inserts `-Z` after every table header, for large payloads on the nft back end (see above). */
export function withWholeTableCache(payload: string): string {
  return payload.replace(/^(\*\w+)\n/gm, "$1\n-Z\n");
}

function countChainDeclarations(payload: string, limit: number): number {
  let n = 0;
  let at = payload.indexOf("\n:");
  while (at >= 0 && n <= limit) {
    n++;
    at = payload.indexOf("\n:", at + 2);
  }
  return n;
}

/** How long a restore waits for the xtables lock. */
export const xtablesLockWaitSeconds = 60;

/** The 1-based line number iptables-restore names in its error output, if any. */
export function failedLineNumber(stderr: string): number | undefined {
  const m = /line:? (\d+)(?: failed)?/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/** What one restore did. */
export interface RestoreResult {
  readonly ms: number;
  readonly bytes: number;
  /** True when `-Z` was added (see `withWholeTableCache`). */
  readonly wholeTableCache: boolean;
}

export interface RestoreOptions {
  readonly timeoutMs?: number;
  /** Test seam: rewrites the payload before it is written (e.g. to simulate a rule the kernel rejects). */
  readonly transformPayload?: (payload: string) => string;
}

/**
 * Runs `iptables-restore --noflush` with the payload on stdin: the only way kproxy writes rules.
 * A restore is atomic per table; on failure it throws RuleApplyError carrying the line the tool
 * named (tables committed before the failing one stay written, which the applier accounts for).
 */
export async function runRestore(
  executor: Executor,
  options: RestoreOptions & { readonly tools: IptablesTools; readonly payload: string },
): Promise<RestoreResult> {
  const tools = options.tools;
  const payload =
    options.transformPayload === undefined ? options.payload : options.transformPayload(options.payload);
  const wholeTableCache =
    tools.backend === "nft" && countChainDeclarations(payload, nftChainListThreshold) > nftChainListThreshold;
  const input = wholeTableCache ? withWholeTableCache(payload) : payload;
  // -w: wait for the xtables lock instead of failing while another tool holds it. The lock is one
  // file for the whole host (every network namespace), and a legacy restore of a large table
  // holds it for seconds; upstream's 5 s is too short next to such writers.
  const args = ["--noflush", "-w", String(xtablesLockWaitSeconds)];
  const start = performance.now();
  const r = await executor.run(tools.restore, args, { input, timeoutMs: options.timeoutMs ?? 600_000 });
  const ms = performance.now() - start;
  if (r.code !== 0) {
    const n = failedLineNumber(r.stderr);
    const line = n === undefined ? undefined : input.split("\n", n)[n - 1];
    throw new RuleApplyError(
      `${tools.restore} --noflush`,
      r.stderr || `exit code ${r.code ?? "none"}`,
      line === undefined ? [] : [line],
    );
  }
  return { ms, bytes: input.length, wholeTableCache };
}
