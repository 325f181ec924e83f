import type { Endpoint } from "../../../model/endpoint.ts";
import { endpointMapName, endpointRanges, endpointSlots } from "./endpoint-blocks.ts";
import type { NftElement } from "./nft-ruleset.ts";
import type { RenderContext } from "./render-context.ts";

/**
 * The random choice among endpoint chains (upstream layout, and kproxy's ports with session
 * affinity). Upstream: one anonymous `numgen … vmap { … }` per service, which makes kernel loading
 * super-linear in the number of services. kproxy: plain rules, the i-th taken with probability
 * 1/(n-i) of what reaches it, so each endpoint gets 1/n.
 */
export function endpointChoiceRules(chains: readonly string[], ctx: RenderContext): string[] {
  if (ctx.layout === "upstream") {
    const entries = chains.map((chain, i) => `${i} : goto ${chain}`).join(" , ");
    return [`numgen random mod ${chains.length} vmap { ${entries} }`];
  }
  const n = chains.length;
  return chains.map((chain, i) =>
    i === n - 1 ? `goto ${chain}` : `numgen random mod ${n - i} 0 goto ${chain}`,
  );
}

/**
 * The kproxy layout's choice for `chain`: one rule that draws a number of the chain's block and
 * DNATs to what the endpoint map holds for it, and the map elements that split the block among
 * `endpoints`. The rule depends only on the chain; the endpoints are all in the elements. No
 * endpoint: no element, so the lookup fails and the chain returns.
 */
export function endpointMapChoice(
  chain: string,
  endpoints: readonly Endpoint[],
  protocol: string,
  ctx: RenderContext,
): { rule: string; elements: NftElement[] } {
  const block = ctx.blocks.blockOf(chain);
  const map = endpointMapName(protocol, block.shard);
  const rule = `meta l4proto ${protocol} dnat ${ctx.ipX} to numgen random mod ${endpointSlots} offset ${block.offset} map @${map}`;
  const elements = endpointRanges(
    block.offset,
    endpoints.map((ep) => `${ep.ip} . ${ep.port}`),
  ).map((r) => ({ set: map, key: r.key, rest: ` : ${r.data}` }));
  return { rule, elements };
}
