import { badRequest } from "./api-error.ts";

/** Where a paged list continues: the list's resourceVersion and the last key sent. */
export interface ContinuePosition {
  readonly rv: number;
  readonly afterKey: string;
}

/** Encodes a position as an opaque `continue` token. */
export function encodeContinue(position: ContinuePosition): string {
  return Buffer.from(JSON.stringify({ v: "kproxy/1", rv: position.rv, start: position.afterKey })).toString(
    "base64url",
  );
}

/** Decodes a `continue` token; 400 when it is not one of ours. */
export function decodeContinue(token: string): ContinuePosition {
  try {
    const v = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as {
      v?: unknown;
      rv?: unknown;
      start?: unknown;
    };
    if (v.v === "kproxy/1" && typeof v.rv === "number" && typeof v.start === "string") {
      return { rv: v.rv, afterKey: v.start };
    }
  } catch {
    // fall through to the error below
  }
  throw badRequest(
    `invalid continue token ${JSON.stringify(token.slice(0, 40))}: pass the token of a previous list unchanged`,
  );
}
