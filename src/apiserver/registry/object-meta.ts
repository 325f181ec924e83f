import type { KubeObject } from "./resource-strategy.ts";

/** The object's metadata, created when missing so that strategies can write to it. */
export function metadataOf(obj: KubeObject): NonNullable<KubeObject["metadata"]> {
  if (typeof obj.metadata !== "object" || obj.metadata === null || Array.isArray(obj.metadata)) {
    obj.metadata = {};
  }
  return obj.metadata;
}

/** `metadata.name`, or "" when missing. */
export function nameOf(obj: KubeObject): string {
  const name = obj.metadata?.name;
  return typeof name === "string" ? name : "";
}

/** `metadata.creationTimestamp`, or undefined when missing. */
export function creationTimestampOf(obj: KubeObject): string | undefined {
  const ts = obj.metadata?.creationTimestamp;
  return typeof ts === "string" ? ts : undefined;
}
