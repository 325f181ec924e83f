import type { Endpoint } from "../../../model/endpoint.ts";
import { cidrContains } from "../../../model/ip.ts";
import {
  externallyAccessible,
  usesClusterEndpoints,
  usesLocalEndpoints,
} from "../../../model/service-port.ts";
import type { ServicePort } from "../../../model/service-port.ts";
import { categorizeEndpoints } from "../../../topology/categorize-endpoints.ts";
import { servicePortNames } from "./chain-names.ts";
import type { NftElement, NftObjects, NftSet } from "./nft-ruleset.ts";
import { quote } from "./nft-ruleset.ts";
import { chainNames, setNames } from "./render-base.ts";
import type { RenderContext } from "./render-context.ts";
import { endpointChoiceRules, endpointMapChoice } from "./render-endpoint-choice.ts";

const markMasq = chainNames.markForMasquerade;

/**
 * Every chain, set and map element of one service port (upstream's `syncProxyRules` loop body).
 * Pure but for the allocation of numgen blocks in `ctx.blocks`: the same inputs give the same
 * objects, so the applier can diff them per service.
 *
 * In the kproxy layout, a port without session affinity chooses its endpoint through the endpoint
 * maps (render-endpoint-choice.ts), and its chains and rules depend only on the Service, never on
 * its endpoints: an endpoint change is then a change of map elements only.
 */
export function renderServicePort(
  svc: ServicePort,
  endpoints: readonly Endpoint[],
  ctx: RenderContext,
): NftObjects {
  const names = servicePortNames(svc.name);
  const { ipX } = ctx;
  const protocol = svc.protocol.toLowerCase();
  const chains = new Map<string, string[]>();
  const ensure = (chain: string): string[] => {
    let rules = chains.get(chain);
    if (rules === undefined) chains.set(chain, (rules = []));
    return rules;
  };
  const rule = (chain: string, text: string, comment?: string): void => {
    ensure(chain).push(comment === undefined ? text : `${text} comment ${quote(comment)}`);
  };
  const sets: NftSet[] = [];
  const elements: NftElement[] = [];
  const element = (set: string, key: string, verdict: string, comment?: string): void => {
    elements.push({
      set,
      key,
      rest: `${comment === undefined ? "" : ` comment ${quote(comment)}`} : ${verdict}`,
    });
  };

  const { clusterEndpoints, localEndpoints, allReachableEndpoints, hasAnyEndpoints } = categorizeEndpoints(
    endpoints,
    svc,
    ctx.node,
  );
  const hasEndpoints = hasAnyEndpoints;
  const kproxy = ctx.layout === "kproxy";
  const affinity = svc.stickyMaxAgeSeconds > 0;
  // Endpoint maps instead of endpoint chains; chains kept whether or not they have endpoints.
  const byMap = kproxy && !affinity;
  if (!byMap) for (const ep of allReachableEndpoints) ensure(names.endpoint(ep));

  const usesClusterChain = (byMap || clusterEndpoints.length > 0) && usesClusterEndpoints(svc);
  if (usesClusterChain) ensure(names.cluster);
  const usesLocalChain = (byMap || localEndpoints.length > 0) && usesLocalEndpoints(svc);
  if (usesLocalChain) ensure(names.local);

  let internalChain = names.cluster;
  let hasInternalEndpoints = hasEndpoints;
  if (svc.internalPolicyLocal) {
    internalChain = names.local;
    if (localEndpoints.length === 0) hasInternalEndpoints = false;
  }
  let externalPolicyChain = names.cluster;
  let hasExternalEndpoints = hasEndpoints;
  if (svc.externalPolicyLocal) {
    externalPolicyChain = names.local;
    if (localEndpoints.length === 0) hasExternalEndpoints = false;
  }
  // The external chain is needed even without external endpoints: it short-circuits pod and
  // node traffic to the cluster-wide endpoints.
  const usesExternalChain = (byMap || hasEndpoints) && externallyAccessible(svc);
  if (usesExternalChain) ensure(names.external);

  // No endpoints at all: reject. Endpoints, but none for this kind of traffic: drop.
  const internalVerdict = !hasEndpoints ? `goto ${chainNames.reject}` : "drop";
  const externalVerdict = internalVerdict;
  const comment = svc.key;
  const portKey = (ip: string): string => `${ip} . ${protocol} . ${svc.port}`;

  elements.push({ set: setNames.clusterIPs, key: svc.clusterIP, rest: "" });
  if (hasInternalEndpoints) element(setNames.serviceIPs, portKey(svc.clusterIP), `goto ${internalChain}`);
  else element(setNames.noEndpointServices, portKey(svc.clusterIP), internalVerdict, comment);

  for (const ip of svc.externalIPs) {
    if (hasEndpoints) element(setNames.serviceIPs, portKey(ip), `goto ${names.external}`);
    if (!hasExternalEndpoints) element(setNames.noEndpointServices, portKey(ip), externalVerdict, comment);
  }

  const usesFirewall = svc.loadBalancerVIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
  if (usesFirewall) ensure(names.firewall);
  for (const ip of svc.loadBalancerVIPs) {
    if (hasEndpoints) element(setNames.serviceIPs, portKey(ip), `goto ${names.external}`);
    if (usesFirewall) element(setNames.firewallIPs, portKey(ip), `goto ${names.firewall}`);
  }
  if (!hasExternalEndpoints) {
    for (const ip of svc.loadBalancerVIPs)
      element(setNames.noEndpointServices, portKey(ip), externalVerdict, comment);
  }

  if (svc.nodePort !== 0) {
    const key = `${protocol} . ${svc.nodePort}`;
    if (hasEndpoints) element(setNames.serviceNodePorts, key, `goto ${names.external}`);
    if (!hasExternalEndpoints) element(setNames.noEndpointNodePorts, key, externalVerdict, comment);
  }

  // Internal traffic: masquerade what does not come from a pod (it may have been routed here
  // from off the node, and the reply must come back through this node).
  if (hasInternalEndpoints || byMap) {
    if (ctx.masqueradeAll) rule(internalChain, `${ipX} daddr ${svc.clusterIP} jump ${markMasq}`);
    else if (ctx.localTraffic !== undefined)
      rule(internalChain, `${ipX} daddr ${svc.clusterIP} ${ctx.localTraffic.ifNotLocal} jump ${markMasq}`);
  }

  if (usesExternalChain) {
    if (!svc.externalPolicyLocal) {
      // Cluster-wide endpoints may be on another node: masquerade so that replies come back here.
      rule(names.external, `jump ${markMasq}`);
    } else {
      if (ctx.localTraffic !== undefined) {
        // Pod traffic to an external address behaves as if it went out to the load balancer
        // and came back: it is subject to neither traffic policy.
        rule(
          names.external,
          `${ctx.localTraffic.ifLocal} goto ${names.cluster}`,
          "short-circuit pod traffic",
        );
      }
      // The node's own traffic has a local source address (often the LB IP itself): masquerade
      // it and send it to any endpoint.
      rule(names.external, `fib saddr type local jump ${markMasq}`, "masquerade local traffic");
      rule(names.external, `fib saddr type local goto ${names.cluster}`, "short-circuit local traffic");
    }
    // Without external endpoints the kproxy layout's chain finds none and returns, as upstream's
    // does without this rule: the packet is then dropped by @no-endpoint-services.
    if (hasExternalEndpoints || byMap) rule(names.external, `goto ${externalPolicyChain}`);
  }

  if (usesFirewall) firewallRules(svc, ctx, (text) => rule(names.firewall, text));

  if (affinity) {
    for (const ep of allReachableEndpoints) {
      // Affinity is per client address and service port, whichever service address was used.
      sets.push({
        name: names.affinity(ep),
        kind: "set",
        spec: `{ type ${ctx.addrType} ; flags dynamic,timeout ; timeout ${svc.stickyMaxAgeSeconds}s ; }`,
      });
    }
  }
  const toEndpoints = (chain: string, eps: readonly Endpoint[]): void => {
    if (byMap) {
      const choice = endpointMapChoice(chain, eps, protocol, ctx);
      rule(chain, choice.rule);
      elements.push(...choice.elements);
      return;
    }
    if (affinity) {
      for (const ep of eps) rule(chain, `${ipX} saddr @${names.affinity(ep)} goto ${names.endpoint(ep)}`);
    }
    for (const text of endpointChoiceRules(eps.map(names.endpoint), ctx)) rule(chain, text);
  };
  if (usesClusterChain) toEndpoints(names.cluster, clusterEndpoints);
  if (usesLocalChain) toEndpoints(names.local, localEndpoints);

  for (const ep of allReachableEndpoints) {
    // Hairpin: a pod reaching itself through the service must be masqueraded, or it would
    // answer itself directly and the connection would not match. The kproxy layout checks it
    // after DNAT, against one set of every endpoint (see render-base.ts).
    if (kproxy) elements.push({ set: setNames.hairpinEndpoints, key: `${ep.ip} . ${ep.ip}`, rest: "" });
    if (byMap) continue;
    const chain = names.endpoint(ep);
    if (!kproxy) rule(chain, `${ipX} saddr ${ep.ip} jump ${markMasq}`);
    if (affinity) rule(chain, `update @${names.affinity(ep)} { ${ipX} saddr }`);
    rule(chain, `meta l4proto ${protocol} dnat to ${ep.key}`);
  }

  return { sets, chains: [...chains].map(([name, rules]) => ({ name, rules })), elements };
}

/**
 * loadBalancerSourceRanges: drop other sources. Upstream: `saddr != { ranges } drop` (an anonymous
 * set per service); kproxy: one `return` per allowed range, then `drop`.
 */
function firewallRules(svc: ServicePort, ctx: RenderContext, rule: (text: string) => void): void {
  const sources: string[] = [...svc.loadBalancerSourceRanges];
  // A VIP that is also a local address makes the node's own requests loop back with the VIP as
  // source address: allow them when the node itself is allowed.
  if (ctx.nodeIP !== undefined && sources.some((cidr) => cidrContains(cidr, ctx.nodeIP ?? ""))) {
    sources.push(...svc.loadBalancerVIPs);
  }
  if (ctx.layout === "upstream") {
    rule(`${ctx.ipX} saddr != { ${sources.join(" , ")} } drop`);
    return;
  }
  for (const source of sources) rule(`${ctx.ipX} saddr ${source} return`);
  rule("drop");
}
