import type { ServerResponse } from "node:http";
import type { ApiError } from "./api-error.ts";

/** Sends a JSON body with a status code. */
export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  contentType = "application/json",
): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(code, {
    "Content-Type": contentType,
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-cache, private",
  });
  res.end(text);
}

/** Sends a failure as a `Status` body. */
export function sendError(res: ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.httpCode, err.toStatus());
}

/** Writes a chunk and waits for the socket to drain when its buffer is full. */
export async function writeChunk(res: ServerResponse, chunk: string): Promise<void> {
  if (res.write(chunk)) return;
  if (res.destroyed) throw new Error("the client went away");
  await new Promise<void>((resolve, reject) => {
    const onDrain = (): void => {
      res.off("close", onClose);
      resolve();
    };
    const onClose = (): void => {
      res.off("drain", onDrain);
      reject(new Error("the client went away"));
    };
    res.once("drain", onDrain);
    res.once("close", onClose);
  });
}
