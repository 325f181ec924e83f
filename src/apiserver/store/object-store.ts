import { errorMessage } from "../../errors.ts";
import type { Logger } from "../../sys/logger.ts";
import type { KubeObject } from "../registry/resource-strategy.ts";
import type { PendingWrite, SqliteStore } from "./sqlite-store.ts";
import { StoredObject, objectKey, type StoreEvent } from "./stored-object.ts";

/** A live watch's receiver of events. */
export type WatchSink = (event: StoreEvent) => void;

/** Why a watch cannot start from the resourceVersion it asked for. */
export class ResourceVersionGone extends Error {
  readonly requested: number;
  readonly oldest: number;
  constructor(requested: number, oldest: number) {
    super(`too old resource version: ${requested} (${oldest})`);
    this.name = "ResourceVersionGone";
    this.requested = requested;
    this.oldest = oldest;
  }
}

interface ResourceTable {
  readonly objects: Map<string, StoredObject>;
  /** The same objects by namespace, for unordered lookups (controllers) that must not sort. */
  readonly byNamespace: Map<string, Map<string, StoredObject>>;
  sortedKeys: string[] | undefined;
  /** Recent events in resourceVersion order, for watches that resume. */
  ring: StoreEvent[];
  /** Events at or below this version may have left the ring. */
  compactedRv: number;
  readonly watchers: Set<{ readonly fromRv: number; readonly sink: WatchSink }>;
}

/** Result of a write: the stored object now, and a promise settled once it is durable. */
export interface WriteResult {
  readonly stored: StoredObject;
  readonly committed: Promise<void>;
}

/**
 * The object store: every object in memory (indexed by resource and key, listed in key order),
 * made durable through SQLite in group commits (all writes of one event-loop turn share one
 * transaction, so a burst of creates costs one fsync), with a global monotonic resourceVersion.
 * A write's promise settles and watchers hear of it only after its batch has committed, so no
 * client acts on a change a crash could lose. Each resource keeps a ring of recent events so that
 * a watch can resume from an older resourceVersion; older than the ring is "410 Gone".
 */
export class ObjectStore {
  readonly #db: SqliteStore;
  readonly #logger: Logger;
  readonly #ringSize: number;
  readonly #tables = new Map<string, ResourceTable>();
  #rv: number;
  #committedRv: number;
  /** The version at start-up: every event since is in the rings (until they overflow). */
  readonly #startRv: number;
  #pendingWrites: PendingWrite[] = [];
  #pendingEvents: Array<{ resource: string; event: StoreEvent }> = [];
  #waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  #flushScheduled: NodeJS.Immediate | undefined;
  #closed = false;

  constructor(db: SqliteStore, options: { logger: Logger; ringSize?: number }) {
    this.#db = db;
    this.#logger = options.logger;
    this.#ringSize = options.ringSize ?? 20_000;
    for (const row of db.loadAll()) {
      const table = this.#table(row.resource);
      const obj = JSON.parse(row.json) as KubeObject;
      const stored = new StoredObject(obj, row.rv);
      setObject(table, stored);
    }
    this.#rv = db.lastResourceVersion();
    this.#committedRv = this.#rv;
    // Nothing before a restart is in the rings: resuming from an older version must relist.
    this.#startRv = this.#rv;
    for (const table of this.#tables.values()) table.compactedRv = this.#rv;
  }

  /** The newest resourceVersion (lists report it; a watch from it misses nothing). */
  get resourceVersion(): number {
    return this.#rv;
  }

  /** The newest durable resourceVersion: every watcher has been told of everything up to it. */
  get committedResourceVersion(): number {
    return this.#committedRv;
  }

  get(resource: string, namespace: string, name: string): StoredObject | undefined {
    return this.#tables.get(resource)?.objects.get(objectKey(namespace, name));
  }

  /** Number of objects of a resource. */
  count(resource: string): number {
    return this.#tables.get(resource)?.objects.size ?? 0;
  }

  /**
   * Objects in key order, optionally only one namespace's, starting after `afterKey` (a
   * `continue` token's position).
   */
  *list(resource: string, options: { namespace?: string; afterKey?: string } = {}): Generator<StoredObject> {
    const table = this.#tables.get(resource);
    if (table === undefined) return;
    table.sortedKeys ??= [...table.objects.keys()].sort();
    const keys = table.sortedKeys;
    const prefix = options.namespace !== undefined && options.namespace !== "" ? `${options.namespace}/` : "";
    let start = prefix;
    if (options.afterKey !== undefined && options.afterKey >= start) start = `${options.afterKey}\u0000`;
    let i = lowerBound(keys, start);
    for (; i < keys.length; i++) {
      const key = keys[i] ?? "";
      if (prefix !== "" && !key.startsWith(prefix)) break;
      const stored = table.objects.get(key);
      // A key sorted before a later delete may be gone: the sorted list is rebuilt lazily.
      if (stored !== undefined) yield stored;
    }
  }

  /** The objects of one namespace, in no particular order (cheap: no sorting). */
  inNamespace(resource: string, namespace: string): Iterable<StoredObject> {
    return this.#tables.get(resource)?.byNamespace.get(namespace)?.values() ?? [];
  }

  /** Stores a new or changed object at the next resourceVersion (written into its metadata). */
  put(resource: string, obj: KubeObject): WriteResult {
    const rv = ++this.#rv;
    obj.metadata ??= {};
    obj.metadata.resourceVersion = String(rv);
    const stored = new StoredObject(obj, rv);
    const table = this.#table(resource);
    const previous = table.objects.get(stored.key);
    setObject(table, stored);
    if (previous === undefined) table.sortedKeys = undefined;
    const event: StoreEvent = {
      type: previous === undefined ? "ADDED" : "MODIFIED",
      rv,
      object: stored,
      previous,
    };
    return {
      stored,
      committed: this.#enqueue(resource, event, {
        resource,
        namespace: stored.namespace,
        name: stored.name,
        rv,
        json: stored.json,
      }),
    };
  }

  /** Removes an object; its last state, at the deletion's resourceVersion, is returned. */
  remove(resource: string, namespace: string, name: string): WriteResult | undefined {
    const table = this.#tables.get(resource);
    const key = objectKey(namespace, name);
    const previous = table?.objects.get(key);
    if (table === undefined || previous === undefined) return undefined;
    const rv = ++this.#rv;
    const last = structuredClone(previous.object);
    last.metadata ??= {};
    last.metadata.resourceVersion = String(rv);
    const stored = new StoredObject(last, rv);
    table.objects.delete(key);
    table.byNamespace.get(namespace)?.delete(key);
    table.sortedKeys = undefined;
    const event: StoreEvent = { type: "DELETED", rv, object: stored, previous };
    return {
      stored,
      committed: this.#enqueue(resource, event, { resource, namespace, name, rv, json: undefined }),
    };
  }

  /**
   * Watches a resource from `fromRv`: replays kept events newer than it, then delivers each
   * committed change. `fromRv` is the version the client has seen (a list's resourceVersion).
   * Throws ResourceVersionGone when events after `fromRv` are no longer kept (or `fromRv` is
   * newer than anything this store has handed out, as after a data directory was replaced).
   */
  watch(resource: string, fromRv: number, sink: WatchSink): { cancel(): void } {
    const table = this.#table(resource);
    if (fromRv < table.compactedRv || fromRv > this.#rv)
      throw new ResourceVersionGone(fromRv, table.compactedRv);
    const watcher = { fromRv, sink };
    const ring = table.ring;
    for (let i = lowerBoundRv(ring, fromRv + 1); i < ring.length; i++) {
      const event = ring[i];
      if (event !== undefined && event.rv <= this.#committedRv) sink(event);
    }
    table.watchers.add(watcher);
    return { cancel: () => table.watchers.delete(watcher) };
  }

  /** Commits what is pending now (used on close; normally a batch commits at the end of the turn). */
  flush(): void {
    if (this.#flushScheduled !== undefined) clearImmediate(this.#flushScheduled);
    this.#flushScheduled = undefined;
    if (this.#pendingWrites.length === 0) return;
    const writes = this.#pendingWrites;
    const events = this.#pendingEvents;
    const waiters = this.#waiters;
    this.#pendingWrites = [];
    this.#pendingEvents = [];
    this.#waiters = [];
    const rv = writes[writes.length - 1]?.rv ?? this.#rv;
    try {
      this.#db.commit(writes, rv);
    } catch (err) {
      this.#logger.error({ err: errorMessage(err), writes: writes.length }, "cannot commit to the store");
      for (const w of waiters) w.reject(err);
      return;
    }
    this.#committedRv = rv;
    for (const { resource, event } of events) {
      const table = this.#table(resource);
      for (const w of table.watchers) {
        if (event.rv <= w.fromRv) continue;
        try {
          w.sink(event);
        } catch (err) {
          this.#logger.warn({ err: errorMessage(err) }, "watch receiver failed");
        }
      }
    }
    for (const w of waiters) w.resolve();
  }

  /** Commits what is pending and closes the database. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    for (const table of this.#tables.values()) table.watchers.clear();
    this.#db.close();
  }

  #enqueue(resource: string, event: StoreEvent, write: PendingWrite): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("the store is closed"));
    const table = this.#table(resource);
    table.ring.push(event);
    if (table.ring.length > this.#ringSize * 1.25) {
      const drop = table.ring.length - this.#ringSize;
      table.compactedRv = table.ring[drop - 1]?.rv ?? table.compactedRv;
      table.ring = table.ring.slice(drop);
    }
    this.#pendingWrites.push(write);
    this.#pendingEvents.push({ resource, event });
    this.#flushScheduled ??= setImmediate(() => this.flush());
    return new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #table(resource: string): ResourceTable {
    let table = this.#tables.get(resource);
    if (table === undefined) {
      table = {
        objects: new Map(),
        byNamespace: new Map(),
        sortedKeys: undefined,
        ring: [],
        compactedRv: this.#startRv ?? 0,
        watchers: new Set(),
      };
      this.#tables.set(resource, table);
    }
    return table;
  }
}

function setObject(table: ResourceTable, stored: StoredObject): void {
  table.objects.set(stored.key, stored);
  let ns = table.byNamespace.get(stored.namespace);
  if (ns === undefined) table.byNamespace.set(stored.namespace, (ns = new Map()));
  ns.set(stored.key, stored);
}

/** Index of the first key >= `target` in a sorted array. */
function lowerBound(keys: readonly string[], target: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] ?? "") < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first event with rv >= `target`. */
function lowerBoundRv(events: readonly StoreEvent[], target: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((events[mid]?.rv ?? 0) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
