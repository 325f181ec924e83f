import { endpointMapName, endpointMapShards, endpointSlots } from "./endpoint-blocks.ts";
import type { NftChain, NftElement, NftObjects, NftSet } from "./nft-ruleset.ts";
import { quote } from "./nft-ruleset.ts";
import type { RenderContext } from "./render-context.ts";

/** Names of the fixed chains, sets and maps (upstream's). */
export const chainNames = {
  filterPreroutingPreDnat: "filter-prerouting-pre-dnat",
  filterOutputPreDnat: "filter-output-pre-dnat",
  filterForward: "filter-forward",
  filterInput: "filter-input",
  filterOutput: "filter-output",
  natOutput: "nat-output",
  natPostrouting: "nat-postrouting",
  natPrerouting: "nat-prerouting",
  services: "services",
  serviceEndpointsCheck: "service-endpoints-check",
  nodePortEndpointsCheck: "nodeport-endpoints-check",
  clusterIPsCheck: "cluster-ips-check",
  firewallCheck: "firewall-check",
  markForMasquerade: "mark-for-masquerade",
  masquerading: "masquerading",
  reject: "reject-chain",
} as const;

export const setNames = {
  clusterIPs: "cluster-ips",
  nodePortIPs: "nodeport-ips",
  serviceIPs: "service-ips",
  serviceNodePorts: "service-nodeports",
  firewallIPs: "firewall-ips",
  noEndpointServices: "no-endpoint-services",
  noEndpointNodePorts: "no-endpoint-nodeports",
  /** kproxy layout: `endpoint . endpoint` pairs, for hairpin masquerading after DNAT. */
  hairpinEndpoints: "hairpin-endpoints",
} as const;

/** Protocols with endpoint maps (kproxy layout). */
export const endpointMapProtocols = ["tcp", "udp", "sctp"] as const;

const c = chainNames;

/** Base chains: hook and priority, as upstream (the filter chains before DNAT run at -110). */
const baseChains: readonly { name: string; type: "filter" | "nat"; hook: string; priority: number }[] = [
  { name: c.filterPreroutingPreDnat, type: "filter", hook: "prerouting", priority: -110 },
  { name: c.filterOutputPreDnat, type: "filter", hook: "output", priority: -110 },
  { name: c.filterForward, type: "filter", hook: "forward", priority: 0 },
  { name: c.filterInput, type: "filter", hook: "input", priority: 0 },
  { name: c.filterOutput, type: "filter", hook: "output", priority: 0 },
  { name: c.natOutput, type: "nat", hook: "output", priority: -100 },
  { name: c.natPostrouting, type: "nat", hook: "postrouting", priority: 100 },
  { name: c.natPrerouting, type: "nat", hook: "prerouting", priority: -100 },
];

/** Names and declarations of the base chains (the applier re-creates them once at start-up). */
export function baseChainSpecs(): readonly NftChain[] {
  return baseChains.map((b) => ({
    name: b.name,
    spec: `{ type ${b.type} hook ${b.hook} priority ${b.priority} ; }`,
    rules: [],
  }));
}

/**
 * Jumps from the base chains, in upstream's order. The endpoint checks (reject) hang off input,
 * forward and output because `reject` is only valid there on kernels before 5.9.
 */
const jumps: readonly { to: string; from: string; match: string }[] = [
  { to: c.nodePortEndpointsCheck, from: c.filterInput, match: "ct state new " },
  { to: c.serviceEndpointsCheck, from: c.filterInput, match: "ct state new " },
  { to: c.serviceEndpointsCheck, from: c.filterForward, match: "ct state new " },
  { to: c.serviceEndpointsCheck, from: c.filterOutput, match: "ct state new " },
  { to: c.firewallCheck, from: c.filterPreroutingPreDnat, match: "ct state new " },
  { to: c.firewallCheck, from: c.filterOutputPreDnat, match: "ct state new " },
  { to: c.services, from: c.natOutput, match: "" },
  { to: c.services, from: c.natPrerouting, match: "" },
  { to: c.masquerading, from: c.natPostrouting, match: "" },
  { to: c.clusterIPsCheck, from: c.filterForward, match: "ct state new " },
  { to: c.clusterIPsCheck, from: c.filterOutput, match: "ct state new " },
];

/** The fixed part of the table: base and helper chains, the dispatch sets and maps. */
export function renderBase(ctx: RenderContext): NftObjects {
  const { ipX, addrType } = ctx;
  const chains = new Map<string, { spec?: string; rules: string[] }>();
  for (const b of baseChainSpecs()) chains.set(b.name, { spec: b.spec ?? "", rules: [] });
  const rule = (chain: string, text: string, comment?: string): void => {
    let entry = chains.get(chain);
    if (entry === undefined) chains.set(chain, (entry = { rules: [] }));
    entry.rules.push(comment === undefined ? text : `${text} comment ${quote(comment)}`);
  };
  const ensure = (chain: string, spec?: string): void => {
    if (!chains.has(chain)) chains.set(chain, spec === undefined ? { rules: [] } : { spec, rules: [] });
  };

  for (const j of jumps) {
    ensure(j.to);
    rule(j.from, `${j.match}jump ${j.to}`);
  }
  for (const name of [c.services, c.clusterIPsCheck, c.masquerading, c.markForMasquerade]) ensure(name);

  const mark = ctx.masqueradeMark;
  rule(c.markForMasquerade, `mark set mark or ${mark}`);
  if (ctx.layout === "kproxy") {
    // Hairpin: a pod that reached itself through a Service must be masqueraded, or it would answer
    // itself directly. Upstream checks the source in every endpoint chain; kproxy has no endpoint
    // chains, so it compares source and DNAT destination here, after DNAT.
    rule(
      c.masquerading,
      `ct status dnat ${ipX} saddr . ${ipX} daddr @${setNames.hairpinEndpoints} jump ${c.markForMasquerade}`,
    );
  }
  rule(c.masquerading, `mark and ${mark} == 0 return`);
  rule(c.masquerading, `mark set mark xor ${mark}`);
  rule(c.masquerading, "masquerade fully-random");

  const sets: NftSet[] = [
    { name: "cluster-ips", kind: "set", spec: `{ type ${addrType} ; comment "Active ClusterIPs" ; }` },
  ];
  if (ctx.layout === "kproxy") sets.push(...kproxyEndpointSets(ctx));
  rule(
    c.clusterIPsCheck,
    `${ipX} daddr @cluster-ips reject`,
    "Reject traffic to invalid ports of ClusterIPs",
  );
  if (ctx.serviceCIDRs.length > 0) {
    if (ctx.layout === "upstream") {
      rule(
        c.clusterIPsCheck,
        `${ipX} daddr { ${ctx.serviceCIDRs.join(",")} } drop`,
        "Drop traffic to unallocated ClusterIPs",
      );
    } else {
      // One rule per range instead of an anonymous set: kproxy's layout keeps no anonymous sets.
      for (const cidr of ctx.serviceCIDRs)
        rule(c.clusterIPsCheck, `${ipX} daddr ${cidr} drop`, "Drop traffic to unallocated ClusterIPs");
    }
  }

  const elements: NftElement[] = [];
  if (ctx.nodePortIPs !== "all") {
    sets.push({
      name: setNames.nodePortIPs,
      kind: "set",
      spec: `{ type ${addrType} ; comment "IPs that accept NodePort traffic" ; }`,
    });
    for (const ip of ctx.nodePortIPs) elements.push({ set: setNames.nodePortIPs, key: ip, rest: "" });
  }

  const vmap = (name: string, key: string, comment: string): NftSet => ({
    name,
    kind: "map",
    spec: `{ type ${key} : verdict ; comment ${quote(comment)} ; }`,
  });
  sets.push(
    vmap(
      setNames.noEndpointServices,
      `${addrType} . inet_proto . inet_service`,
      "vmap to drop or reject packets to services with no endpoints",
    ),
    vmap(
      setNames.noEndpointNodePorts,
      "inet_proto . inet_service",
      "vmap to drop or reject packets to service nodeports with no endpoints",
    ),
  );
  ensure(c.reject, `{ comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }`);
  rule(c.reject, "reject");
  rule(c.serviceEndpointsCheck, `${ipX} daddr . meta l4proto . th dport vmap @no-endpoint-services`);
  const nodePortDest = ctx.nodePortIPs === "all" ? ctx.noLocalhost : `${ipX} daddr @nodeport-ips`;
  rule(c.nodePortEndpointsCheck, `${nodePortDest} meta l4proto . th dport vmap @no-endpoint-nodeports`);

  sets.push(
    vmap(
      setNames.firewallIPs,
      `${addrType} . inet_proto . inet_service`,
      "destinations that are subject to LoadBalancerSourceRanges",
    ),
  );
  ensure(c.firewallCheck);
  rule(c.firewallCheck, `${ipX} daddr . meta l4proto . th dport vmap @firewall-ips`);

  sets.push(
    vmap(
      setNames.serviceIPs,
      `${addrType} . inet_proto . inet_service`,
      "ClusterIP, ExternalIP and LoadBalancer IP traffic",
    ),
    vmap(setNames.serviceNodePorts, "inet_proto . inet_service", "NodePort traffic"),
  );
  rule(c.services, `${ipX} daddr . meta l4proto . th dport vmap @service-ips`);
  const nodePortMatch =
    ctx.nodePortIPs === "all" ? `fib daddr type local ${ctx.noLocalhost}` : `${ipX} daddr @nodeport-ips`;
  rule(c.services, `${nodePortMatch} meta l4proto . th dport vmap @service-nodeports`);

  return {
    sets,
    chains: [...chains].map(([name, v]) =>
      v.spec === undefined ? { name, rules: v.rules } : { name, spec: v.spec, rules: v.rules },
    ),
    elements,
  };
}

/**
 * The kproxy layout's endpoint maps (`numgen` number → endpoint address and port, per protocol,
 * in shards; see endpoint-blocks.ts) and the hairpin set. Several services may share an endpoint,
 * so the hairpin set's elements are `shared`: the applier counts their users.
 */
function kproxyEndpointSets(ctx: RenderContext): NftSet[] {
  const sets: NftSet[] = [
    {
      name: setNames.hairpinEndpoints,
      kind: "set",
      spec: `{ type ${ctx.addrType} . ${ctx.addrType} ; comment "endpoint . endpoint: hairpin traffic to masquerade" ; }`,
      shared: true,
    },
  ];
  for (const protocol of endpointMapProtocols) {
    for (let shard = 0; shard < endpointMapShards; shard++) {
      sets.push({
        name: endpointMapName(protocol, shard),
        kind: "map",
        spec: `{ typeof numgen random mod ${endpointSlots} : ${ctx.ipX} daddr . ${protocol} dport ; flags interval ; }`,
      });
    }
  }
  return sets;
}
