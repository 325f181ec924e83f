import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { baselineKernelFeatures } from "../../kernel-features.ts";
import { loadConformanceInput } from "../testing/load-conformance-input.ts";
import { sortNftTransaction } from "../testing/sort-nft-transaction.ts";
import { renderNftables } from "./render-nftables.ts";

const upstreamDir = join(import.meta.dirname, "../../../../test/conformance/upstream");

function assertSameTransaction(actual: string, expected: string): void {
  const a = sortNftTransaction(actual);
  const e = sortNftTransaction(expected);
  // The whole normalised output on failure, so that a diff shows every difference at once.
  assert.equal(a, e, `normalised output differs:\n--- actual\n${a}\n--- expected\n${e}`);
}

describe("renderNftables, upstream layout", () => {
  for (const name of ["nftables-overall", "nftables-repeated-step1"]) {
    it(`matches upstream's ${name} golden after normalisation`, () => {
      const { state, config } = loadConformanceInput(name, "upstream");
      const expected = readFileSync(join(upstreamDir, `${name}.expected.txt`), "utf8");
      assertSameTransaction(renderNftables(state, config, baselineKernelFeatures), expected);
    });
  }
});
