import type { KubeObject } from "./resource-strategy.ts";
import { metadataOf } from "./object-meta.ts";

/** Metadata the server owns: a client's update may neither set nor clear it. */
const systemMetadataFields = [
  "uid",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "generation",
] as const;

/**
 * What every update keeps from the stored object, like kube-apiserver's status strategies:
 * a main-resource update cannot change `status` (it is kept from `old`); a `/status` update can
 * change only `status` (everything else, metadata included, is kept from `old`, except the
 * `resourceVersion` the client sent, which the server checks for conflicts). System metadata
 * (uid, creationTimestamp, deletion fields, generation) always comes from `old` unless the client
 * sent a value, which validation then compares.
 */
export function carryOverForUpdate(obj: KubeObject, old: KubeObject, subresource?: "status"): void {
  if (subresource === "status") {
    const resourceVersion = obj.metadata?.resourceVersion;
    const status = obj.status;
    for (const key of Object.keys(obj)) delete obj[key];
    Object.assign(obj, structuredClone(old));
    if (status === undefined) delete obj.status;
    else obj.status = status;
    const meta = metadataOf(obj);
    if (resourceVersion === undefined) delete meta.resourceVersion;
    else meta.resourceVersion = resourceVersion;
    return;
  }
  if (old.status === undefined) delete obj.status;
  else obj.status = structuredClone(old.status);
  const meta: Record<string, unknown> = metadataOf(obj);
  const oldMeta: Record<string, unknown> = old.metadata ?? {};
  for (const field of systemMetadataFields) {
    if (field === "uid" || field === "creationTimestamp") {
      if (meta[field] === undefined && oldMeta[field] !== undefined) meta[field] = oldMeta[field];
      continue;
    }
    // Deletion state and generation are never the client's to change: take the stored values.
    if (oldMeta[field] === undefined) delete meta[field];
    else meta[field] = structuredClone(oldMeta[field]);
  }
}
