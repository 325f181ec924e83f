import type { IncomingMessage, ServerResponse } from "node:http";
import { errorMessage } from "../../errors.ts";
import type { Logger } from "../../sys/logger.ts";
import type { ResourceStrategy } from "../registry/resource-strategy.ts";
import { resourceKey } from "../rest/resource-registry.ts";
import { ResourceVersionGone, type ObjectStore } from "../store/object-store.ts";
import type { StoreEvent, StoredObject } from "../store/stored-object.ts";
import { badRequest, gone } from "./api-error.ts";
import type { ObjectRendering } from "./negotiation.ts";
import type { ObjectFilter } from "./object-filter.ts";
import { parseIncludeObject, renderObject, type IncludeObject } from "./render-objects.ts";

/** A watcher whose client reads slower than this many buffered bytes is cut off (it relists). */
const maxBufferedBytes = 64 * 1024 * 1024;
/** Without `timeoutSeconds`, a watch ends after this long (upstream picks 30-60 minutes). */
const defaultTimeoutMs = 30 * 60 * 1000;

/** Options of a watch request. */
export interface WatchRequest {
  readonly store: ObjectStore;
  readonly strategy: ResourceStrategy;
  readonly filter: ObjectFilter;
  readonly query: URLSearchParams;
  readonly rendering: ObjectRendering;
  readonly bookmarkIntervalMs: number;
  readonly logger: Logger;
}

/**
 * Serves a watch as a chunked stream of JSON lines (`{"type":"ADDED","object":{...}}`): from the
 * requested resourceVersion (or, without one, every current object as ADDED first), with
 * label/field selector transitions turned into ADDED/DELETED as upstream does, periodic
 * BOOKMARKs when `allowWatchBookmarks`, and an end after `timeoutSeconds`. A resourceVersion
 * the store no longer covers gets an ERROR event with a 410 Status, so clients relist.
 */
export function serveWatch(req: IncomingMessage, res: ServerResponse, w: WatchRequest): void {
  const { store, strategy, filter, query, rendering } = w;
  const include: IncludeObject = parseIncludeObject(query.get("includeObject"));
  const rvText = query.get("resourceVersion") ?? "";
  const sendInitialEvents = query.get("sendInitialEvents") === "true";
  const bookmarks = query.get("allowWatchBookmarks") === "true";
  const timeoutText = query.get("timeoutSeconds");
  const timeoutMs =
    timeoutText === null || timeoutText === "" ? defaultTimeoutMs : Number(timeoutText) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0)
    throw badRequest(`invalid timeoutSeconds ${JSON.stringify(timeoutText)}`);
  if (rvText !== "" && !/^\d+$/.test(rvText))
    throw badRequest(`invalid resourceVersion ${JSON.stringify(rvText)}`);
  const kind = strategy.info.kind;
  const apiVersion =
    strategy.info.group === "" ? strategy.info.version : `${strategy.info.group}/${strategy.info.version}`;

  res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private" });
  res.flushHeaders();
  let first = true;
  let closed = false;
  const write = (type: string, object: Pick<StoredObject, "object" | "json">): void => {
    if (closed) return;
    const body =
      type === "BOOKMARK" || type === "ERROR"
        ? object.json
        : renderObject(strategy, object, rendering, include, !first);
    first = false;
    res.write(`{"type":"${type}","object":${body}}\n`);
    if (res.writableLength > maxBufferedBytes) {
      w.logger.warn({ resource: strategy.info.resource }, "watch client too slow; closing its watch");
      finish();
    }
  };
  const bookmark = (rv: number, initialEnd = false): void => {
    const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
    if (initialEnd) metadata["annotations"] = { "k8s.io/initial-events-end": "true" };
    const object = { kind, apiVersion, metadata };
    write("BOOKMARK", { object, json: JSON.stringify(object) });
  };
  const onEvent = (event: StoreEvent): void => {
    const nowMatches = filter.matches(event.object.object);
    if (event.type === "ADDED" || event.type === "DELETED") {
      if (nowMatches) write(event.type, event.object);
      return;
    }
    const beforeMatched = event.previous !== undefined && filter.matches(event.previous.object);
    if (nowMatches) write(beforeMatched ? "MODIFIED" : "ADDED", event.object);
    else if (beforeMatched && event.previous !== undefined)
      write("DELETED", atVersion(event.previous, event.rv));
  };

  let subscription: { cancel(): void } | undefined;
  const timers: NodeJS.Timeout[] = [];
  const finish = (): void => {
    if (closed) return;
    closed = true;
    subscription?.cancel();
    for (const t of timers) clearTimeout(t);
    res.end();
  };
  req.on("close", finish);
  res.on("close", finish);
  res.on("error", finish);

  try {
    if (rvText === "" || rvText === "0" || sendInitialEvents) {
      const startRv = store.resourceVersion;
      for (const stored of store.list(
        resourceKey(strategy),
        filter.namespace !== undefined ? { namespace: filter.namespace } : {},
      )) {
        if (filter.matches(stored.object)) write("ADDED", stored);
      }
      if (sendInitialEvents && bookmarks) bookmark(startRv, true);
      subscription = store.watch(resourceKey(strategy), startRv, onEvent);
    } else {
      subscription = store.watch(resourceKey(strategy), Number(rvText), onEvent);
    }
  } catch (err) {
    if (!(err instanceof ResourceVersionGone)) {
      w.logger.warn({ err: errorMessage(err) }, "watch failed");
      finish();
      return;
    }
    w.logger.debug(
      { resource: strategy.info.resource, requested: err.requested, oldest: err.oldest },
      "watch from a resourceVersion no longer kept: 410 Gone",
    );
    const status = gone(`too old resource version: ${err.requested} (${err.oldest})`).toStatus();
    write("ERROR", { object: status as never, json: JSON.stringify(status) });
    finish();
    return;
  }
  if (bookmarks && w.bookmarkIntervalMs > 0) {
    const tick = (): void => {
      bookmark(store.committedResourceVersion);
      timers[0] = setTimeout(tick, w.bookmarkIntervalMs);
    };
    timers[0] = setTimeout(tick, w.bookmarkIntervalMs);
  }
  if (timeoutMs > 0) timers.push(setTimeout(finish, timeoutMs));
  if (timeoutMs === 0) finish();
}

/** A previous object state stamped with a later resourceVersion (for selector-leave DELETED events). */
function atVersion(stored: StoredObject, rv: number): Pick<StoredObject, "object" | "json"> {
  const object = { ...stored.object, metadata: { ...stored.object.metadata, resourceVersion: String(rv) } };
  return { object, json: JSON.stringify(object) };
}
