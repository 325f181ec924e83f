import type { KubeObject, ResourceStrategy } from "../registry/resource-strategy.ts";
import { parseFieldSelector, type FieldSelector } from "./field-selector.ts";
import { parseLabelSelector, type LabelSelector } from "./label-selector.ts";

/** Which objects a list or watch wants: a namespace (or all) and label and field selectors. */
export interface ObjectFilter {
  /** Undefined: every namespace. */
  readonly namespace: string | undefined;
  readonly labels: LabelSelector;
  readonly fields: FieldSelector;
  matches(obj: KubeObject): boolean;
}

/** Builds the filter of a request from its namespace and query (throws 400 on a bad selector). */
export function objectFilter(
  strategy: ResourceStrategy,
  namespace: string | undefined,
  query: URLSearchParams,
  extraFieldSelector?: string,
): ObjectFilter {
  const labels = parseLabelSelector(query.get("labelSelector"));
  const fieldText = [query.get("fieldSelector"), extraFieldSelector].filter((s) => s).join(",");
  const fields = parseFieldSelector(fieldText, strategy);
  const ns = strategy.info.namespaced ? namespace : undefined;
  return {
    namespace: ns,
    labels,
    fields,
    matches(obj) {
      if (ns !== undefined && (obj.metadata?.namespace ?? "") !== ns) return false;
      if (!labels.empty && !labels.matches(obj.metadata?.labels)) return false;
      return fields.empty || fields.matches(obj);
    },
  };
}
