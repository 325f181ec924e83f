import type { Endpoint } from "../model/endpoint.ts";
import { usesClusterEndpoints, usesLocalEndpoints, type ServicePort } from "../model/service-port.ts";

/** Which endpoints a node uses for one service port. Upstream: `CategorizeEndpoints`. */
export interface CategorizedEndpoints {
  /** Endpoints for traffic under `Cluster` policy (topology-filtered); empty when the port uses none. */
  readonly clusterEndpoints: readonly Endpoint[];
  /** Endpoints for traffic under `Local` policy; empty when the port uses none. */
  readonly localEndpoints: readonly Endpoint[];
  /** Union of the two: every endpoint some traffic may reach (each needs its endpoint chain). */
  readonly allReachableEndpoints: readonly Endpoint[];
  /** True when the service has a usable endpoint anywhere in the cluster. */
  readonly hasAnyEndpoints: boolean;
}

type TopologyMode = "" | "PreferSameZone" | "PreferSameNode";

/**
 * Splits the endpoints of `svc` into the cluster-wide and node-local sets the proxy programs,
 * with upstream's semantics: ready endpoints first, falling back to serving+terminating ones
 * when none is ready; topology hints honoured when every ready endpoint has them and one matches
 * this node (or its zone).
 */
export function categorizeEndpoints(
  endpoints: readonly Endpoint[],
  svc: ServicePort,
  node: { readonly name: string; readonly zone: string },
): CategorizedEndpoints {
  let clusterEndpoints: Endpoint[] = [];
  let localEndpoints: Endpoint[] = [];
  let hasAnyEndpoints = false;
  let topologyMode: TopologyMode = "";
  let useServingTerminating = false;

  if (usesClusterEndpoints(svc)) {
    topologyMode = topologyModeFromHints(endpoints, node);
    clusterEndpoints = endpoints.filter((ep) => ep.ready && availableForTopology(ep, topologyMode, node));
    // No ready endpoint anywhere (topology was already ignored if it left none): use the
    // terminating endpoints that still serve, so that connections keep working during a rollout.
    if (clusterEndpoints.length === 0) {
      clusterEndpoints = endpoints.filter(
        (ep) => ep.serving && ep.terminating && availableForTopology(ep, topologyMode, node),
      );
    }
    hasAnyEndpoints = clusterEndpoints.length > 0;
  }

  if (!usesLocalEndpoints(svc)) {
    return { clusterEndpoints, localEndpoints, allReachableEndpoints: clusterEndpoints, hasAnyEndpoints };
  }

  let hasLocalReady = false;
  let hasLocalServingTerminating = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      hasAnyEndpoints = true;
      if (ep.isLocal) hasLocalReady = true;
    } else if (ep.serving && ep.terminating) {
      hasAnyEndpoints = true;
      if (ep.isLocal) hasLocalServingTerminating = true;
    }
  }
  if (hasLocalReady) {
    localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.ready);
  } else if (hasLocalServingTerminating) {
    useServingTerminating = true;
    localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.serving && ep.terminating);
  }

  if (!usesClusterEndpoints(svc)) {
    return { clusterEndpoints, localEndpoints, allReachableEndpoints: localEndpoints, hasAnyEndpoints };
  }
  if (topologyMode === "" && !useServingTerminating) {
    // Every ready endpoint is in clusterEndpoints, and localEndpoints holds only ready ones.
    return { clusterEndpoints, localEndpoints, allReachableEndpoints: clusterEndpoints, hasAnyEndpoints };
  }
  const merged = new Map<string, Endpoint>();
  for (const ep of clusterEndpoints) merged.set(ep.key, ep);
  for (const ep of localEndpoints) merged.set(ep.key, ep);
  const allReachableEndpoints = [...merged.values()].sort((a, b) =>
    a.key < b.key ? -1 : a.key > b.key ? 1 : 0,
  );
  return { clusterEndpoints, localEndpoints, allReachableEndpoints, hasAnyEndpoints };
}

function topologyModeFromHints(
  endpoints: readonly Endpoint[],
  node: { readonly name: string; readonly zone: string },
): TopologyMode {
  let allHaveNodeHints = true;
  let hasForNode = false;
  let allHaveZoneHints = true;
  let hasForZone = false;
  for (const ep of endpoints) {
    if (!ep.ready) continue;
    if (ep.nodeHints.size === 0) allHaveNodeHints = false;
    else if (ep.nodeHints.has(node.name)) hasForNode = true;
    if (ep.zoneHints.size === 0) allHaveZoneHints = false;
    else if (ep.zoneHints.has(node.zone)) hasForZone = true;
  }
  if (allHaveNodeHints && hasForNode) return "PreferSameNode";
  if (allHaveZoneHints && hasForZone) return "PreferSameZone";
  return "";
}

function availableForTopology(
  ep: Endpoint,
  mode: TopologyMode,
  node: { readonly name: string; readonly zone: string },
): boolean {
  switch (mode) {
    case "":
      return true;
    case "PreferSameNode":
      return ep.nodeHints.has(node.name);
    case "PreferSameZone":
      return ep.zoneHints.has(node.zone);
  }
}
