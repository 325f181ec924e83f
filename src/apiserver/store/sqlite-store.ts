// SQLite through `node:sqlite`, built into Node 24: no native module to compile or download (a
// better-sqlite3 build takes a minute here and its prebuilt binaries are unreachable), and its
// synchronous API suits a single-threaded server that commits in batches.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { ProxyError, errorMessage } from "../../errors.ts";

/** One stored object row. */
export interface StoredRow {
  readonly resource: string;
  readonly namespace: string;
  readonly name: string;
  readonly rv: number;
  readonly json: string;
}

/** One write of a batch: `json` undefined deletes the row. */
export interface PendingWrite {
  readonly resource: string;
  readonly namespace: string;
  readonly name: string;
  readonly rv: number;
  readonly json: string | undefined;
}

/** File name of the database inside the data directory. */
export const databaseFileName = "kproxy-apiserver.sqlite";

/**
 * The durable half of the object store: one table of objects keyed by resource, namespace and
 * name (JSON and resourceVersion), and the resourceVersion counter. WAL with `synchronous=FULL`
 * makes every committed transaction survive a crash or power loss; the caller acknowledges a
 * write only after its batch has committed. Exclusive locking keeps a second server off the
 * same data directory.
 */
export class SqliteStore {
  readonly #db: DatabaseSync;
  readonly #put: StatementSync;
  readonly #delete: StatementSync;
  readonly #setRv: StatementSync;

  private constructor(db: DatabaseSync) {
    this.#db = db;
    this.#put = db.prepare(
      "INSERT INTO objects (resource, namespace, name, rv, json) VALUES (?, ?, ?, ?, ?) " +
        "ON CONFLICT (resource, namespace, name) DO UPDATE SET rv = excluded.rv, json = excluded.json",
    );
    this.#delete = db.prepare("DELETE FROM objects WHERE resource = ? AND namespace = ? AND name = ?");
    this.#setRv = db.prepare(
      "INSERT INTO meta (key, value) VALUES ('resourceVersion', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    );
  }

  /** Opens (creating) the store in `dataDir`, or an in-memory one when `dataDir` is "". */
  static open(dataDir: string): SqliteStore {
    let db: DatabaseSync;
    const where = dataDir === "" ? ":memory:" : join(dataDir, databaseFileName);
    try {
      if (dataDir !== "") mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      db = new DatabaseSync(where);
      db.exec("PRAGMA busy_timeout = 0");
      db.exec("PRAGMA locking_mode = EXCLUSIVE");
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = FULL");
      db.exec(
        "CREATE TABLE IF NOT EXISTS objects (resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, " +
          "rv INTEGER NOT NULL, json TEXT NOT NULL, PRIMARY KEY (resource, namespace, name)) WITHOUT ROWID",
      );
      db.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
      // Takes the exclusive lock now, so that a second server fails at start and not at its first write.
      db.exec("BEGIN IMMEDIATE; COMMIT");
    } catch (err) {
      const locked = /locked|busy/i.test(errorMessage(err));
      throw new ProxyError(
        "KPROXY_API_UNAVAILABLE",
        `Cannot open the API server store ${where}: ${
          locked ? "another kproxy API server is using this data directory" : errorMessage(err)
        }; use another --data-dir`,
        { cause: err },
      );
    }
    return new SqliteStore(db);
  }

  /** Every stored object. */
  loadAll(): StoredRow[] {
    return this.#db
      .prepare("SELECT resource, namespace, name, rv, json FROM objects")
      .all() as unknown as StoredRow[];
  }

  /** The last resourceVersion handed out (0 for a new store). */
  lastResourceVersion(): number {
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = 'resourceVersion'").get() as
      { value: string } | undefined;
    const max = this.#db.prepare("SELECT MAX(rv) AS rv FROM objects").get() as
      { rv: number | null } | undefined;
    return Math.max(Number(row?.value ?? 0), Number(max?.rv ?? 0));
  }

  /** Writes a batch in one transaction (one fsync) and records `rv` as the counter's value. */
  commit(writes: readonly PendingWrite[], rv: number): void {
    this.#db.exec("BEGIN");
    try {
      for (const w of writes) {
        if (w.json === undefined) this.#delete.run(w.resource, w.namespace, w.name);
        else this.#put.run(w.resource, w.namespace, w.name, w.rv, w.json);
      }
      this.#setRv.run(String(rv));
      this.#db.exec("COMMIT");
    } catch (err) {
      this.#db.exec("ROLLBACK");
      throw err;
    }
  }

  close(): void {
    this.#db.close();
  }
}
