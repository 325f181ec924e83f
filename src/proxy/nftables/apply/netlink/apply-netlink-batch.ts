import { constants } from "node:os";
import { RuleApplyError } from "../../../../errors.ts";
import { compileNftBatch } from "./compile-nft-batch.ts";
import type { NetfilterSocket } from "./netfilter-socket.ts";

let nextSeq = 1;

/**
 * Sends a partial-sync transaction as one nf_tables netlink batch. Returns false, having sent
 * nothing, when the text has commands the batch compiler does not know (the caller uses
 * `nft -f`). The kernel applies a batch atomically: on any error nothing changed, and
 * RuleApplyError names the commands the kernel refused.
 */
export function applyNetlinkBatch(socket: NetfilterSocket, text: string): boolean {
  const batch = compileNftBatch(text, nextSeq);
  if (batch === undefined) return false;
  nextSeq = (nextSeq + batch.commands.size + 2) % 0x7fffffff || 1;
  const reply = socket.transact(batch.bytes);
  if (reply.errors.length === 0 && reply.acks === batch.commands.size) return true;
  const failing = reply.errors.map(
    (e) => `${errnoName(e.errno)}: ${batch.commands.get(e.seq) ?? `message ${e.seq}`}`,
  );
  const summary =
    reply.errors.length > 0
      ? `the kernel refused ${reply.errors.length} of ${batch.commands.size} commands`
      : `only ${reply.acks} of ${batch.commands.size} commands were acknowledged`;
  throw new RuleApplyError("netlink (nf_tables batch)", summary, failing);
}

function errnoName(errno: number): string {
  const name = Object.entries(constants.errno).find(([, v]) => v === errno)?.[0];
  return name ?? `errno ${errno}`;
}
