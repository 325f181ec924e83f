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
});
