import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  EndpointBlocks,
  endpointMapName,
  endpointRanges,
  endpointShardOf,
  endpointSlots,
} from "./endpoint-blocks.ts";

describe("endpoint blocks", () => {
  it("splits a block evenly and without gaps among the targets", () => {
    const offset = 3 * endpointSlots;
    for (const n of [1, 2, 3, 7, 1000]) {
      const ranges = endpointRanges(
        offset,
        Array.from({ length: n }, (_, i) => `10.0.${i >> 8}.${i & 255} . 80`),
      );
      assert.equal(ranges.length, n);
      let next = offset;
      const sizes = ranges.map((r) => {
        const [from = NaN, to = NaN] = r.key.split("-").map(Number);
        assert.equal(from, next, `n=${n}: ${r.key} does not follow ${next - 1}`);
        next = to + 1;
        return to - from + 1;
      });
      assert.equal(next, offset + endpointSlots, `n=${n}: the block is not covered`);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `n=${n}: uneven ${sizes.join(",")}`);
    }
    assert.deepEqual(endpointRanges(0, ["10.0.0.1 . 80", "10.0.0.2 . 81"]), [
      { key: "0-16383", data: "10.0.0.1 . 80" },
      { key: "16384-32767", data: "10.0.0.2 . 81" },
    ]);
    assert.deepEqual(endpointRanges(0, []), []);
  });

  it("gives each chain its own block, keeps it until released, and reuses released ones", () => {
    const blocks = new EndpointBlocks();
    const names = Array.from({ length: 200 }, (_, i) => `service-X-ns/s${i}/tcp/p`);
    const first = names.map((n) => blocks.blockOf(n));
    const ids = new Set(first.map((b) => `${b.shard}/${b.offset}`));
    assert.equal(ids.size, names.length, "two chains share a block");
    assert.ok(first.every((b) => b.offset > 0 && b.offset % endpointSlots === 0));
    assert.ok(first.every((b, i) => b.shard === endpointShardOf(names[i] ?? "")));
    assert.deepEqual(blocks.blockOf(names[5] ?? ""), first[5]);

    const freed = first[7];
    blocks.release(names[7] ?? "");
    assert.equal(blocks.size, names.length - 1);
    // A new chain of the same shard gets the freed block.
    let other = 0;
    while (endpointShardOf(`other-${other}`) !== freed?.shard) other++;
    assert.deepEqual(blocks.blockOf(`other-${other}`), freed);

    blocks.reset();
    assert.equal(blocks.size, 0);
    assert.equal(blocks.blockOf(names[0] ?? "").offset, endpointSlots);
  });

  it("names the maps per protocol and shard", () => {
    assert.equal(endpointMapName("tcp", 7), "endpoints-tcp-07");
    assert.equal(endpointMapName("sctp", 31), "endpoints-sctp-31");
  });
});
