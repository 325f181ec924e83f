import { RuleApplyError } from "../../../errors.ts";
import type { Executor } from "../../../sys/executor.ts";

/** How long one `nft -f` may take before it is killed (the upstream layout at 20k services takes minutes). */
export const nftTimeoutMs = 15 * 60_000;

/**
 * Runs `text` as one `nft -f -` transaction: all of it or nothing. On failure throws
 * RuleApplyError carrying the lines nft complained about; the kernel keeps the previous rules.
 */
export async function runNft(executor: Executor, text: string): Promise<void> {
  const result = await executor.run("nft", ["-f", "-"], { input: text, timeoutMs: nftTimeoutMs });
  if (result.code === 0) return;
  throw new RuleApplyError("nft -f", result.stderr, failingLines(text, result.stderr));
}

/** The input lines named in nft's errors (`/dev/stdin:LINE:COL-COL: Error: …`). */
export function failingLines(text: string, stderr: string): string[] {
  const lines = text.split("\n");
  const numbers = new Set<number>();
  for (const m of stderr.matchAll(/^(?:\/dev\/stdin|-):(\d+):/gm)) numbers.add(Number(m[1]));
  return [...numbers].sort((a, b) => a - b).map((n) => `${n}: ${lines[n - 1] ?? ""}`);
}
