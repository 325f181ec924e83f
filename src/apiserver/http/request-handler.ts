import type { IncomingMessage, ServerResponse } from "node:http";
import { errorMessage } from "../../errors.ts";
import type { Logger } from "../../sys/logger.ts";
import type { ResourceRegistry } from "../rest/resource-registry.ts";
import { ApiError, toApiError } from "./api-error.ts";
import {
  aggregatedContentType,
  aggregatedDiscovery,
  apiGroupDocument,
  apiGroupList,
  apiResourceList,
  apiVersions,
  servedGroups,
  serverVersion,
} from "./discovery.ts";
import { aggregatedDiscoveryVersion } from "./negotiation.ts";
import { openApiGroupVersion, openApiIndex } from "./openapi.ts";
import { parseResourcePath } from "./resource-path.ts";
import { sendError, sendJson } from "./send.ts";
import { serveResource } from "./serve-resource.ts";
import { authenticate, type TokenUser } from "./token-auth.ts";

/** Everything the HTTP layer needs. */
export interface RequestHandlerOptions {
  readonly registry: ResourceRegistry;
  readonly logger: Logger;
  /** Static bearer tokens; undefined = no authentication on this listener. */
  readonly tokens: ReadonlyMap<string, TokenUser> | undefined;
  /** `host:port` reported in `/api`. */
  readonly serverAddress: () => string;
  readonly bookmarkIntervalMs: number;
}

const healthPaths = new Set(["/healthz", "/livez", "/readyz"]);

/** Builds the `(req, res)` handler of the API server: auth, discovery, OpenAPI, resources, errors. */
export function createRequestHandler(
  options: RequestHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const started = performance.now();
    handle(req, res, options)
      .catch((err: unknown) => {
        const apiError = toApiError(err);
        if (apiError.httpCode >= 500)
          options.logger.error({ err: errorMessage(err), url: req.url }, "request failed");
        sendError(res, apiError);
      })
      .finally(() => {
        options.logger.trace(
          {
            method: req.method,
            url: req.url,
            code: res.statusCode,
            ms: Math.round(performance.now() - started),
          },
          "request",
        );
      });
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: RequestHandlerOptions,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://kproxy.invalid");
  const pathname = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
  const strategies = options.registry.strategies;
  if (
    healthPaths.has(pathname) ||
    pathname.startsWith("/healthz/") ||
    pathname.startsWith("/livez/") ||
    pathname.startsWith("/readyz/")
  ) {
    res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
    res.end("ok");
    return;
  }
  if (options.tokens !== undefined && authenticate(req.headers.authorization, options.tokens) === undefined) {
    throw new ApiError(401, "Unauthorized", "Unauthorized");
  }
  const method = req.method ?? "GET";
  const resourcePath = parseResourcePath(pathname);
  if (resourcePath !== undefined) {
    await serveResource(req, res, resourcePath, url.searchParams, options);
    return;
  }
  if (method !== "GET" && method !== "HEAD")
    throw new ApiError(405, "MethodNotAllowed", `the server does not allow ${method} on ${pathname}`);
  const aggregated = aggregatedDiscoveryVersion(req.headers.accept);
  switch (pathname) {
    case "/version":
      sendJson(res, 200, serverVersion);
      return;
    case "/api":
      if (aggregated !== undefined)
        sendJson(
          res,
          200,
          aggregatedDiscovery(strategies, true, aggregated),
          aggregatedContentType(aggregated),
        );
      else sendJson(res, 200, apiVersions(options.serverAddress()));
      return;
    case "/apis":
      if (aggregated !== undefined)
        sendJson(
          res,
          200,
          aggregatedDiscovery(strategies, false, aggregated),
          aggregatedContentType(aggregated),
        );
      else sendJson(res, 200, apiGroupList(strategies));
      return;
    case "/api/v1":
      sendJson(res, 200, apiResourceList(strategies, "", "v1"));
      return;
    case "/openapi/v3":
      sendJson(res, 200, openApiIndex(strategies));
      return;
    case "/openapi/v3/api/v1":
      sendJson(res, 200, openApiGroupVersion(strategies, "", "v1"));
      return;
  }
  for (const { group, version } of servedGroups(strategies)) {
    if (pathname === `/apis/${group}`) return sendJson(res, 200, apiGroupDocument(group, version));
    if (pathname === `/apis/${group}/${version}`)
      return sendJson(res, 200, apiResourceList(strategies, group, version));
    if (pathname === `/openapi/v3/apis/${group}/${version}`) {
      return sendJson(res, 200, openApiGroupVersion(strategies, group, version));
    }
  }
  throw new ApiError(404, "NotFound", "the server could not find the requested resource");
}
