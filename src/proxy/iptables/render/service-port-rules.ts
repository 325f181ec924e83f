import type { Endpoint } from "../../../model/endpoint.ts";
import { bigIntToIP, canonicalIP, cidrContains, parseCIDR } from "../../../model/ip.ts";
import {
  externallyAccessible,
  usesClusterEndpoints,
  usesLocalEndpoints,
  type ServicePort,
} from "../../../model/service-port.ts";
import { categorizeEndpoints } from "../../../topology/categorize-endpoints.ts";
import {
  kubeExternalServicesChain,
  kubeMarkMasqChain,
  kubeNodePortsChain,
  kubeProxyFirewallChain,
  kubeServicesChain,
  servicePortChainNames,
} from "./chain-names.ts";
import { cachedEndpointChainName, endpointChainRules, serviceToEndpointRules } from "./endpoint-chains.ts";
import type { DispatchRule, ServicePortRules } from "./iptables-rule-set.ts";
import type { RenderContext } from "./render-context.ts";

/** Counter upstream uses for localhost NodePort traffic (only when nfacct objects exist). */
export const localhostNodePortsAcceptedCounter = "localhost_nps_accepted_pkts";

let _flattenSink = 0;

function quoted(text: string): string {
  return `"${text}"`;
}

function ipText(ip: string): string {
  return ip.includes(":") ? (canonicalIP(ip) ?? ip) : ip;
}

function cidrText(cidr: string): string {
  const p = parseCIDR(cidr);
  return p === undefined ? cidr : `${bigIntToIP(p.bits, p.family)}/${p.prefix}`;
}

/**
 * Renders one service port the way upstream's `syncProxyRules` loop body does: ClusterIP,
 * externalIPs, LoadBalancer IPs (with the firewall chain for source ranges), NodePorts and the
 * health-check port, traffic policies, and the per-endpoint chains. Pure.
 */
export function servicePortRules(
  svc: ServicePort,
  inputs: { readonly endpoints: readonly Endpoint[]; readonly context: RenderContext },
): ServicePortRules {
  const { endpoints, context: ctx } = inputs;
  const name = svc.key;
  const proto = svc.protocol.toLowerCase();
  const match = `-m ${proto} -p ${proto}`;
  const names = servicePortChainNames(name, svc.protocol);
  const { clusterEndpoints, localEndpoints, allReachableEndpoints, hasAnyEndpoints } = categorizeEndpoints(
    endpoints,
    svc,
    { name: ctx.nodeName, zone: ctx.nodeZone },
  );
  const usesClusterPolicyChain = clusterEndpoints.length > 0 && usesClusterEndpoints(svc);
  const usesLocalPolicyChain = localEndpoints.length > 0 && usesLocalEndpoints(svc);

  let internalPolicyChain = names.cluster;
  let hasInternalEndpoints = hasAnyEndpoints;
  if (svc.internalPolicyLocal) {
    internalPolicyChain = names.local;
    if (localEndpoints.length === 0) hasInternalEndpoints = false;
  }
  let externalPolicyChain = names.cluster;
  let hasExternalEndpoints = hasAnyEndpoints;
  if (svc.externalPolicyLocal) {
    externalPolicyChain = names.local;
    if (localEndpoints.length === 0) hasExternalEndpoints = false;
  }
  const externalTrafficChain = names.external;
  // Needed even without externally usable endpoints: it short-circuits pod and node traffic.
  const usesExternalTrafficChain = hasAnyEndpoints && externallyAccessible(svc);
  const usesFirewallChain =
    hasAnyEndpoints && svc.loadBalancerVIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
  const loadBalancerTrafficChain = usesFirewallChain ? names.firewall : externalTrafficChain;

  let internalFilterTarget = "";
  let internalFilterComment = "";
  let externalFilterTarget = "";
  let externalFilterComment = "";
  if (!hasAnyEndpoints) {
    // No endpoints anywhere: no nat chains at all, only REJECT in filter (a fast "connection refused").
    internalFilterTarget = "REJECT";
    internalFilterComment = quoted(`${name} has no endpoints`);
    externalFilterTarget = "REJECT";
    externalFilterComment = internalFilterComment;
  } else {
    if (!hasInternalEndpoints) {
      internalFilterTarget = "DROP";
      internalFilterComment = quoted(`${name} has no local endpoints`);
    }
    if (!hasExternalEndpoints) {
      externalFilterTarget = "DROP";
      externalFilterComment = quoted(`${name} has no local endpoints`);
    }
  }

  const dispatch: DispatchRule[] = [];
  const nat = (chain: string, spec: string): void => void dispatch.push({ table: "nat", chain, spec });
  const filter = (chain: string, spec: string): void => void dispatch.push({ table: "filter", chain, spec });
  const clusterIP = ipText(svc.clusterIP);
  const clusterIPMatch = `${match} -d ${clusterIP} --dport ${svc.port}`;

  if (hasInternalEndpoints) {
    nat(
      kubeServicesChain,
      `-m comment --comment ${quoted(`${name} cluster IP`)} ${clusterIPMatch} -j ${internalPolicyChain}`,
    );
  } else {
    filter(
      kubeServicesChain,
      `-m comment --comment ${internalFilterComment} ${clusterIPMatch} -j ${internalFilterTarget}`,
    );
  }
  for (const raw of svc.externalIPs) {
    const ip = ipText(raw);
    if (hasAnyEndpoints) {
      nat(
        kubeServicesChain,
        `-m comment --comment ${quoted(`${name} external IP`)} ${match} -d ${ip} --dport ${svc.port} -j ${externalTrafficChain}`,
      );
    }
    if (!hasExternalEndpoints) {
      filter(
        kubeExternalServicesChain,
        `-m comment --comment ${externalFilterComment} ${match} -d ${ip} --dport ${svc.port} -j ${externalFilterTarget}`,
      );
    }
  }
  for (const raw of svc.loadBalancerVIPs) {
    const ip = ipText(raw);
    if (hasAnyEndpoints) {
      nat(
        kubeServicesChain,
        `-m comment --comment ${quoted(`${name} loadbalancer IP`)} ${match} -d ${ip} --dport ${svc.port} -j ${loadBalancerTrafficChain}`,
      );
    }
    if (usesFirewallChain) {
      filter(
        kubeProxyFirewallChain,
        `-m comment --comment ${quoted(`${name} traffic not accepted by ${names.firewall}`)} ${match} -d ${ip} --dport ${svc.port} -j DROP`,
      );
    }
  }
  if (!hasExternalEndpoints) {
    for (const raw of svc.loadBalancerVIPs) {
      filter(
        kubeExternalServicesChain,
        `-m comment --comment ${externalFilterComment} ${match} -d ${ipText(raw)} --dport ${svc.port} -j ${externalFilterTarget}`,
      );
    }
  }
  if (svc.nodePort !== 0) {
    if (hasAnyEndpoints) {
      // NodePorts are not subject to loadBalancerSourceRanges (upstream cannot change that).
      if (ctx.localhostNodePorts && ctx.features.nfacct) {
        nat(
          kubeNodePortsChain,
          `-m comment --comment ${name} ${match} -d 127.0.0.0/8 --dport ${svc.nodePort} -m nfacct --nfacct-name ${localhostNodePortsAcceptedCounter} -j ${externalTrafficChain}`,
        );
      }
      nat(
        kubeNodePortsChain,
        `-m comment --comment ${name} ${match} --dport ${svc.nodePort} -j ${externalTrafficChain}`,
      );
    }
    if (!hasExternalEndpoints) {
      filter(
        kubeExternalServicesChain,
        `-m comment --comment ${externalFilterComment} -m addrtype --dst-type LOCAL ${match} --dport ${svc.nodePort} -j ${externalFilterTarget}`,
      );
    }
  }
  if (svc.healthCheckNodePort !== 0) {
    // Accepted whether or not this node has local endpoints: the health check answers 503 then.
    filter(
      kubeNodePortsChain,
      `-m comment --comment ${quoted(`${name} health check node port`)} -m tcp -p tcp --dport ${svc.healthCheckNodePort} -j ACCEPT`,
    );
  }

  // The service's own nat chains, in upstream's declaration order, each with its rules. Lines are
  // collected and joined once: a flat string compares and copies much faster than a rope of
  // concatenations (full syncs compare every chain of every service).
  const parts = new Map<string, string[]>();
  const append = (chain: string, lines: string): void => {
    const list = parts.get(chain);
    if (list === undefined) parts.set(chain, [lines]);
    else list.push(lines);
  };

  let internalMasquerade = "";
  if (hasInternalEndpoints) {
    const args = `-m comment --comment ${quoted(`${name} cluster IP`)} ${clusterIPMatch}`;
    if (ctx.masqueradeAll) internalMasquerade = `-A ${internalPolicyChain} ${args} -j ${kubeMarkMasqChain}\n`;
    else if (ctx.detector !== undefined)
      // Off-cluster traffic to a ClusterIP (e.g. through a static route to the node) may leave
      // the node again towards the endpoint, so it must be masqueraded.
      internalMasquerade = `-A ${internalPolicyChain} ${args} ${ctx.detector.ifNotLocal} -j ${kubeMarkMasqChain}\n`;
  }

  if (usesExternalTrafficChain) {
    let lines = "";
    if (!svc.externalPolicyLocal) {
      // Endpoints may be on other nodes: masquerade so that replies come back through this node.
      lines += `-A ${externalTrafficChain} -m comment --comment ${quoted(`masquerade traffic for ${name} external destinations`)} -j ${kubeMarkMasqChain}\n`;
    } else {
      if (ctx.detector !== undefined) {
        // Pod traffic to an external address acts as if it went out to the load balancer and
        // came back: neither traffic policy applies to it.
        lines += `-A ${externalTrafficChain} -m comment --comment ${quoted(`pod traffic for ${name} external destinations`)} ${ctx.detector.ifLocal} -j ${names.cluster}\n`;
      }
      // Traffic from the node itself has a local source address that the endpoint could not
      // answer, so it is masqueraded and sent to any endpoint.
      lines += `-A ${externalTrafficChain} -m comment --comment ${quoted(`masquerade LOCAL traffic for ${name} external destinations`)} -m addrtype --src-type LOCAL -j ${kubeMarkMasqChain}\n`;
      lines += `-A ${externalTrafficChain} -m comment --comment ${quoted(`route LOCAL traffic for ${name} external destinations`)} -m addrtype --src-type LOCAL -j ${names.cluster}\n`;
    }
    if (hasExternalEndpoints) lines += `-A ${externalTrafficChain} -j ${externalPolicyChain}\n`;
    append(externalTrafficChain, lines);
  }

  if (usesFirewallChain) {
    const args = `-A ${names.firewall} -m comment --comment ${quoted(`${name} loadbalancer IP`)}`;
    let lines = "";
    let allowFromNode = false;
    for (const cidr of svc.loadBalancerSourceRanges) {
      lines += `${args} -s ${cidrText(cidr)} -j ${externalTrafficChain}\n`;
      if (ctx.nodeIP !== undefined && cidrContains(cidr, ctx.nodeIP)) allowFromNode = true;
    }
    // A node reaching a VIP that is also a local address loops back with the VIP as source.
    if (allowFromNode) {
      for (const ip of svc.loadBalancerVIPs) lines += `${args} -s ${ipText(ip)} -j ${externalTrafficChain}\n`;
    }
    // Anything left was not DNATed and is dropped by the matching KUBE-PROXY-FIREWALL rule.
    lines += `-A ${names.firewall} -m comment --comment ${quoted(`other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`)}\n`;
    append(names.firewall, lines);
  }

  if (usesClusterPolicyChain) {
    const masq = internalPolicyChain === names.cluster ? internalMasquerade : "";
    append(
      names.cluster,
      masq +
        serviceToEndpointRules(svc, {
          chain: names.cluster,
          endpoints: clusterEndpoints,
          largeClusterMode: ctx.largeClusterMode,
        }),
    );
  }
  if (usesLocalPolicyChain) {
    const masq = internalPolicyChain === names.local ? internalMasquerade : "";
    append(
      names.local,
      masq +
        serviceToEndpointRules(svc, {
          chain: names.local,
          endpoints: localEndpoints,
          largeClusterMode: ctx.largeClusterMode,
        }),
    );
  }
  for (const ep of allReachableEndpoints) {
    const sep = cachedEndpointChainName(svc, ep);
    append(
      sep,
      endpointChainRules(svc, { chain: sep, endpoint: ep, largeClusterMode: ctx.largeClusterMode }),
    );
  }

  const chains = new Map<string, string>();
  for (const [chain, list] of parts) {
    const text = list.join("");
    // Reading a character makes V8 flatten a rope of concatenations in place, so that comparing
    // two equal chains later (every chain of every service, on every full sync) is a memcmp
    // instead of a walk; the sink keeps the read from being optimised away.
    _flattenSink ^= text.charCodeAt(0);
    chains.set(chain, text);
  }
  return {
    servicePortKey: name,
    serviceKey: svc.serviceKey,
    dispatch,
    chains,
    endpointCount: endpoints.length,
  };
}
