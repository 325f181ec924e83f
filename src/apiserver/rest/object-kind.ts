import { badRequest } from "../http/api-error.ts";
import type { KubeObject, ResourceStrategy } from "../registry/resource-strategy.ts";

/** `v1` or `group/version` of a resource. */
export function apiVersionOf(strategy: ResourceStrategy): string {
  return strategy.info.group === ""
    ? strategy.info.version
    : `${strategy.info.group}/${strategy.info.version}`;
}

/**
 * Checks that a body is an object of the resource's kind and version (when it says) and returns
 * it with `apiVersion` and `kind` set, first, as kube-apiserver writes them.
 */
export function withKind(strategy: ResourceStrategy, obj: KubeObject): KubeObject {
  if (typeof obj !== "object" || obj === null || Array.isArray(obj))
    throw badRequest("the body must be a JSON object");
  const { kind } = strategy.info;
  if (obj.kind !== undefined && obj.kind !== kind) {
    throw badRequest(`the kind of the object (${String(obj.kind)}) does not match the resource (${kind})`);
  }
  const apiVersion = apiVersionOf(strategy);
  if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion) {
    throw badRequest(
      `the API version of the object (${String(obj.apiVersion)}) does not match the resource (${apiVersion})`,
    );
  }
  return { apiVersion, kind, ...obj };
}
