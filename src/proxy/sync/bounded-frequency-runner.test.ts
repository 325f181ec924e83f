import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { silentLogger } from "../../sys/logger.ts";
import { BoundedFrequencyRunner } from "./bounded-frequency-runner.ts";
import { ManualClock } from "./manual-clock.ts";

interface Harness {
  clock: ManualClock;
  runner: BoundedFrequencyRunner;
  /** `[time since start, full]` of every sync. */
  syncs: Array<[number, boolean]>;
  /** Make the next syncs fail (count) or take a while (ms). */
  failNext: (n: number) => void;
  slowNext: (ms: number) => void;
  concurrent: () => number;
}

function harness(o: { min: number; max: number; retryBase?: number }): Harness {
  const clock = new ManualClock(0);
  const syncs: Array<[number, boolean]> = [];
  let failures = 0;
  let slowMs = 0;
  let running = 0;
  let maxRunning = 0;
  const runner = new BoundedFrequencyRunner({
    clock,
    logger: silentLogger(),
    minIntervalMs: o.min,
    maxIntervalMs: o.max,
    ...(o.retryBase !== undefined ? { retryBaseMs: o.retryBase } : {}),
    run: async (full) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      syncs.push([clock.now(), full]);
      try {
        if (slowMs > 0) {
          const ms = slowMs;
          slowMs = 0;
          await new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
        }
        if (failures > 0) {
          failures--;
          throw new Error("apply failed");
        }
      } finally {
        running--;
      }
    },
  });
  return {
    clock,
    runner,
    syncs,
    failNext: (n) => (failures = n),
    slowNext: (ms) => (slowMs = ms),
    concurrent: () => maxRunning,
  };
}

describe("BoundedFrequencyRunner", () => {
  it("starts with a full sync at once, then runs a full sync every maxInterval", async () => {
    const h = harness({ min: 1000, max: 30_000 });
    h.runner.start();
    await h.clock.advance(95_000);
    assert.deepEqual(h.syncs, [
      [0, true],
      [30_000, true],
      [60_000, true],
      [90_000, true],
    ]);
    await h.runner.stop();
  });

  it("runs a requested sync as soon as minInterval allows, as a partial sync", async () => {
    const h = harness({ min: 1000, max: 30_000 });
    h.runner.start();
    await h.clock.advance(200);
    h.runner.requestSync();
    await h.clock.advance(2000);
    h.runner.requestSync();
    await h.clock.advance(100);
    assert.deepEqual(h.syncs, [
      [0, true],
      [1000, false],
      [2200, false],
    ]);
    await h.runner.stop();
  });

  it("coalesces a burst of requests into one sync", async () => {
    const h = harness({ min: 1000, max: 30_000 });
    h.runner.start();
    await h.clock.advance(10);
    for (let i = 0; i < 50; i++) h.runner.requestSync();
    await h.clock.advance(5000);
    assert.deepEqual(h.syncs, [
      [0, true],
      [1000, false],
    ]);
    await h.runner.stop();
  });

  it("syncs at once with minInterval 0", async () => {
    const h = harness({ min: 0, max: 30_000 });
    h.runner.start();
    await h.clock.advance(5);
    h.runner.requestSync();
    await h.clock.advance(0);
    assert.deepEqual(h.syncs, [
      [0, true],
      [5, false],
    ]);
    await h.runner.stop();
  });

  it("never runs two syncs at once; requests during a sync run after it", async () => {
    const h = harness({ min: 0, max: 30_000 });
    h.slowNext(5000);
    h.runner.start();
    await h.clock.advance(100);
    h.runner.requestSync();
    h.runner.requestSync();
    await h.clock.advance(10_000);
    assert.equal(h.concurrent(), 1);
    assert.deepEqual(h.syncs, [
      [0, true],
      [5000, false],
    ]);
    await h.runner.stop();
  });

  it("retries a failed sync with exponential back-off, each retry full, and resets after success", async () => {
    const h = harness({ min: 1000, max: 30_000, retryBase: 1000 });
    h.runner.start();
    await h.clock.advance(10);
    h.failNext(3);
    h.runner.requestSync();
    await h.clock.advance(20_000);
    assert.deepEqual(h.syncs, [
      [0, true],
      [1000, false], // fails: retry in 1 s
      [2000, true], // fails: retry in 2 s
      [4000, true], // fails: retry in 4 s
      [8000, true], // succeeds
    ]);
    assert.deepEqual(h.runner.counts, { syncs: 5, failures: 3 });
    h.runner.requestSync();
    await h.clock.advance(2000);
    assert.deepEqual(h.syncs.at(-1), [20_010, false]);
    await h.runner.stop();
  });

  it("caps the back-off at maxInterval", async () => {
    const h = harness({ min: 0, max: 4000, retryBase: 1000 });
    h.failNext(100);
    h.runner.start();
    await h.clock.advance(20_000);
    const times = h.syncs.map(([t]) => t);
    assert.deepEqual(times, [0, 1000, 3000, 7000, 11_000, 15_000, 19_000]);
    await h.runner.stop();
  });

  it("asks for a full sync on request", async () => {
    const h = harness({ min: 1000, max: 30_000 });
    h.runner.start();
    await h.clock.advance(5000);
    h.runner.requestFullSync();
    await h.clock.advance(10);
    assert.deepEqual(h.syncs, [
      [0, true],
      [5000, true],
    ]);
    await h.runner.stop();
  });

  it("does nothing before start and after stop", async () => {
    const h = harness({ min: 0, max: 1000 });
    h.runner.requestSync();
    await h.clock.advance(5000);
    assert.equal(h.syncs.length, 0);
    h.runner.start();
    await h.clock.advance(0);
    await h.runner.stop();
    h.runner.requestSync();
    await h.clock.advance(5000);
    assert.deepEqual(h.syncs, [[5000, true]]);
    assert.equal(h.clock.pendingTimers, 0);
  });
});
