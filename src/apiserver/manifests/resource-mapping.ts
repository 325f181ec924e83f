import type { RestClient } from "./rest-client.ts";

/** Where objects of one kind live on the server. */
export interface ResourceMapping {
  /** `/api/v1` or `/apis/GROUP/VERSION`. */
  readonly prefix: string;
  readonly resource: string;
  readonly namespaced: boolean;
  readonly hasStatus: boolean;
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

/** Learns from discovery where each `apiVersion` + `kind` is served (key: `v1/Service`). */
export async function discoverResources(client: RestClient): Promise<Map<string, ResourceMapping>> {
  const mapping = new Map<string, ResourceMapping>();
  const groupVersions = ["v1"];
  const apis = await client.request("GET", "/apis");
  const groups = (apis.body?.["groups"] ?? []) as Array<{ preferredVersion?: { groupVersion?: string } }>;
  for (const g of groups)
    if (g.preferredVersion?.groupVersion) groupVersions.push(g.preferredVersion.groupVersion);
  for (const gv of groupVersions) {
    const prefix = gv === "v1" ? "/api/v1" : `/apis/${gv}`;
    const res = await client.request("GET", prefix);
    if (res.status !== 200) continue;
    const resources = (res.body?.["resources"] ?? []) as ApiResource[];
    const withStatus = new Set(
      resources.filter((r) => r.name.endsWith("/status")).map((r) => r.name.slice(0, -7)),
    );
    for (const r of resources) {
      if (r.name.includes("/")) continue;
      mapping.set(`${gv}/${r.kind}`, {
        prefix,
        resource: r.name,
        namespaced: r.namespaced,
        hasStatus: withStatus.has(r.name),
      });
    }
  }
  return mapping;
}
