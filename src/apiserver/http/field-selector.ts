import type { KubeObject, ResourceStrategy } from "../registry/resource-strategy.ts";
import { badRequest } from "./api-error.ts";

/** A parsed field selector; `matches` tests one object. */
export interface FieldSelector {
  readonly empty: boolean;
  /** The value required for `field` with `=`, if any (lets the caller use an index). */
  exact(field: string): string | undefined;
  matches(obj: KubeObject): boolean;
}

interface FieldRequirement {
  readonly field: string;
  readonly equal: boolean;
  readonly value: string;
}

/** Reads a dotted path such as `spec.nodeName` from an object, as a string. */
function valueAtPath(obj: KubeObject, path: string): string | undefined {
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    if (typeof cur !== "object" || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  if (typeof cur === "string") return cur;
  if (typeof cur === "number" || typeof cur === "boolean") return String(cur);
  return undefined;
}

/**
 * Reads a field for selection: the strategy's own fields first, then `metadata.name` and
 * `metadata.namespace`, then any scalar at that path (kube-apiserver accepts only a fixed set per
 * resource; being lenient here lets clients such as `kubectl describe` use theirs).
 */
export function fieldValueOf(obj: KubeObject, field: string, strategy: ResourceStrategy | undefined): string {
  const own = strategy?.fieldValue?.(obj, field);
  if (own !== undefined) return own;
  return valueAtPath(obj, field) ?? "";
}

/** Parses a `fieldSelector` query parameter (`a=b`, `a==b`, `a!=b`, comma-separated). */
export function parseFieldSelector(
  selector: string | null | undefined,
  strategy: ResourceStrategy | undefined,
): FieldSelector {
  const requirements: FieldRequirement[] = [];
  for (const raw of (selector ?? "").split(",")) {
    const part = raw.trim();
    if (part === "") continue;
    const m = /^([^=!\s]+)\s*(==|!=|=)\s*(.*)$/.exec(part);
    if (m === null) {
      throw badRequest(
        `invalid field selector ${JSON.stringify(selector)}: ${JSON.stringify(part)} is not field=value, field==value or field!=value`,
      );
    }
    requirements.push({ field: m[1] ?? "", equal: m[2] !== "!=", value: (m[3] ?? "").trim() });
  }
  return {
    empty: requirements.length === 0,
    exact(field) {
      return requirements.find((r) => r.field === field && r.equal)?.value;
    },
    matches(obj) {
      return requirements.every((r) => (fieldValueOf(obj, r.field, strategy) === r.value) === r.equal);
    },
  };
}
