import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createScheduler } from "./create-scheduler.ts";
import type { PickContext, SchedulerName } from "./scheduler.ts";
import { seededRandom } from "../sys/seeded-random.ts";

interface TestBackend {
  key: string;
  weight: number;
  available: boolean;
  activeConnections: number;
  inactiveConnections: number;
}

function backends(spec: string): TestBackend[] {
  // "a:4 b:3 c" → weights (default 1); "a=2/1" → 2 active, 1 inactive connections.
  return spec.split(" ").map((s) => {
    const [head = "", load] = s.split("=");
    const [key = "", w] = head.split(":");
    const [active, inactive] = (load ?? "0/0").split("/");
    return {
      key,
      weight: w === undefined ? 1 : Number(w),
      available: true,
      activeConnections: Number(active),
      inactiveConnections: Number(inactive ?? 0),
    };
  });
}

const ctx = (clientIP = "10.0.0.1", destinationIP = "172.30.0.1"): PickContext => ({
  clientIP,
  clientPort: 40000,
  destinationIP,
});

function sequence(name: SchedulerName, spec: string, count: number): string {
  const s = createScheduler<TestBackend>(name);
  s.setBackends(backends(spec));
  return Array.from({ length: count }, () => s.pick(ctx())?.key ?? "-").join("");
}

describe("round-robin sequences", () => {
  const cases: { name: SchedulerName; backends: string; want: string }[] = [
    { name: "rr", backends: "a b c", want: "abcabcabc" },
    { name: "rr", backends: "a:4 b:0 c", want: "acacac" },
    { name: "wrr", backends: "a:4 b:3 c:2", want: "aababcabcaababcabc" },
    { name: "wrr", backends: "a b c", want: "abcabc" },
    { name: "wrr", backends: "a:2 b:4", want: "babbabba" },
    { name: "wrr", backends: "a:0 b:0", want: "---" },
  ];
  for (const c of cases) {
    it(`${c.name} over ${c.backends} gives ${c.want}`, () => {
      assert.equal(sequence(c.name, c.backends, c.want.length), c.want);
    });
  }

  it("rr keeps its place across an endpoint update and skips unavailable backends", () => {
    const s = createScheduler<TestBackend>("rr");
    const [a, b, c, d] = backends("a b c d") as [TestBackend, TestBackend, TestBackend, TestBackend];
    s.setBackends([a, b, c]);
    assert.equal(s.pick(ctx())?.key, "a");
    assert.equal(s.pick(ctx())?.key, "b");
    s.setBackends([a, b, c, d]);
    assert.equal(s.pick(ctx())?.key, "c");
    s.setBackends([a, c, d]); // b gone, we stood on c: d is next
    assert.equal(s.pick(ctx())?.key, "d");
    c.available = false;
    assert.equal([1, 2, 3].map(() => s.pick(ctx())?.key).join(""), "ada");
    assert.equal(s.pick(ctx(), new Set([d]))?.key, "a");
    assert.equal(s.pick(ctx(), new Set([a, d])), undefined);
  });

  it("rr gives three endpoints exactly a third each", () => {
    const s = createScheduler<TestBackend>("rr");
    s.setBackends(backends("a b c"));
    const counts = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const key = s.pick(ctx())?.key ?? "-";
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(counts), { a: 100, b: 100, c: 100 });
  });
});

describe("least-connection family", () => {
  const cases: { name: SchedulerName; backends: string; want: string; why: string }[] = [
    { name: "lc", backends: "a=2/0 b=1/0 c=1/0", want: "b", why: "fewest active, first on a tie" },
    {
      name: "lc",
      backends: "a=1/0 b=0/255 c=0/300",
      want: "b",
      why: "an active connection costs 256 inactive",
    },
    { name: "lc", backends: "a:5=2/0 b:1=1/0", want: "b", why: "lc ignores weights" },
    { name: "wlc", backends: "a:5=2/0 b:1=1/0", want: "a", why: "2*256/5 < 1*256/1" },
    { name: "wlc", backends: "a:0=0/0 b:1=3/0", want: "b", why: "weight 0 is never chosen" },
    { name: "sed", backends: "a:1=0/0 b:3=1/0", want: "b", why: "(0+1)/1 > (1+1)/3" },
    { name: "sed", backends: "a:1=0/9 b:1=0/0", want: "a", why: "sed ignores inactive connections" },
    { name: "nq", backends: "a:1=3/0 b:9=1/0 c:1=0/0", want: "c", why: "an idle backend first" },
    { name: "nq", backends: "a:1=3/0 b:9=5/0 c:1=1/0", want: "b", why: "no idle one: (5+1)/9 is least" },
  ];
  for (const c of cases) {
    it(`${c.name} picks ${c.want} from ${c.backends} (${c.why})`, () => {
      const s = createScheduler<TestBackend>(c.name);
      s.setBackends(backends(c.backends));
      assert.equal(s.pick(ctx())?.key, c.want);
    });
  }

  it("lc spreads long-lived connections evenly as they accumulate", () => {
    const s = createScheduler<TestBackend>("lc");
    const list = backends("a b c");
    s.setBackends(list);
    for (let i = 0; i < 30; i++) {
      const b = s.pick(ctx()) as TestBackend;
      b.activeConnections++;
    }
    assert.deepEqual(
      list.map((b) => b.activeConnections),
      [10, 10, 10],
    );
  });
});

describe("hashing schedulers", () => {
  for (const name of ["sh", "mh"] as const) {
    it(`${name} sends a client to the same backend every time, and clients to every backend`, () => {
      const s = createScheduler<TestBackend>(name);
      s.setBackends(backends("a b c"));
      const seen = new Set<string>();
      for (let i = 0; i < 200; i++) {
        const ip = `10.1.${i >> 8}.${i & 255}`;
        const first = s.pick(ctx(ip))?.key;
        assert.equal(s.pick({ clientIP: ip, clientPort: 1234, destinationIP: "9.9.9.9" })?.key, first);
        seen.add(first ?? "-");
      }
      assert.deepEqual([...seen].sort(), ["a", "b", "c"]);
    });

    it(`${name} moves only the clients of an unavailable backend`, () => {
      const s = createScheduler<TestBackend>(name);
      const list = backends("a b c");
      s.setBackends(list);
      const ips = Array.from({ length: 300 }, (_, i) => `10.2.${i >> 8}.${i & 255}`);
      const before = ips.map((ip) => s.pick(ctx(ip))?.key);
      (list[1] as TestBackend).available = false;
      const after = ips.map((ip) => s.pick(ctx(ip))?.key);
      for (const [i, key] of before.entries()) {
        if (key === "b") assert.notEqual(after[i], "b");
        else assert.equal(after[i], key);
      }
    });
  }

  it("sh fills its 256 buckets in proportion to weight", () => {
    const s = createScheduler<TestBackend>("sh");
    s.setBackends(backends("a:3 b:1"));
    const counts = new Map<string, number>();
    for (let i = 0; i < 4096; i++) {
      const key = s.pick(ctx(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`))?.key ?? "-";
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const a = counts.get("a") ?? 0;
    assert.ok(a > 4096 * 0.65 && a < 4096 * 0.85, `a got ${a} of 4096`);
  });

  it("dh sends every connection to one service address to one backend", () => {
    const s = createScheduler<TestBackend>("dh");
    s.setBackends(backends("a b c d"));
    const byDestination = new Map<string, Set<string>>();
    for (let i = 0; i < 64; i++) {
      for (const dst of ["172.30.0.1", "172.30.0.2", "172.30.0.3", "192.168.7.7"]) {
        const set = byDestination.get(dst) ?? new Set();
        set.add(s.pick(ctx(`10.3.0.${i}`, dst))?.key ?? "-");
        byDestination.set(dst, set);
      }
    }
    for (const set of byDestination.values()) assert.equal(set.size, 1);
  });
});

describe("random schedulers", () => {
  it("random spreads evenly and honours weights", () => {
    const s = createScheduler<TestBackend>("random", { random: seededRandom(7) });
    s.setBackends(backends("a b c:2"));
    const counts = new Map<string, number>();
    for (let i = 0; i < 8000; i++) {
      const key = s.pick(ctx())?.key ?? "-";
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const share = (k: string): number => (counts.get(k) ?? 0) / 8000;
    assert.ok(Math.abs(share("a") - 0.25) < 0.03, `a: ${share("a")}`);
    assert.ok(Math.abs(share("c") - 0.5) < 0.03, `c: ${share("c")}`);
  });

  it("p2c never picks the busier of the two it draws, so load stays within one of even", () => {
    const s = createScheduler<TestBackend>("p2c", { random: seededRandom(11) });
    const list = backends("a b c d");
    s.setBackends(list);
    for (let i = 0; i < 400; i++) {
      const b = s.pick(ctx()) as TestBackend;
      b.activeConnections++;
      // Close a random connection now and then, so that the loads move.
      if (i % 3 === 0) {
        const busiest = list.reduce((x, y) => (y.activeConnections > x.activeConnections ? y : x));
        busiest.activeConnections--;
      }
    }
    const loads = list.map((b) => b.activeConnections);
    assert.ok(Math.max(...loads) - Math.min(...loads) <= 3, `loads ${loads.join(",")}`);
  });

  it("p2c with one backend returns it, and none when it is excluded", () => {
    const s = createScheduler<TestBackend>("p2c", { random: seededRandom(3) });
    const list = backends("a");
    s.setBackends(list);
    assert.equal(s.pick(ctx())?.key, "a");
    assert.equal(s.pick(ctx(), new Set(list)), undefined);
  });
});

describe("every scheduler", () => {
  const names: SchedulerName[] = ["rr", "wrr", "lc", "wlc", "sed", "nq", "sh", "dh", "mh", "random", "p2c"];
  for (const name of names) {
    it(`${name} returns undefined for no backends and skips unavailable ones`, () => {
      const s = createScheduler<TestBackend>(name, { random: seededRandom(1) });
      assert.equal(s.pick(ctx()), undefined);
      const list = backends("a b c");
      s.setBackends(list);
      (list[0] as TestBackend).available = false;
      (list[2] as TestBackend).available = false;
      for (let i = 0; i < 10; i++) assert.equal(s.pick(ctx(`10.9.9.${i}`))?.key, "b");
      assert.equal(s.pick(ctx(), new Set([list[1] as TestBackend])), undefined);
    });
  }
});
