import { randomUUID } from "node:crypto";
import type { KubeObject } from "../registry/resource-strategy.ts";
import type { StoredObject } from "../store/stored-object.ts";

const generateNameChars = "bcdfghjklmnpqrstvwxz2456789";

/** Kubernetes' timestamp format: RFC 3339 in UTC, whole seconds. */
export function kubeTimestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** A name from `generateName` plus five random characters, as kube-apiserver makes them. */
export function generatedName(prefix: string): string {
  let suffix = "";
  for (let i = 0; i < 5; i++)
    suffix += generateNameChars[Math.floor(Math.random() * generateNameChars.length)];
  return `${prefix.slice(0, 58)}${suffix}`;
}

/** Sets what the server owns on a new object: uid, creation time, generation; drops what it ignores. */
export function initialiseMetadata(obj: KubeObject, nowMs: number): void {
  obj.metadata ??= {};
  const meta = obj.metadata;
  meta.uid = randomUUID();
  meta.creationTimestamp = kubeTimestamp(nowMs);
  meta.generation = 1;
  delete meta.resourceVersion;
  delete meta.deletionTimestamp;
  delete meta["deletionGracePeriodSeconds"];
  delete meta.managedFields;
  delete meta["selfLink"];
}

/** True when anything outside `metadata` and `status` differs (what bumps `metadata.generation`). */
export function specChanged(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject): string => {
    const { metadata: _m, status: _s, ...rest } = o;
    return JSON.stringify(rest);
  };
  return strip(a) !== strip(b);
}

/** What a dry run answers: the object as it would be stored (not stored). */
export function previewOf(obj: KubeObject): StoredObject {
  return {
    key: "",
    namespace: obj.metadata?.namespace ?? "",
    name: obj.metadata?.name ?? "",
    rv: Number(obj.metadata?.resourceVersion ?? 0),
    object: obj,
    json: JSON.stringify(obj),
  };
}
