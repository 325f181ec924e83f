import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatAge, humanDuration } from "./format-age.ts";

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

describe("humanDuration", () => {
  const cases: Array<[number, string]> = [
    [-2 * s, "<invalid>"],
    [-1 * s, "0s"],
    [-500, "0s"],
    [0, "0s"],
    [5 * s, "5s"],
    [119 * s, "119s"],
    [2 * m, "2m"],
    [3 * m + 12 * s, "3m12s"],
    [9 * m + 59 * s, "9m59s"],
    [10 * m + 30 * s, "10m"],
    [179 * m, "179m"],
    [3 * h, "3h"],
    [3 * h + 25 * m, "3h25m"],
    [7 * h + 59 * m, "7h59m"],
    [8 * h + 30 * m, "8h"],
    [47 * h, "47h"],
    [2 * d, "2d"],
    [2 * d + 3 * h, "2d3h"],
    [7 * d + 23 * h, "7d23h"],
    [8 * d + 5 * h, "8d"],
    [729 * d, "729d"],
    [2 * 365 * d, "2y"],
    [3 * 365 * d + 10 * d, "3y10d"],
    [8 * 365 * d + 100 * d, "8y"],
  ];
  for (const [ms, want] of cases) {
    it(`${ms} ms → ${want}`, () => assert.equal(humanDuration(ms), want));
  }
});

describe("formatAge", () => {
  const now = new Date("2024-03-01T12:00:00Z");
  it("measures from the timestamp to now", () => {
    assert.equal(formatAge("2024-03-01T11:56:48Z", now), "3m12s");
    assert.equal(formatAge("2024-02-28T09:00:00Z", now), "2d3h");
  });
  it("prints <unknown> without a usable timestamp", () => {
    assert.equal(formatAge(undefined, now), "<unknown>");
    assert.equal(formatAge("", now), "<unknown>");
    assert.equal(formatAge("yesterday-ish", now), "<unknown>");
  });
});
