import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { causeReason } from "./cause-reason.ts";
import {
  duplicate,
  forbidden,
  goStringSlice,
  goValue,
  immutable,
  invalid,
  notSupported,
  required,
  tooLong,
  tooMany,
} from "./field-errors.ts";

describe("field errors", () => {
  it("word each error type as kube-apiserver does, and map back to its cause reason", () => {
    const cases: Array<[ReturnType<typeof invalid>, string, string]> = [
      [invalid("f", 0, "must be positive"), "Invalid value: 0: must be positive", "FieldValueInvalid"],
      [required("f"), "Required value", "FieldValueRequired"],
      [required("f", "when x"), "Required value: when x", "FieldValueRequired"],
      [
        notSupported("f", "X", ["A", "B"]),
        'Unsupported value: "X": supported values: "A", "B"',
        "FieldValueNotSupported",
      ],
      [duplicate("f", "http"), 'Duplicate value: "http"', "FieldValueDuplicate"],
      [forbidden("f", "not here"), "Forbidden: not here", "FieldValueForbidden"],
      [tooMany("f", 3, 2), "Too many: 3: must have at most 2 items", "FieldValueTooMany"],
      [tooMany("f", 2, 1), "Too many: 2: must have at most 1 item", "FieldValueTooMany"],
      [tooLong("f", 10), "Too long: may not be more than 10 bytes", "FieldValueTooLong"],
      [immutable("f", "a"), 'Invalid value: "a": field is immutable', "FieldValueInvalid"],
    ];
    for (const [problem, message, reason] of cases) {
      assert.equal(problem.message, message);
      assert.equal(causeReason(problem), reason);
    }
    assert.equal(causeReason({ field: "f", message: "something else" }), "FieldValueInvalid");
  });

  it("prints values the way Go's %v/%q/%#v print them", () => {
    assert.equal(goValue('a"b'), '"a\\"b"');
    assert.equal(goValue(42), "42");
    assert.equal(goValue(true), "true");
    assert.equal(goValue(undefined), '"null"');
    assert.equal(goValue(["10.0.0.1", "fd00::1"]), '[]string{"10.0.0.1", "fd00::1"}');
    assert.equal(goValue(goStringSlice("core.IPFamily", ["IPv4"])), '[]core.IPFamily{"IPv4"}');
  });

  it("carries an example of a valid value when one is given", () => {
    assert.deepEqual(invalid("spec.ports[0].port", 0, "bad", "80"), {
      field: "spec.ports[0].port",
      message: "Invalid value: 0: bad",
      example: "80",
    });
    assert.equal(notSupported("f", "X", ["A"]).example, "A");
    assert.equal("example" in forbidden("f", "x"), false);
  });
});
