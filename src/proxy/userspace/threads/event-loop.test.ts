import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DeadlineQueue } from "./event-loop.ts";

describe("DeadlineQueue", () => {
  it("hands over entries in order once due, with their tags, and survives a throwing owner", () => {
    const seen: string[] = [];
    const errors: unknown[] = [];
    const q = new DeadlineQueue<string>((item, tag) => {
      if (item === "boom") throw new Error("boom");
      seen.push(`${item}:${tag}`);
    });
    assert.equal(q.nextDeadline(), Infinity);
    q.add("a", 1, 10);
    q.add("boom", 2, 20);
    q.add("c", 3, 30);
    assert.equal(q.nextDeadline(), 10);
    q.expire(9, (e) => errors.push(e));
    assert.deepEqual(seen, []);
    q.expire(25, (e) => errors.push(e));
    assert.deepEqual(seen, ["a:1"]);
    assert.equal(errors.length, 1);
    assert.equal(q.nextDeadline(), 30);
    q.expire(30, (e) => errors.push(e));
    assert.deepEqual(seen, ["a:1", "c:3"]);
    assert.equal(q.nextDeadline(), Infinity);
  });

  it("keeps working after many entries (its arrays are trimmed)", () => {
    let count = 0;
    const q = new DeadlineQueue<number>(() => count++);
    for (let i = 0; i < 5000; i++) q.add(i, i, i);
    for (let t = 0; t < 5000; t += 100) q.expire(t, (e) => assert.fail(String(e)));
    q.add(9999, 0, 9999);
    q.expire(10_000, (e) => assert.fail(String(e)));
    assert.equal(count, 5001);
  });
});
