import type { ProxyConfig } from "../../../config/proxy-config.ts";
import type { ProxyState } from "../../../model/proxy-state.ts";
import type { KernelFeatures } from "../../kernel-features.ts";
import type { ModeRenderer } from "../../mode-registry.ts";
import type { EndpointBlocks } from "./endpoint-blocks.ts";
import type { NftObjects, NftRuleset } from "./nft-ruleset.ts";
import { rulesetText } from "./nft-ruleset.ts";
import { renderBase } from "./render-base.ts";
import { renderContext } from "./render-context.ts";
import { renderServicePort } from "./render-service-port.ts";

/** The comment on the table (upstream's, so that upstream's goldens match). */
export const tableComment = "rules for kube-proxy";

/**
 * The whole desired table of one IP family as data, in the layout `config.nftables.layout`
 * selects. `only`, when given, limits the services rendered to those keys (partial syncs);
 * `blocks` is the proxier's allocation of numgen blocks, kept between syncs (default: a new one).
 */
export function buildNftablesRuleset(
  state: ProxyState,
  config: ProxyConfig,
  options: { readonly only?: Iterable<string>; readonly blocks?: EndpointBlocks } = {},
): NftRuleset {
  const ctx = renderContext(state, config, options.blocks);
  const services = new Map<string, NftObjects>();
  const keys = options.only === undefined ? state.services.keys() : options.only;
  for (const key of keys) {
    const svc = state.services.get(key);
    if (svc === undefined) continue;
    services.set(key, renderServicePort(svc, state.endpoints.get(key) ?? [], ctx));
  }
  return { family: ctx.family, table: ctx.table, tableComment, base: renderBase(ctx), services };
}

/**
 * `kproxy render --proxy-mode nftables`: the `nft -f` input that creates the table from nothing.
 * The upstream layout matches upstream kube-proxy's dump after its normalisation.
 */
export const renderNftables: ModeRenderer = (
  state: ProxyState,
  config: ProxyConfig,
  _features: KernelFeatures,
): string => rulesetText(buildNftablesRuleset(state, config));
