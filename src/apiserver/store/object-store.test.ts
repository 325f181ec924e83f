import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { silentLogger } from "../../sys/logger.ts";
import { ObjectStore, ResourceVersionGone } from "./object-store.ts";
import { SqliteStore } from "./sqlite-store.ts";
import type { StoreEvent } from "./stored-object.ts";

const logger = silentLogger();
const obj = (namespace: string, name: string, extra: Record<string, unknown> = {}) => ({
  metadata: { namespace, name },
  ...extra,
});

describe("ObjectStore", () => {
  const dir = mkdtempSync(join(tmpdir(), "kp-store-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("commits a burst of writes in one transaction, then tells watchers and writers", async () => {
    const db = SqliteStore.open("");
    let commits = 0;
    const commit = db.commit.bind(db);
    db.commit = (writes, rv) => {
      commits++;
      commit(writes, rv);
    };
    const store = new ObjectStore(db, { logger });
    const seen: StoreEvent[] = [];
    store.watch("/services", store.resourceVersion, (e) => seen.push(e));
    const writes = Array.from({ length: 100 }, (_, i) => store.put("/services", obj("ns", `s${i}`)));
    assert.equal(seen.length, 0, "nobody hears of a write before it is durable");
    await Promise.all(writes.map((w) => w.committed));
    assert.equal(commits, 1);
    assert.deepEqual(
      seen.map((e) => e.rv),
      writes.map((w) => w.stored.rv),
    );
    assert.ok(seen.every((e) => e.type === "ADDED"));
    store.close();
  });

  it("lists in key order, by namespace and after a key", async () => {
    const store = new ObjectStore(SqliteStore.open(""), { logger });
    for (const [ns, name] of [
      ["b", "x"],
      ["a", "z"],
      ["a", "y"],
      ["ab", "w"],
    ] as const)
      await store.put("/pods", obj(ns, name)).committed;
    assert.deepEqual(
      [...store.list("/pods")].map((s) => s.key),
      ["a/y", "a/z", "ab/w", "b/x"],
    );
    assert.deepEqual(
      [...store.list("/pods", { namespace: "a" })].map((s) => s.key),
      ["a/y", "a/z"],
    );
    assert.deepEqual(
      [...store.list("/pods", { afterKey: "a/z" })].map((s) => s.key),
      ["ab/w", "b/x"],
    );
    assert.deepEqual([...store.inNamespace("/pods", "a")].map((s) => s.name).sort(), ["y", "z"]);
    await store.remove("/pods", "a", "y")?.committed;
    assert.deepEqual(
      [...store.list("/pods", { namespace: "a" })].map((s) => s.key),
      ["a/z"],
    );
    store.close();
  });

  it("replays kept events to a watch that resumes, and answers Gone beyond them", async () => {
    const store = new ObjectStore(SqliteStore.open(""), { logger, ringSize: 4 });
    const start = store.resourceVersion;
    await store.put("/services", obj("ns", "a")).committed;
    const mid = store.resourceVersion;
    await store.put("/services", obj("ns", "a", { spec: { v: 2 } })).committed;
    await store.remove("/services", "ns", "a")?.committed;
    const replayed: string[] = [];
    store.watch("/services", mid, (e) => replayed.push(`${e.type} ${e.rv}`)).cancel();
    assert.deepEqual(replayed, [`MODIFIED ${mid + 1}`, `DELETED ${mid + 2}`]);
    for (let i = 0; i < 10; i++) await store.put("/services", obj("ns", `b${i}`)).committed;
    assert.throws(() => store.watch("/services", start, () => {}), ResourceVersionGone);
    assert.throws(() => store.watch("/services", store.resourceVersion + 5, () => {}), ResourceVersionGone);
    store.watch("/services", store.resourceVersion, () => {}).cancel();
    store.watch("/pods", start, () => {}).cancel();
    store.close();
  });

  it("keeps objects and the resourceVersion across a reopen; older watches get Gone", async () => {
    let store = new ObjectStore(SqliteStore.open(dir), { logger });
    const first = store.put("/services", obj("ns", "kept", { spec: { x: 1 } }));
    await first.committed;
    const gone = store.put("/services", obj("ns", "gone"));
    await gone.committed;
    await store.remove("/services", "ns", "gone")?.committed;
    const last = store.resourceVersion;
    store.close();
    store = new ObjectStore(SqliteStore.open(dir), { logger });
    assert.equal(store.resourceVersion, last, "the counter survives, deletions included");
    assert.deepEqual(store.get("/services", "ns", "kept")?.object, first.stored.object);
    assert.equal(store.get("/services", "ns", "gone"), undefined);
    assert.throws(() => store.watch("/services", first.stored.rv, () => {}), ResourceVersionGone);
    store.watch("/services", last, () => {}).cancel();
    const next = store.put("/services", obj("ns", "new"));
    assert.equal(next.stored.rv, last + 1);
    await next.committed;
    store.close();
  });

  it("freezes what it stores", async () => {
    const store = new ObjectStore(SqliteStore.open(""), { logger });
    const { stored, committed } = store.put("/services", obj("ns", "f", { spec: { ports: [{ port: 1 }] } }));
    await committed;
    assert.throws(() => {
      (stored.object["spec"] as { ports: Array<{ port: number }> }).ports[0]!.port = 2;
    }, TypeError);
    store.close();
  });
});
