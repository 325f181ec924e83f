/**
 * Typed reads of untyped JSON objects. Strategies work on stored objects as plain JSON (what a
 * client sent), so every field may be missing or of the wrong type; these helpers never throw.
 */

/** A JSON object, or undefined when `value` is not one (arrays and null are not objects here). */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** A string, or undefined. */
export function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** An array, or an empty array when `value` is not one. */
export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A finite number, or undefined. */
export function asNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** The object at `key` of `parent`, created (and stored) when missing or not an object. */
export function ensureRecord(parent: Record<string, unknown>, key: string): Record<string, unknown> {
  const existing = asRecord(parent[key]);
  if (existing !== undefined) return existing;
  const created: Record<string, unknown> = {};
  parent[key] = created;
  return created;
}
