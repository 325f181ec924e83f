import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createMaglevScheduler, maglevTableSize, populateMaglevTable } from "./mh.ts";
import type { Backend, Scheduler } from "./scheduler.ts";

function endpoint(i: number, weight = 1): Backend {
  return {
    key: `10.244.${i >> 8}.${i & 255}:8080`,
    weight,
    available: true,
    activeConnections: 0,
    inactiveConnections: 0,
  };
}

const clients = Array.from({ length: 20000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);

function assignments(s: Scheduler<Backend>, list: readonly Backend[]): string[] {
  s.setBackends(list);
  return clients.map((ip) => s.pick({ clientIP: ip, clientPort: 1, destinationIP: "" })?.key ?? "-");
}

function movedShare(before: readonly string[], after: readonly string[]): number {
  let moved = 0;
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) moved++;
  return moved / before.length;
}

describe("mh (Maglev)", () => {
  it("uses a prime table with at least 100 slots per backend", () => {
    assert.equal(maglevTableSize(1), 4093);
    assert.equal(maglevTableSize(41), 8191);
    assert.equal(maglevTableSize(100000), 65537);
  });

  it("fills every slot and gives each backend a near-equal share of them", () => {
    const list = Array.from({ length: 7 }, (_, i) => endpoint(i));
    const table = populateMaglevTable(list, 1021);
    const counts = new Array<number>(7).fill(0);
    for (const index of table) counts[index] = (counts[index] ?? 0) + 1;
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      1021,
    );
    for (const c of counts) assert.ok(c === 145 || c === 146, `slots per backend ${counts.join(",")}`);
  });

  it("gives weights proportional shares of the table", () => {
    const table = populateMaglevTable([endpoint(0, 3), endpoint(1, 1)], 4093);
    const first = table.filter((i) => i === 0).length;
    assert.ok(Math.abs(first / 4093 - 0.75) < 0.01, `share ${first / 4093}`);
  });

  const disruption: { from: number; to: number }[] = [
    { from: 5, to: 6 },
    { from: 6, to: 5 },
    { from: 10, to: 11 },
    { from: 10, to: 9 },
    { from: 3, to: 4 },
  ];
  for (const { from, to } of disruption) {
    it(`moves about 1/N of the flows when the set goes from ${from} to ${to} backends`, () => {
      const big = Math.max(from, to);
      const all = Array.from({ length: big }, (_, i) => endpoint(i));
      // Remove (or add) one in the middle, not at the end, so that list order is not what keeps flows.
      const small = all.filter((_, i) => i !== Math.floor(big / 2));
      const s = createMaglevScheduler<Backend>();
      const before = assignments(s, from === big ? all : small);
      const after = assignments(s, to === big ? all : small);
      const share = movedShare(before, after);
      const ideal = 1 / big;
      assert.ok(
        share >= ideal * 0.7 && share <= ideal * 1.6,
        `moved ${share.toFixed(3)}, ideal ${ideal.toFixed(3)}`,
      );
    });
  }

  it("round robin by contrast would move most flows (the reason mh exists)", () => {
    // Modulo hashing over 5 then 6 backends moves about 5/6 of the flows; mh must beat it by far.
    const mod = (n: number): string[] => clients.map((_, i) => String(i % n));
    assert.ok(movedShare(mod(5), mod(6)) > 0.8);
  });
});
