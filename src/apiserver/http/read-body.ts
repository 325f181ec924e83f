import type { IncomingMessage } from "node:http";
import { parse as parseYaml } from "yaml";
import { ApiError, badRequest } from "./api-error.ts";

/** kube-apiserver's limit on a request body (3 MiB). */
const maxBodyBytes = 3 * 1024 * 1024;

/** The media type of a request body, without parameters (`application/json`). */
export function contentTypeOf(req: IncomingMessage): string {
  return (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** Reads a request body as text (up to 3 MiB; 413 beyond). */
export async function readBodyText(req: IncomingMessage): Promise<string> {
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
  return Buffer.concat(chunks).toString("utf8");
}

/** Reads and parses a JSON (or YAML, when the Content-Type says so) body; undefined when empty. */
export async function readBody(req: IncomingMessage): Promise<unknown> {
  const text = await readBodyText(req);
  if (text.trim() === "") return undefined;
  const type = contentTypeOf(req);
  try {
    return type.includes("yaml") ? (parseYaml(text) as unknown) : (JSON.parse(text) as unknown);
  } catch (err) {
    throw badRequest(
      `cannot parse the request body as ${type.includes("yaml") ? "YAML" : "JSON"}: ${(err as Error).message}`,
    );
  }
}
