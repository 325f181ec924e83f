import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatGoDuration, parseGoDuration } from "./go-duration.ts";

describe("Go durations", () => {
  const parsed: Array<[string, number | undefined]> = [
    ["30s", 30_000],
    ["1m0s", 60_000],
    ["1h30m", 5_400_000],
    ["250ms", 250],
    ["1.5s", 1500],
    ["0", 0],
    ["0s", 0],
    ["-2s", -2000],
    ["100us", 0.1],
    ["10", undefined],
    ["", undefined],
    ["1d", undefined],
    ["s", undefined],
    ["abc", undefined],
  ];
  for (const [text, ms] of parsed) {
    it(`parses ${JSON.stringify(text)}`, () => assert.equal(parseGoDuration(text), ms));
  }
  const formatted: Array<[number, string]> = [
    [0, "0s"],
    [250, "250ms"],
    [30_000, "30s"],
    [60_000, "1m0s"],
    [90_500, "1m30.5s"],
    [3_600_000, "1h0m0s"],
    [-1000, "-1s"],
  ];
  for (const [ms, text] of formatted) {
    it(`formats ${ms} ms as ${text}`, () => {
      assert.equal(formatGoDuration(ms), text);
      assert.equal(parseGoDuration(text), ms);
    });
  }
});
