import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { NftObjects } from "../render/nft-ruleset.ts";
import { NftTableWriter, type DesiredTable } from "./nft-table-writer.ts";

const base: NftObjects = {
  sets: [
    { name: "service-ips", kind: "map", spec: "{ type ipv4_addr . inet_proto . inet_service : verdict ; }" },
  ],
  chains: [{ name: "services", rules: ["ip daddr . meta l4proto . th dport vmap @service-ips"] }],
  elements: [],
};

function service(name: string, endpoints: readonly string[]): NftObjects {
  return {
    sets: [],
    chains: [
      { name: `service-${name}`, rules: endpoints.map((e) => `goto endpoint-${name}-${e}`) },
      ...endpoints.map((e) => ({ name: `endpoint-${name}-${e}`, rules: [`dnat to ${e}:80`] })),
    ],
    elements: [{ set: "service-ips", key: `${name} . tcp . 80`, rest: ` : goto service-${name}` }],
  };
}

function desired(services: Record<string, NftObjects>): DesiredTable {
  return { tableComment: "c", base, services: new Map(Object.entries(services)) };
}

describe("NftTableWriter", () => {
  it("rebuilds the table on the first sync, then sends only what changed", () => {
    const w = new NftTableWriter("ip", "kproxy", { staleChainDelayMs: 1000 });
    const first = w.plan(desired({ a: service("a", ["1.1.1.1"]), b: service("b", ["2.2.2.2"]) }), {
      full: false,
      now: 0,
    });
    assert.equal(first.kind, "rebuild");
    assert.match(first.text, /^add table ip kproxy\ndelete table ip kproxy\n/);
    first.commit();

    const second = w.plan(desired({ a: service("a", ["1.1.1.2"]) }), { full: false, now: 10 });
    assert.equal(second.kind, "partial");
    assert.deepEqual(second.text.split("\n").filter(Boolean), [
      "add chain ip kproxy endpoint-a-1.1.1.2",
      "flush chain ip kproxy service-a",
      "flush chain ip kproxy endpoint-a-1.1.1.1",
      "add rule ip kproxy endpoint-a-1.1.1.2 dnat to 1.1.1.2:80",
      "add rule ip kproxy service-a goto endpoint-a-1.1.1.2",
    ]);
    second.commit();
    assert.equal(w.staleChainCount, 1);

    // Too early: the stale chain stays; nothing else changed, so nothing is sent.
    assert.equal(w.plan(desired({}), { full: false, now: 500 }).kind, "none");
    const later = w.plan(desired({}), { full: false, now: 1010 });
    assert.equal(later.text, "delete chain ip kproxy endpoint-a-1.1.1.1\n");
    later.commit();
    assert.equal(w.staleChainCount, 0);
  });

  it("removes a deleted service's map elements and flushes its chains", () => {
    const w = new NftTableWriter("ip", "kproxy", { staleChainDelayMs: 0 });
    w.plan(desired({ a: service("a", ["1.1.1.1"]) }), { full: true, now: 0 }).commit();
    const plan = w.plan(desired({}), { full: false, removed: ["a"], now: 1 });
    assert.deepEqual(plan.text.split("\n").filter(Boolean), [
      "flush chain ip kproxy service-a",
      "flush chain ip kproxy endpoint-a-1.1.1.1",
      "delete element ip kproxy service-ips { a . tcp . 80 }",
    ]);
  });

  it("replaces a set whose declaration changed and rewrites the chains that use it", () => {
    const w = new NftTableWriter("ip", "kproxy", { staleChainDelayMs: 0 });
    const withSet = (timeout: number): NftObjects => ({
      sets: [{ name: "affinity-a", kind: "set", spec: `{ type ipv4_addr ; timeout ${timeout}s ; }` }],
      chains: [{ name: "service-a", rules: ["ip saddr @affinity-a goto x"] }],
      elements: [],
    });
    w.plan(desired({ a: withSet(10) }), { full: true, now: 0 }).commit();
    const plan = w.plan(desired({ a: withSet(20) }), { full: false, now: 1 });
    assert.deepEqual(plan.text.split("\n").filter(Boolean), [
      "flush chain ip kproxy service-a",
      "delete set ip kproxy affinity-a",
      "add set ip kproxy affinity-a { type ipv4_addr ; timeout 20s ; }",
      "add rule ip kproxy service-a ip saddr @affinity-a goto x",
    ]);
  });

  it("turns a partial sync into a full one when the fixed objects change, and rebuilds after a failure", () => {
    const w = new NftTableWriter("ip", "kproxy", { staleChainDelayMs: 0 });
    w.plan(desired({ a: service("a", ["1.1.1.1"]) }), { full: true, now: 0 }).commit();
    const changedBase = { ...desired({}), base: { ...base, elements: [{ set: "x", key: "1", rest: "" }] } };
    assert.equal(w.needsFullSync(changedBase.base), true);
    assert.equal(w.needsFullSync(base), false);
    const full = w.plan(desired({ a: service("a", ["1.1.1.1"]) }), { full: true, now: 1 });
    assert.equal(full.kind, "full");
    assert.match(full.text, /flush table ip kproxy\n/);
    assert.match(full.text, /flush map ip kproxy service-ips\n/);
    w.invalidate();
    assert.equal(w.plan(desired({}), { full: false, now: 2 }).kind, "rebuild");
  });

  it("adds a shared element with its first user and deletes it with its last", () => {
    const sharedBase: NftObjects = {
      ...base,
      sets: [
        ...base.sets,
        { name: "hairpin-endpoints", kind: "set", spec: "{ type ipv4_addr . ipv4_addr ; }", shared: true },
      ],
    };
    const user = (name: string, ep: string): NftObjects => ({
      sets: [],
      chains: [{ name: `service-${name}`, rules: [] }],
      elements: [{ set: "hairpin-endpoints", key: `${ep} . ${ep}`, rest: "" }],
    });
    const table = (services: Record<string, NftObjects>): DesiredTable => ({
      ...desired(services),
      base: sharedBase,
    });
    const w = new NftTableWriter("ip", "kproxy", { staleChainDelayMs: 0 });
    const first = w.plan(table({ a: user("a", "1.1.1.1"), b: user("b", "1.1.1.1") }), { full: true, now: 0 });
    // Written once although two services carry it.
    assert.equal(
      first.text.split("\n").filter((l) => l.startsWith("add element ip kproxy hairpin-endpoints")).length,
      1,
    );
    first.commit();
    // One user goes: the element stays.
    const second = w.plan(table({}), { full: false, removed: ["a"], now: 1 });
    assert.doesNotMatch(second.text, /hairpin/);
    second.commit();
    // A third service with the same endpoint: nothing to add.
    const third = w.plan(table({ c: user("c", "1.1.1.1") }), { full: false, now: 2 });
    assert.doesNotMatch(third.text, /hairpin/);
    third.commit();
    // Both remaining users go: now it is deleted, once.
    const last = w.plan(table({}), { full: false, removed: ["b", "c"], now: 3 });
    assert.deepEqual(
      last.text.split("\n").filter((l) => l.includes("hairpin")),
      ["delete element ip kproxy hairpin-endpoints { 1.1.1.1 . 1.1.1.1 }"],
    );
    assert.deepEqual([...last.removedChains].sort(), ["service-b", "service-c"]);
  });

  it("writes an interval map's elements in one command on full syncs, one per range on partial ones", () => {
    const intervalBase: NftObjects = {
      ...base,
      sets: [
        ...base.sets,
        {
          name: "endpoints-tcp-00",
          kind: "map",
          spec: "{ typeof numgen random mod 32768 : ip daddr . tcp dport ; flags interval ; }",
        },
      ],
    };
    const ranges = (eps: readonly string[]): NftObjects => ({
      sets: [],
      chains: [
        {
          name: "service-a",
          rules: ["meta l4proto tcp dnat ip to numgen random mod 32768 offset 32768 map @endpoints-tcp-00"],
        },
      ],
      elements: eps.map((ep, i) => ({
        set: "endpoints-tcp-00",
        key: `${32768 + i * 100}-${32768 + i * 100 + 99}`,
        rest: ` : ${ep} . 80`,
      })),
    });
    const table = (services: Record<string, NftObjects>): DesiredTable => ({
      ...desired(services),
      base: intervalBase,
    });
    const w = new NftTableWriter("ip", "kproxy", { staleChainDelayMs: 0 });
    const full = w.plan(table({ a: ranges(["10.0.0.1", "10.0.0.2"]) }), { full: true, now: 0 });
    assert.match(
      full.text,
      /^add element ip kproxy endpoints-tcp-00 \{ 32768-32867 : 10\.0\.0\.1 \. 80 , 32868-32967 : 10\.0\.0\.2 \. 80 \}$/m,
    );
    full.commit();
    const partial = w.plan(table({ a: ranges(["10.0.0.1", "10.0.0.3"]) }), { full: false, now: 1 });
    assert.deepEqual(partial.text.split("\n").filter(Boolean), [
      "delete element ip kproxy endpoints-tcp-00 { 32868-32967 }",
      "add element ip kproxy endpoints-tcp-00 { 32868-32967 : 10.0.0.3 . 80 }",
    ]);
  });
});
