import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "../registry/resource-strategy.ts";
import type { ResourceMapping } from "./resource-mapping.ts";
import type { RestClient, RestResponse } from "./rest-client.ts";

/** The annotation `kubectl apply` keeps the applied manifest in; shared so both tools agree. */
export const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

/** What applying one object did. */
export type ApplyOutcome = "created" | "configured" | "unchanged";

/** True when every field of `part` has the same value in `whole`. */
function isSubset(part: unknown, whole: unknown): boolean {
  if (typeof part !== "object" || part === null || Array.isArray(part)) return isDeepStrictEqual(part, whole);
  if (typeof whole !== "object" || whole === null || Array.isArray(whole)) return false;
  return Object.entries(part).every(([k, v]) => isSubset(v, (whole as Record<string, unknown>)[k]));
}

function failure(what: string, res: RestResponse): Error {
  const message = typeof res.body?.["message"] === "string" ? res.body["message"] : `HTTP ${res.status}`;
  return new Error(`cannot ${what}: ${message}`);
}

/**
 * Creates or updates one object like `kubectl apply`: create when missing; otherwise replace it
 * (keeping what the server allocated) unless the manifest is the one last applied. A `status` in
 * the manifest (e.g. a Pod's IP and readiness, which only the status subresource may write) is
 * written through `/status`.
 */
export async function applyObject(
  client: RestClient,
  mapping: ResourceMapping,
  manifest: KubeObject,
): Promise<ApplyOutcome> {
  const name = manifest.metadata?.name ?? "";
  const namespace = mapping.namespaced ? (manifest.metadata?.namespace ?? "default") : undefined;
  const collection = `${mapping.prefix}${namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : ""}/${mapping.resource}`;
  const item = `${collection}/${encodeURIComponent(name)}`;
  const applied = JSON.stringify(manifest);
  const desired = structuredClone(manifest);
  desired.metadata = {
    ...desired.metadata,
    ...(namespace !== undefined ? { namespace } : {}),
    annotations: { ...(desired.metadata?.annotations ?? {}), [lastAppliedAnnotation]: applied },
  };
  const status = manifest["status"];
  let outcome: ApplyOutcome = "unchanged";
  for (let attempt = 0; ; attempt++) {
    const current = await client.request("GET", item);
    if (current.status === 404) {
      const created = await client.request("POST", collection, desired);
      if (created.status === 409 && attempt < 3) continue;
      if (created.status !== 201) throw failure("create", created);
      outcome = "created";
      break;
    }
    if (current.status !== 200 || current.body === undefined)
      throw failure("read the current object", current);
    const meta = (current.body["metadata"] ?? {}) as NonNullable<KubeObject["metadata"]>;
    if (meta.annotations?.[lastAppliedAnnotation] === applied) break;
    desired.metadata.resourceVersion = meta.resourceVersion ?? "";
    const replaced = await client.request("PUT", item, desired);
    if (replaced.status === 409 && attempt < 3) continue;
    if (replaced.status !== 200) throw failure("update", replaced);
    outcome = "configured";
    break;
  }
  if (status !== undefined && mapping.hasStatus) {
    const current = await client.request("GET", item);
    if (!isSubset(status, current.body?.["status"])) {
      const patched = await client.request(
        "PATCH",
        `${item}/status`,
        { status },
        "application/merge-patch+json",
      );
      if (patched.status !== 200) throw failure("write the status", patched);
      if (outcome === "unchanged") outcome = "configured";
    }
  }
  return outcome;
}
