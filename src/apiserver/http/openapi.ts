import { createHash } from "node:crypto";
import type { ResourceStrategy } from "../registry/resource-strategy.ts";

/** OpenAPI v3 path of a group version: `api/v1`, `apis/discovery.k8s.io/v1`. */
function gvPath(group: string, version: string): string {
  return group === "" ? `api/${version}` : `apis/${group}/${version}`;
}

function groupVersions(strategies: readonly ResourceStrategy[]): Array<{ group: string; version: string }> {
  const seen = new Map<string, { group: string; version: string }>();
  for (const s of strategies)
    seen.set(gvPath(s.info.group, s.info.version), { group: s.info.group, version: s.info.version });
  return [...seen.values()];
}

/**
 * The OpenAPI v3 document of one group version. It carries no schemas: only, per kind, a PATCH
 * operation tagged with `x-kubernetes-group-version-kind` that accepts `fieldValidation`. That is
 * what kubectl looks for to leave validation to the server (`fieldValidation=Strict`) instead of
 * downloading schemas; without a strategic-merge request body, `kubectl apply` computes its patches
 * from the types compiled into it.
 */
export function openApiGroupVersion(
  strategies: readonly ResourceStrategy[],
  group: string,
  version: string,
): unknown {
  const paths: Record<string, unknown> = {};
  for (const s of strategies) {
    const i = s.info;
    if (i.group !== group || i.version !== version) continue;
    const prefix = `/${gvPath(group, version)}`;
    const itemPath = i.namespaced
      ? `${prefix}/namespaces/{namespace}/${i.resource}/{name}`
      : `${prefix}/${i.resource}/{name}`;
    paths[itemPath] = {
      patch: {
        operationId: `patch${i.namespaced ? "Namespaced" : ""}${i.kind}`,
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": { group, version, kind: i.kind },
        parameters: [
          { name: "dryRun", in: "query", schema: { type: "string", uniqueItems: true } },
          { name: "fieldManager", in: "query", schema: { type: "string", uniqueItems: true } },
          { name: "fieldValidation", in: "query", schema: { type: "string", uniqueItems: true } },
        ],
        responses: { "200": { description: "OK" } },
      },
    };
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes (kproxy embedded API server)", version: "v1.32.0" },
    paths,
    components: { schemas: {} },
  };
}

/** `/openapi/v3`: where each group version's document is, with a content hash for caching. */
export function openApiIndex(strategies: readonly ResourceStrategy[]): unknown {
  const paths: Record<string, unknown> = {};
  for (const { group, version } of groupVersions(strategies)) {
    const hash = createHash("sha256")
      .update(JSON.stringify(openApiGroupVersion(strategies, group, version)))
      .digest("hex")
      .slice(0, 32)
      .toUpperCase();
    paths[gvPath(group, version)] = {
      serverRelativeURL: `/openapi/v3/${gvPath(group, version)}?hash=${hash}`,
    };
  }
  return { paths };
}
