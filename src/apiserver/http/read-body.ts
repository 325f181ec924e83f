import type { IncomingMessage } from "node:http";
import { parse as parseYaml } from "yaml";
import { ApiError, badRequest } from "./api-error.ts";
import { decodeProtobufBody } from "./protobuf-body.ts";

/** kube-apiserver's limit on a request body (3 MiB). */
const maxBodyBytes = 3 * 1024 * 1024;

/** The media type of a request body, without parameters (`application/json`). */
export function contentTypeOf(req: IncomingMessage): string {
  return (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** Reads a request body (up to 3 MiB; 413 beyond). */
export async function readBodyBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) {
      throw new ApiError(
        413,
        "RequestEntityTooLarge",
        `the request body is larger than ${maxBodyBytes} bytes`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Reads and parses a JSON body (or YAML, or Kubernetes protobuf, when the Content-Type says so);
 * undefined when empty.
 */
export async function readBody(req: IncomingMessage): Promise<unknown> {
  const bytes = await readBodyBytes(req);
  const type = contentTypeOf(req);
  if (type === "application/vnd.kubernetes.protobuf" && bytes.length > 0) return decodeProtobufBody(bytes);
  const text = bytes.toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return type.includes("yaml") ? (parseYaml(text) as unknown) : (JSON.parse(text) as unknown);
  } catch (err) {
    throw badRequest(
      `cannot parse the request body as ${type.includes("yaml") ? "YAML" : "JSON"}: ${(err as Error).message}`,
    );
  }
}
