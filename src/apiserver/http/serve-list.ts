import type { ServerResponse } from "node:http";
import type { KubeObject, ResourceStrategy } from "../registry/resource-strategy.ts";
import { resourceKey } from "../rest/resource-registry.ts";
import type { ObjectStore } from "../store/object-store.ts";
import type { StoredObject } from "../store/stored-object.ts";
import { badRequest, gone } from "./api-error.ts";
import { decodeContinue, encodeContinue } from "./continue-token.ts";
import type { ObjectRendering } from "./negotiation.ts";
import type { ObjectFilter } from "./object-filter.ts";
import { parseIncludeObject, renderPartialList, renderTable } from "./render-objects.ts";
import { sendJson, writeChunk } from "./send.ts";

/** Bytes gathered before a write while streaming a big list. */
const chunkBytes = 256 * 1024;

/** Selects the objects of a list request, honouring `limit` and `continue`. */
export function selectForList(
  store: ObjectStore,
  strategy: ResourceStrategy,
  filter: ObjectFilter,
  query: URLSearchParams,
): { items: StoredObject[]; resourceVersion: number; continueToken: string | undefined } {
  const limitText = query.get("limit");
  const limit = limitText === null || limitText === "" ? 0 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 0)
    throw badRequest(`invalid limit ${JSON.stringify(limitText)}: expected a positive integer`);
  const continueText = query.get("continue");
  const position = continueText ? decodeContinue(continueText) : undefined;
  const rvText = query.get("resourceVersion") ?? "";
  if (query.get("resourceVersionMatch") === "Exact" && rvText !== String(store.resourceVersion)) {
    throw gone(
      `too old resource version: ${rvText} (${store.resourceVersion}); only the newest version is served`,
    );
  }
  const key = resourceKey(strategy);
  const items: StoredObject[] = [];
  let more = false;
  const name = filter.fields.exact("metadata.name");
  const namespace = filter.namespace ?? filter.fields.exact("metadata.namespace");
  const candidates: Iterable<StoredObject> =
    name !== undefined && (namespace !== undefined || !strategy.info.namespaced)
      ? [store.get(key, namespace ?? "", name)].filter((s): s is StoredObject => s !== undefined)
      : store.list(key, {
          ...(namespace !== undefined ? { namespace } : {}),
          ...(position !== undefined ? { afterKey: position.afterKey } : {}),
        });
  for (const stored of candidates) {
    if (position !== undefined && stored.key <= position.afterKey) continue;
    if (!filter.matches(stored.object)) continue;
    if (limit > 0 && items.length === limit) {
      more = true;
      break;
    }
    items.push(stored);
  }
  const resourceVersion = position?.rv ?? store.resourceVersion;
  const last = items[items.length - 1];
  return {
    items,
    resourceVersion,
    continueToken:
      more && last !== undefined ? encodeContinue({ rv: resourceVersion, afterKey: last.key }) : undefined,
  };
}

/** Answers a list request: a streamed `<Kind>List`, a Table, or a PartialObjectMetadataList. */
export async function serveList(
  res: ServerResponse,
  options: {
    store: ObjectStore;
    strategy: ResourceStrategy;
    filter: ObjectFilter;
    query: URLSearchParams;
    rendering: ObjectRendering;
  },
): Promise<void> {
  const { strategy, rendering, query } = options;
  const { items, resourceVersion, continueToken } = selectForList(
    options.store,
    strategy,
    options.filter,
    query,
  );
  const metadata: Record<string, string> = { resourceVersion: String(resourceVersion) };
  if (continueToken !== undefined) metadata["continue"] = continueToken;
  if (rendering.as === "Table") {
    const objects: KubeObject[] = items.map((s) => s.object);
    sendJson(
      res,
      200,
      renderTable(strategy, objects, {
        version: rendering.version,
        include: parseIncludeObject(query.get("includeObject")),
        resourceVersion: metadata["resourceVersion"] ?? "",
        ...(continueToken !== undefined ? { continueToken } : {}),
      }),
    );
    return;
  }
  if (rendering.as === "PartialObjectMetadata") {
    sendJson(
      res,
      200,
      renderPartialList(
        items.map((s) => s.object),
        rendering.version,
        metadata,
      ),
    );
    return;
  }
  const { group, version, listKind } = strategy.info;
  res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private" });
  let buffer = `{"kind":${JSON.stringify(listKind)},"apiVersion":${JSON.stringify(group === "" ? version : `${group}/${version}`)},"metadata":${JSON.stringify(metadata)},"items":[`;
  for (let i = 0; i < items.length; i++) {
    buffer += (i === 0 ? "" : ",") + (items[i]?.json ?? "null");
    if (buffer.length >= chunkBytes) {
      await writeChunk(res, buffer);
      buffer = "";
    }
  }
  res.end(`${buffer}]}`);
}
