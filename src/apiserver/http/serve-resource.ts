import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../../sys/logger.ts";
import { applyJsonMergePatch, isJsonObject } from "../patch/json-merge-patch.ts";
import { applyJsonPatch } from "../patch/json-patch.ts";
import { applyStrategicMergePatch } from "../patch/strategic-merge-patch.ts";
import type { KubeObject, ResourceStrategy } from "../registry/resource-strategy.ts";
import type { DeleteOptions, ResourceRegistry, WriteOptions } from "../rest/resource-registry.ts";
import { ApiError, badRequest, methodNotAllowed, unsupportedMediaType } from "./api-error.ts";
import { chooseRendering, type ObjectRendering } from "./negotiation.ts";
import { objectFilter } from "./object-filter.ts";
import { contentTypeOf, readBody } from "./read-body.ts";
import { parseIncludeObject, renderObject } from "./render-objects.ts";
import type { ResourcePath } from "./resource-path.ts";
import { sendJson } from "./send.ts";
import { selectForList, serveList } from "./serve-list.ts";
import { serveWatch } from "./serve-watch.ts";

/** What resource requests need from the server. */
export interface ResourceContext {
  readonly registry: ResourceRegistry;
  readonly logger: Logger;
  readonly bookmarkIntervalMs: number;
}

const patchTypes = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
];

function isTrue(v: string | null): boolean {
  return v === "true" || v === "1";
}

/**
 * Serves one request on a resource path: get, list, watch, create, update, patch, delete and
 * deletecollection, on the main resource or its `/status`.
 */
export async function serveResource(
  req: IncomingMessage,
  res: ServerResponse,
  path: ResourcePath,
  query: URLSearchParams,
  ctx: ResourceContext,
): Promise<void> {
  const { registry } = ctx;
  const strategy = registry.strategy(path.group, path.resource);
  if (strategy === undefined || strategy.info.version !== path.version) {
    throw new ApiError(404, "NotFound", "the server could not find the requested resource");
  }
  const namespaced = strategy.info.namespaced;
  if (
    (!namespaced && path.namespace !== undefined) ||
    (namespaced && path.name !== undefined && path.namespace === undefined)
  ) {
    throw new ApiError(404, "NotFound", "the server could not find the requested resource");
  }
  if (path.subresource !== undefined && !(path.subresource === "status" && strategy.info.hasStatus)) {
    throw new ApiError(
      404,
      "NotFound",
      `the server could not find the requested resource (${path.resource}/${path.subresource})`,
    );
  }
  const subresource = path.subresource === "status" ? "status" : undefined;
  const namespace = path.namespace ?? "";
  const rendering: ObjectRendering = chooseRendering(req.headers.accept) ?? { as: "object" };
  const include = parseIncludeObject(query.get("includeObject"));
  const dryRun = query.getAll("dryRun").includes("All");
  const method = req.method ?? "GET";
  const send = (code: number, stored: { object: KubeObject; json: string }): void =>
    sendJson(res, code, renderObject(strategy, stored, rendering, include));

  if (path.name === undefined) {
    switch (method) {
      case "GET": {
        const filter = objectFilter(strategy, path.namespace, query);
        if (path.legacyWatch || isTrue(query.get("watch"))) {
          serveWatch(req, res, {
            store: registry.store,
            strategy,
            filter,
            query,
            rendering,
            bookmarkIntervalMs: ctx.bookmarkIntervalMs,
            logger: ctx.logger,
          });
          return;
        }
        await serveList(res, { store: registry.store, strategy, filter, query, rendering });
        return;
      }
      case "POST": {
        const body = await readBody(req);
        if (!isJsonObject(body)) throw badRequest("the body of a create must be a JSON object");
        send(201, await registry.create(strategy, namespace, body as KubeObject, { dryRun }));
        return;
      }
      case "DELETE": {
        const options = deleteOptions(await readBody(req), query);
        const filter = objectFilter(strategy, path.namespace, query);
        const { items } = selectForList(registry.store, strategy, filter, new URLSearchParams());
        const deleted: KubeObject[] = [];
        for (const item of items) {
          deleted.push((await registry.delete(strategy, item.namespace, item.name, options)).object);
        }
        const { group, version, listKind } = strategy.info;
        sendJson(res, 200, {
          kind: listKind,
          apiVersion: group === "" ? version : `${group}/${version}`,
          metadata: { resourceVersion: String(registry.store.resourceVersion) },
          items: deleted,
        });
        return;
      }
      default:
        throw methodNotAllowed(method, path.resource);
    }
  }

  const name = path.name;
  switch (method) {
    case "GET": {
      if (path.legacyWatch || isTrue(query.get("watch"))) {
        const filter = objectFilter(strategy, path.namespace, query, `metadata.name=${name}`);
        serveWatch(req, res, {
          store: registry.store,
          strategy,
          filter,
          query,
          rendering,
          bookmarkIntervalMs: ctx.bookmarkIntervalMs,
          logger: ctx.logger,
        });
        return;
      }
      send(200, registry.get(strategy, namespace, name));
      return;
    }
    case "PUT": {
      const body = await readBody(req);
      if (!isJsonObject(body)) throw badRequest("the body of an update must be a JSON object");
      const options: WriteOptions = { dryRun, ...(subresource ? { subresource } : {}) };
      const { stored, created } = await registry.update(
        strategy,
        namespace,
        name,
        body as KubeObject,
        options,
      );
      send(created ? 201 : 200, stored);
      return;
    }
    case "PATCH": {
      const type = contentTypeOf(req);
      if (!patchTypes.includes(type)) throw unsupportedMediaType(type, patchTypes);
      const patch = await readBody(req);
      const current = registry.get(strategy, namespace, name);
      const patched = applyPatch(strategy, current.object, patch, type);
      const options: WriteOptions = { dryRun, ...(subresource ? { subresource } : {}) };
      send(200, await registry.replace(strategy, current, patched, options));
      return;
    }
    case "DELETE": {
      if (subresource !== undefined) throw methodNotAllowed(method, `${path.resource}/status`);
      const options = deleteOptions(await readBody(req), query);
      send(200, await registry.delete(strategy, namespace, name, options));
      return;
    }
    default:
      throw methodNotAllowed(method, `${path.resource}/${name}`);
  }
}

function applyPatch(
  strategy: ResourceStrategy,
  current: KubeObject,
  patch: unknown,
  type: string,
): KubeObject {
  let result: unknown;
  if (type === "application/json-patch+json") result = applyJsonPatch(current, patch);
  else if (type === "application/merge-patch+json") result = applyJsonMergePatch(current, patch);
  else result = applyStrategicMergePatch(current, patch, strategy.mergeKeys);
  if (!isJsonObject(result)) throw badRequest("the patched object is not a JSON object");
  // The patched copy keeps the stored resourceVersion unless the patch set one: then it is a
  // precondition, checked like an update's.
  return result as KubeObject;
}

function deleteOptions(body: unknown, query: URLSearchParams): DeleteOptions {
  const b = isJsonObject(body) ? body : {};
  const graceText = query.get("gracePeriodSeconds");
  const grace = graceText !== null && graceText !== "" ? Number(graceText) : b["gracePeriodSeconds"];
  const pre = isJsonObject(b["preconditions"]) ? b["preconditions"] : undefined;
  const dryRun =
    query.getAll("dryRun").includes("All") || (Array.isArray(b["dryRun"]) && b["dryRun"].includes("All"));
  return {
    dryRun,
    ...(typeof grace === "number" && Number.isFinite(grace) ? { gracePeriodSeconds: grace } : {}),
    ...(pre !== undefined
      ? {
          preconditions: {
            ...(typeof pre["uid"] === "string" ? { uid: pre["uid"] } : {}),
            ...(typeof pre["resourceVersion"] === "string"
              ? { resourceVersion: pre["resourceVersion"] }
              : {}),
          },
        }
      : {}),
  };
}
