import type { FieldProblem } from "../../errors.ts";

/** Message prefixes written by `field-errors.ts`, and the Status cause reason each stands for. */
const reasons: ReadonlyArray<readonly [string, string]> = [
  ["Invalid value", "FieldValueInvalid"],
  ["Required value", "FieldValueRequired"],
  ["Unsupported value", "FieldValueNotSupported"],
  ["Duplicate value", "FieldValueDuplicate"],
  ["Forbidden", "FieldValueForbidden"],
  ["Too many", "FieldValueTooMany"],
  ["Too long", "FieldValueTooLong"],
];

/**
 * The `reason` of a `Status.details.causes[]` entry for a problem, as kube-apiserver fills it
 * (`FieldValueInvalid`, `FieldValueRequired`, ...); `FieldValueInvalid` for anything unrecognised.
 */
export function causeReason(problem: FieldProblem): string {
  for (const [prefix, reason] of reasons) {
    if (problem.message.startsWith(prefix)) return reason;
  }
  return "FieldValueInvalid";
}
