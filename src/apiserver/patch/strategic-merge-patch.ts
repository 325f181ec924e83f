import { badRequest } from "../http/api-error.ts";
import { isJsonObject } from "./json-merge-patch.ts";

const setElementOrderPrefix = "$setElementOrder/";
const deleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList/";

type JsonMap = Record<string, unknown>;

/**
 * Applies a strategic merge patch (`application/strategic-merge-patch+json`, what `kubectl apply`
 * sends): maps merge as in a JSON merge patch; lists named in `mergeKeys` (JSON path without
 * indices → the field identifying an item, e.g. `spec.ports` → `port`) merge item by item, other
 * lists are replaced. Directives: `$patch: replace|delete` on maps and list items,
 * `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>` and `$retainKeys`.
 * Returns a new object; the inputs are not modified.
 */
export function applyStrategicMergePatch(
  original: unknown,
  patch: unknown,
  mergeKeys: Readonly<Record<string, string>>,
): unknown {
  if (!isJsonObject(patch))
    throw badRequest("cannot apply strategic merge patch: the patch must be a JSON object");
  const result = mergeMap(isJsonObject(original) ? original : {}, patch, "", mergeKeys);
  return result ?? {};
}

function childPath(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** Merges `patch` into a copy of `original`; undefined means "delete this map". */
function mergeMap(
  original: JsonMap,
  patch: JsonMap,
  path: string,
  mergeKeys: Readonly<Record<string, string>>,
): JsonMap | undefined {
  const directive = patch["$patch"];
  if (directive === "delete") return undefined;
  if (directive === "replace") {
    const replaced = structuredClone(patch);
    delete replaced["$patch"];
    return stripDirectives(replaced);
  }
  if (directive !== undefined) {
    throw badRequest(
      `cannot apply strategic merge patch: unknown $patch ${JSON.stringify(directive)} at ${path || "the top"}`,
    );
  }
  const result: JsonMap = { ...original };
  const orders = new Map<string, unknown[]>();
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(setElementOrderPrefix)) {
      if (Array.isArray(value)) orders.set(key.slice(setElementOrderPrefix.length), value);
      continue;
    }
    if (key.startsWith(deleteFromPrimitiveListPrefix)) {
      const field = key.slice(deleteFromPrimitiveListPrefix.length);
      const current = result[field];
      if (Array.isArray(current) && Array.isArray(value)) {
        const drop = new Set(value.map((v) => JSON.stringify(v)));
        result[field] = current.filter((v) => !drop.has(JSON.stringify(v)));
      }
      continue;
    }
    if (key === "$retainKeys") continue;
    if (value === null) {
      delete result[key];
      continue;
    }
    const here = childPath(path, key);
    const current = result[key];
    if (isJsonObject(value)) {
      const merged = mergeMap(isJsonObject(current) ? current : {}, value, here, mergeKeys);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else if (Array.isArray(value)) {
      const mergeKey = mergeKeys[here];
      result[key] =
        mergeKey !== undefined && Array.isArray(current)
          ? mergeList(current, value, here, mergeKey, mergeKeys)
          : stripDirectives(structuredClone(value));
    } else {
      result[key] = value;
    }
  }
  const retain = patch["$retainKeys"];
  if (Array.isArray(retain)) {
    const keep = new Set(retain.map(String));
    for (const key of Object.keys(result)) if (!keep.has(key)) delete result[key];
  }
  for (const [field, order] of orders) {
    const list = result[field];
    const mergeKey = mergeKeys[childPath(path, field)];
    if (Array.isArray(list)) result[field] = reorder(list, order, mergeKey);
  }
  return result;
}

function keyOf(item: unknown, mergeKey: string): string | undefined {
  return isJsonObject(item) && item[mergeKey] !== undefined ? JSON.stringify(item[mergeKey]) : undefined;
}

function mergeList(
  original: readonly unknown[],
  patch: readonly unknown[],
  path: string,
  mergeKey: string,
  mergeKeys: Readonly<Record<string, string>>,
): unknown[] {
  if (patch.some((item) => isJsonObject(item) && item["$patch"] === "replace")) {
    return stripDirectives(
      structuredClone(patch.filter((item) => !(isJsonObject(item) && item["$patch"] === "replace"))),
    );
  }
  const result: unknown[] = original.map((item) => structuredClone(item));
  for (const item of patch) {
    const key = keyOf(item, mergeKey);
    const index = key === undefined ? -1 : result.findIndex((o) => keyOf(o, mergeKey) === key);
    if (isJsonObject(item) && item["$patch"] === "delete") {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    if (index >= 0 && isJsonObject(item)) {
      const current = result[index];
      result[index] = mergeMap(isJsonObject(current) ? current : {}, item, path, mergeKeys) ?? {};
    } else {
      result.push(stripDirectives(structuredClone(item)));
    }
  }
  return result;
}

/** Orders `list` as `order` says (items or merge-key values); items not named keep their place after. */
function reorder(
  list: readonly unknown[],
  order: readonly unknown[],
  mergeKey: string | undefined,
): unknown[] {
  const rank = new Map<string, number>();
  order.forEach((o, i) => {
    const k = mergeKey !== undefined && isJsonObject(o) ? keyOf(o, mergeKey) : JSON.stringify(o);
    if (k !== undefined) rank.set(k, i);
  });
  const rankOf = (item: unknown): number => {
    const k = mergeKey !== undefined ? keyOf(item, mergeKey) : JSON.stringify(item);
    return (k === undefined ? undefined : rank.get(k)) ?? Number.MAX_SAFE_INTEGER;
  };
  return list
    .map((item, i) => ({ item, i, r: rankOf(item) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.item);
}

/** Removes `$patch`/`$setElementOrder`/... keys from values that are inserted as they are. */
function stripDirectives<T>(value: T): T {
  if (Array.isArray(value)) {
    return value.map((v: unknown) => stripDirectives(v)) as T;
  }
  if (isJsonObject(value)) {
    const out: JsonMap = {};
    for (const [k, v] of Object.entries(value)) {
      if (k.startsWith("$")) continue;
      out[k] = stripDirectives(v);
    }
    return out as T;
  }
  return value;
}
