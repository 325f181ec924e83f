/** A reply ready to send again, with what the metrics need to count it. */
export interface CachedReply {
  /** The encoded reply; bytes 0-1 (the ID) are overwritten per query. */
  readonly reply: Buffer;
  readonly type: string;
  readonly rcode: string;
}

/**
 * Encoded replies to repeated queries, keyed by the query's bytes after its ID (flags, question,
 * EDNS0 record) and the transport, and dropped as a whole whenever the index changes. A hit skips
 * decoding, resolving and encoding: the reply is copied and given the query's ID. Only replies that
 * are the same for every asker belong here (not forwarded ones, nor rotated address lists).
 */
export class ReplyCache {
  readonly #entries = new Map<string, CachedReply>();
  readonly #maxEntries: number;
  #generation = -1;

  constructor(maxEntries = 10_000) {
    this.#maxEntries = maxEntries;
  }

  /** The key of a raw query, or undefined for one too large to be worth keying. */
  static key(query: Buffer, proto: string): string | undefined {
    return query.length <= 512 ? proto + query.toString("latin1", 2) : undefined;
  }

  /** The cached reply for `key`, copied and stamped with `id`, if the index is still at `generation`. */
  get(key: string, generation: number, id: number): { reply: Buffer; entry: CachedReply } | undefined {
    if (generation !== this.#generation) {
      this.#entries.clear();
      this.#generation = generation;
      return undefined;
    }
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const reply = Buffer.allocUnsafe(entry.reply.length);
    entry.reply.copy(reply);
    reply.writeUInt16BE(id, 0);
    return { reply, entry };
  }

  set(key: string, generation: number, entry: CachedReply): void {
    if (generation !== this.#generation) {
      this.#entries.clear();
      this.#generation = generation;
    }
    // Keys come from clients: a flood of distinct names must not grow memory without bound.
    if (this.#entries.size >= this.#maxEntries) this.#entries.clear();
    this.#entries.set(key, entry);
  }
}
