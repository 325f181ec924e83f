import type { FieldProblem } from "../../errors.ts";

/**
 * Constructors for field problems worded as kube-apiserver words its `field.Error`s, so that
 * `kubectl` prints the same `spec.ports[0].port: Invalid value: 0: must be between 1 and 65535,
 * inclusive` line it prints for a real cluster. The message starts with the error type
 * ("Invalid value", "Required value", "Unsupported value", "Duplicate value", "Forbidden",
 * "Too many", "Too long"); `causeReason` maps it back to the Status cause reason.
 *
 * The constructors take `(field, value, detail)` positionally, beyond STYLE.md's two, on purpose:
 * they mirror upstream's `field.Invalid(path, value, detail)` so that each rule reads side by side
 * with the kube-apiserver code it reproduces.
 */

/** `Invalid value: <value>: <detail>`. */
export function invalid(field: string, value: unknown, detail: string, example?: string): FieldProblem {
  return withExample({ field, message: `Invalid value: ${goValue(value)}: ${detail}` }, example);
}

/** `Required value` or `Required value: <detail>`. */
export function required(field: string, detail = "", example?: string): FieldProblem {
  return withExample(
    { field, message: detail === "" ? "Required value" : `Required value: ${detail}` },
    example,
  );
}

/** `Unsupported value: "X": supported values: "A", "B"` (the supported values listed as given). */
export function notSupported(field: string, value: unknown, supported: readonly string[]): FieldProblem {
  const detail =
    supported.length > 0 ? `: supported values: ${supported.map((v) => JSON.stringify(v)).join(", ")}` : "";
  return withExample({ field, message: `Unsupported value: ${goValue(value)}${detail}` }, supported[0]);
}

/** `Duplicate value: <value>`. */
export function duplicate(field: string, value: unknown): FieldProblem {
  return { field, message: `Duplicate value: ${goValue(value)}` };
}

/** `Forbidden: <detail>`. */
export function forbidden(field: string, detail: string): FieldProblem {
  return { field, message: detail === "" ? "Forbidden" : `Forbidden: ${detail}` };
}

/** `Too many: <actual>: must have at most <max> items`. */
export function tooMany(field: string, actual: number, max: number): FieldProblem {
  return { field, message: `Too many: ${actual}: must have at most ${max} ${max === 1 ? "item" : "items"}` };
}

/** `Too long: may not be more than <max> bytes`. */
export function tooLong(field: string, max: number): FieldProblem {
  return { field, message: `Too long: may not be more than ${max} bytes` };
}

/** The `field is immutable` error kube-apiserver gives when an update changes a fixed field. */
export function immutable(field: string, value: unknown): FieldProblem {
  return invalid(field, value, "field is immutable");
}

/** A value already written the way Go prints it (e.g. `[]core.IPFamily{"IPv4"}`), shown verbatim. */
export class GoLiteral {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }
}

/** A Go slice literal of strings with the given element type, e.g. `[]core.IPFamily{"IPv4"}`. */
export function goStringSlice(elementType: string, values: readonly unknown[]): GoLiteral {
  return new GoLiteral(
    `[]${elementType}{${values.map((v) => (typeof v === "string" ? JSON.stringify(v) : String(v))).join(", ")}}`,
  );
}

/**
 * A value as Go's `field.Error` prints it: strings quoted, numbers and booleans bare, string
 * lists as `[]string{"a", "b"}`, and a missing value as `"null"` (Go prints a nil pointer so).
 */
export function goValue(value: unknown): string {
  if (value instanceof GoLiteral) return value.text;
  if (value === undefined || value === null) return '"null"';
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
    return `[]string{${value.map((v) => JSON.stringify(v)).join(", ")}}`;
  }
  return JSON.stringify(value);
}

function withExample(problem: FieldProblem, example: string | undefined): FieldProblem {
  return example === undefined ? problem : { ...problem, example };
}
