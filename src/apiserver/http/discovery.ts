import type { ResourceStrategy } from "../registry/resource-strategy.ts";

const verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
const statusVerbs = ["get", "patch", "update"];

/** The version kproxy's server reports (`kubectl version`): the Kubernetes API it follows. */
export const serverVersion = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.0",
  gitCommit: "kproxy",
  gitTreeState: "clean",
  buildDate: "2025-01-01T00:00:00Z",
  goVersion: "n/a",
  compiler: "kproxy",
  platform: `${process.platform}/${process.arch === "x64" ? "amd64" : process.arch}`,
};

function groupVersion(group: string, version: string): string {
  return group === "" ? version : `${group}/${version}`;
}

/** The API groups served (other than core), each with its one version. */
export function servedGroups(
  strategies: readonly ResourceStrategy[],
): Array<{ group: string; version: string }> {
  const seen = new Map<string, string>();
  for (const s of strategies)
    if (s.info.group !== "" && !seen.has(s.info.group)) seen.set(s.info.group, s.info.version);
  return [...seen].map(([group, version]) => ({ group, version }));
}

/** `/api`: the core group's versions. */
export function apiVersions(serverAddress: string): unknown {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

function apiGroup(group: string, version: string): Record<string, unknown> {
  const gv = { groupVersion: groupVersion(group, version), version };
  return { name: group, versions: [gv], preferredVersion: gv };
}

/** `/apis`: every non-core group. */
export function apiGroupList(strategies: readonly ResourceStrategy[]): unknown {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: servedGroups(strategies).map((g) => apiGroup(g.group, g.version)),
  };
}

/** `/apis/GROUP`: one group. */
export function apiGroupDocument(group: string, version: string): unknown {
  return { kind: "APIGroup", apiVersion: "v1", ...apiGroup(group, version) };
}

/** `/api/v1`, `/apis/GROUP/VERSION`: the resources of a group version (and their `/status`). */
export function apiResourceList(
  strategies: readonly ResourceStrategy[],
  group: string,
  version: string,
): unknown {
  const resources: unknown[] = [];
  for (const s of strategies) {
    const i = s.info;
    if (i.group !== group || i.version !== version) continue;
    resources.push({
      name: i.resource,
      singularName: i.singularName,
      namespaced: i.namespaced,
      kind: i.kind,
      verbs,
      ...(i.shortNames.length > 0 ? { shortNames: i.shortNames } : {}),
      ...(i.categories.length > 0 ? { categories: i.categories } : {}),
    });
    if (i.hasStatus) {
      resources.push({
        name: `${i.resource}/status`,
        singularName: "",
        namespaced: i.namespaced,
        kind: i.kind,
        verbs: statusVerbs,
      });
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: groupVersion(group, version), resources };
}

/**
 * The aggregated discovery document (`apidiscovery.k8s.io` v2 or v2beta1) for `/api` (core) or
 * `/apis` (every other group): what kubectl asks for first, saving a request per group.
 */
export function aggregatedDiscovery(
  strategies: readonly ResourceStrategy[],
  core: boolean,
  version: string,
): unknown {
  const groups = core ? [{ group: "", version: "v1" }] : servedGroups(strategies);
  return {
    kind: "APIGroupDiscoveryList",
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: groups.map((g) => ({
      metadata: { name: g.group },
      versions: [
        {
          version: g.version,
          freshness: "Current",
          resources: strategies
            .filter((s) => s.info.group === g.group && s.info.version === g.version)
            .map((s) => {
              const i = s.info;
              const responseKind = { group: i.group, version: i.version, kind: i.kind };
              return {
                resource: i.resource,
                responseKind,
                scope: i.namespaced ? "Namespaced" : "Cluster",
                singularResource: i.singularName,
                verbs,
                ...(i.shortNames.length > 0 ? { shortNames: i.shortNames } : {}),
                ...(i.categories.length > 0 ? { categories: i.categories } : {}),
                ...(i.hasStatus
                  ? { subresources: [{ subresource: "status", responseKind, verbs: statusVerbs }] }
                  : {}),
              };
            }),
        },
      ],
    })),
  };
}

/** The Content-Type of an aggregated discovery answer, which clients check before decoding. */
export function aggregatedContentType(version: string): string {
  return `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
}
