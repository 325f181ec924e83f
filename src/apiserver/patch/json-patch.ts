import { ApiError, badRequest } from "../http/api-error.ts";
import { isJsonObject } from "./json-merge-patch.ts";

/** One operation of an RFC 6902 JSON patch. */
interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

/** Splits a JSON pointer (RFC 6901) into unescaped reference tokens. */
function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/"))
    throw badRequest(`invalid JSON pointer ${JSON.stringify(pointer)}: must start with "/"`);
  return pointer
    .slice(1)
    .split("/")
    .map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
}

type Container = Record<string, unknown> | unknown[];

/** Walks to the parent of the pointer's last token; throws when a step is missing. */
function parentOf(
  doc: unknown,
  tokens: readonly string[],
  pointer: string,
): { parent: Container; last: string } {
  let cur: unknown = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, token, pointer, false)];
    else if (isJsonObject(cur) && Object.hasOwn(cur, token)) cur = cur[token];
    else throw badRequest(`cannot apply JSON patch: path ${JSON.stringify(pointer)} does not exist`);
  }
  if (!Array.isArray(cur) && !isJsonObject(cur)) {
    throw badRequest(
      `cannot apply JSON patch: the parent of ${JSON.stringify(pointer)} is not an object or array`,
    );
  }
  return { parent: cur, last: tokens[tokens.length - 1] ?? "" };
}

function arrayIndex(arr: readonly unknown[], token: string, pointer: string, forAdd: boolean): number {
  if (forAdd && token === "-") return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) {
    throw badRequest(
      `cannot apply JSON patch: ${JSON.stringify(token)} in ${JSON.stringify(pointer)} is not an array index`,
    );
  }
  const i = Number(token);
  if (i > arr.length || (!forAdd && i === arr.length)) {
    throw badRequest(
      `cannot apply JSON patch: index ${i} in ${JSON.stringify(pointer)} is out of range (length ${arr.length})`,
    );
  }
  return i;
}

function getAt(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const { parent, last } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) return parent[arrayIndex(parent, last, pointer, false)];
  if (!Object.hasOwn(parent, last))
    throw badRequest(`cannot apply JSON patch: path ${JSON.stringify(pointer)} does not exist`);
  return parent[last];
}

function removeAt(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw badRequest("cannot apply JSON patch: cannot remove the whole document");
  const { parent, last } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, last, pointer, false), 1)[0];
  if (!Object.hasOwn(parent, last))
    throw badRequest(`cannot apply JSON patch: path ${JSON.stringify(pointer)} does not exist`);
  const value = parent[last];
  delete parent[last];
  return value;
}

function addAt(doc: unknown, pointer: string, value: unknown, replace: boolean): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, last } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, last, pointer, !replace);
    if (replace) parent[i] = value;
    else parent.splice(i, 0, value);
  } else {
    if (replace && !Object.hasOwn(parent, last)) {
      throw badRequest(`cannot apply JSON patch: path ${JSON.stringify(pointer)} does not exist`);
    }
    parent[last] = value;
  }
  return doc;
}

/**
 * Applies an RFC 6902 JSON patch (`application/json-patch+json`): add, remove, replace, move,
 * copy and test. Returns the new document; the input is not modified. Throws 400 on a failed
 * operation (including a failed `test`), naming the path.
 */
export function applyJsonPatch(document: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch))
    throw badRequest("cannot apply JSON patch: the patch must be a JSON array of operations");
  let doc: unknown = structuredClone(document);
  for (const raw of patch as unknown[]) {
    if (!isJsonObject(raw) || typeof raw["op"] !== "string" || typeof raw["path"] !== "string") {
      throw badRequest(
        `cannot apply JSON patch: ${JSON.stringify(raw)} is not an operation with "op" and "path"`,
      );
    }
    const op = raw as unknown as Operation;
    switch (op.op) {
      case "add":
        doc = addAt(doc, op.path, structuredClone(op.value), false);
        break;
      case "remove":
        removeAt(doc, op.path);
        break;
      case "replace":
        doc = addAt(doc, op.path, structuredClone(op.value), true);
        break;
      case "move": {
        const value = removeAt(doc, op.from ?? "");
        doc = addAt(doc, op.path, value, false);
        break;
      }
      case "copy":
        doc = addAt(doc, op.path, structuredClone(getAt(doc, op.from ?? "")), false);
        break;
      case "test":
        if (JSON.stringify(getAt(doc, op.path)) !== JSON.stringify(op.value)) {
          throw new ApiError(422, "Invalid", `cannot apply JSON patch: testing value ${op.path} failed`);
        }
        break;
      default:
        throw badRequest(
          `cannot apply JSON patch: unknown op ${JSON.stringify(op.op)}; expected add, remove, replace, move, copy or test`,
        );
    }
  }
  return doc;
}
