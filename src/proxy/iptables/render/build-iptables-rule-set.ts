import type { ProxyConfig } from "../../../config/proxy-config.ts";
import type { ProxyState } from "../../../model/proxy-state.ts";
import type { KernelFeatures } from "../../kernel-features.ts";
import { baseChains } from "./base-chains.ts";
import type { IptablesRuleSet, ServicePortRules } from "./iptables-rule-set.ts";
import { contextKey, largeClusterEndpointsThreshold, renderContext } from "./render-context.ts";
import { servicePortRules } from "./service-port-rules.ts";

/** Reuse of a previous rule set for services that did not change (partial syncs). */
export interface RuleSetReuse {
  readonly previous: IptablesRuleSet;
  /** `namespace/name` of every Service whose Service or EndpointSlices changed since `previous`. */
  readonly changedServices: ReadonlySet<string>;
}

/**
 * Builds the desired rules of one family. With `reuse`, service ports of unchanged Services keep
 * their previous `ServicePortRules` object (same reference), which costs nothing and lets the
 * partial renderer find the changes by identity; reuse is ignored when anything outside the
 * services changed (context fingerprint differs). Pure.
 */
export function buildIptablesRuleSet(
  state: ProxyState,
  options: { readonly config: ProxyConfig; readonly features: KernelFeatures; readonly reuse?: RuleSetReuse },
): IptablesRuleSet {
  const { config, features, reuse } = options;
  let totalEndpoints = 0;
  for (const key of state.services.keys()) totalEndpoints += state.endpoints.get(key)?.length ?? 0;
  const ctx = renderContext(state, {
    config,
    features,
    largeClusterMode: totalEndpoints > largeClusterEndpointsThreshold,
  });
  const key = contextKey(ctx);
  const previous = reuse !== undefined && reuse.previous.contextKey === key ? reuse.previous : undefined;

  const services = new Map<string, ServicePortRules>();
  for (const portKey of [...state.services.keys()].sort()) {
    const svc = state.services.get(portKey);
    if (svc === undefined) continue;
    const old = previous?.services.get(portKey);
    if (old !== undefined && reuse !== undefined && !reuse.changedServices.has(svc.serviceKey)) {
      services.set(portKey, old);
      continue;
    }
    services.set(
      portKey,
      servicePortRules(svc, { endpoints: state.endpoints.get(portKey) ?? [], context: ctx }),
    );
  }
  return {
    family: state.family,
    contextKey: key,
    largeClusterMode: ctx.largeClusterMode,
    ...baseChains(ctx),
    services,
  };
}
