import type { FieldProblem } from "../../errors.ts";
import { ProxyError } from "../../errors.ts";
import { causeReason } from "../registry/cause-reason.ts";

/** One entry of a `Status`'s `details.causes`. */
export interface StatusCause {
  readonly reason: string;
  readonly message: string;
  readonly field?: string;
}

/** A `meta.k8s.io/v1` Status body, as kube-apiserver answers failures. */
export interface StatusBody {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure" | "Success";
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[] };
  code: number;
}

/**
 * A failure the API server answers with a `Status` body: the HTTP code, the Kubernetes reason
 * (`NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, ...) and optional details that clients
 * such as kubectl print field by field.
 */
export class ApiError extends ProxyError {
  readonly httpCode: number;
  readonly reason: string;
  readonly details: StatusBody["details"];

  constructor(httpCode: number, reason: string, message: string, details?: StatusBody["details"]) {
    super(
      httpCode === 404 ? "KPROXY_NOT_FOUND" : httpCode === 409 ? "KPROXY_CONFLICT" : "KPROXY_INVALID_OBJECT",
      message,
    );
    this.name = "ApiError";
    this.httpCode = httpCode;
    this.reason = reason;
    this.details = details;
  }

  /** The `Status` body to send. */
  toStatus(): StatusBody {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      ...(this.details !== undefined ? { details: this.details } : {}),
      code: this.httpCode,
    };
  }
}

/** Names a resource in messages the way kube-apiserver does: `services`, `endpointslices.discovery.k8s.io`. */
export function qualifiedResource(group: string, resource: string): string {
  return group === "" ? resource : `${resource}.${group}`;
}

/** 404: `services "web" not found`. */
export function notFound(group: string, resource: string, name: string): ApiError {
  return new ApiError(404, "NotFound", `${qualifiedResource(group, resource)} "${name}" not found`, {
    name,
    ...(group !== "" ? { group } : {}),
    kind: resource,
  });
}

/** 409: `services "web" already exists`. */
export function alreadyExists(group: string, resource: string, name: string): ApiError {
  return new ApiError(
    409,
    "AlreadyExists",
    `${qualifiedResource(group, resource)} "${name}" already exists`,
    {
      name,
      ...(group !== "" ? { group } : {}),
      kind: resource,
    },
  );
}

/** 409 Conflict on a stale resourceVersion or failed precondition. */
export function conflict(group: string, resource: string, name: string, why: string): ApiError {
  return new ApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(group, resource)} "${name}": ${why}`,
    { name, ...(group !== "" ? { group } : {}), kind: resource },
  );
}

/** 400 BadRequest. */
export function badRequest(message: string): ApiError {
  return new ApiError(400, "BadRequest", message);
}

/** 410 Gone, for watches and continue tokens older than what the server keeps. */
export function gone(message: string): ApiError {
  return new ApiError(410, "Expired", message);
}

/** 405 MethodNotAllowed. */
export function methodNotAllowed(method: string, what: string): ApiError {
  return new ApiError(
    405,
    "MethodNotAllowed",
    `the server does not allow this method on the requested resource: ${method} ${what}`,
  );
}

/** 415 UnsupportedMediaType. */
export function unsupportedMediaType(contentType: string, accepted: readonly string[]): ApiError {
  return new ApiError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format: ${contentType || "(none)"}; accepted: ${accepted.join(", ")}`,
  );
}

/**
 * 422 Invalid, one cause per field problem: `Service "web" is invalid: spec.ports[0].port:
 * Invalid value: 0: must be between 1 and 65535, inclusive` (kubectl prints the causes).
 */
export function invalid(
  group: string,
  kind: string,
  name: string,
  problems: readonly FieldProblem[],
): ApiError {
  const causes = problems.map((p) => ({ reason: causeReason(p), message: p.message, field: p.field }));
  const list = problems.map((p) => `${p.field}: ${p.message}`);
  const joined = list.length === 1 ? (list[0] ?? "") : `[${list.join(", ")}]`;
  return new ApiError(422, "Invalid", `${kind} "${name}" is invalid: ${joined}`, {
    name,
    ...(group !== "" ? { group } : {}),
    kind,
    causes,
  });
}

/** Turns anything thrown into an ApiError (500 InternalError for unexpected failures). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ApiError(500, "InternalError", `Internal error occurred: ${message}`);
}
