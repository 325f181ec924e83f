import { readFileSync } from "node:fs";
import { timingSafeEqual } from "node:crypto";
import { UsageError, errorMessage } from "../../errors.ts";

/** A user a static token authenticates. */
export interface TokenUser {
  readonly name: string;
  readonly uid: string;
}

/**
 * Reads a static token file: kube-apiserver's CSV form (`token,user,uid[,"group1,group2"]`) or
 * one bare token per line. Blank lines and `#` comments are skipped.
 */
export function loadTokenFile(path: string): Map<string, TokenUser> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(`Cannot read --token-file ${path}: ${errorMessage(err)}`);
  }
  const tokens = new Map<string, TokenUser>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [token = "", user, uid] = line.split(",").map((s) => s.trim());
    if (token === "") continue;
    tokens.set(token, { name: user ?? "kproxy-user", uid: uid ?? user ?? "" });
  }
  if (tokens.size === 0) {
    throw new UsageError(
      `Cannot use --token-file ${path}: it holds no token; write one token per line (token,user,uid)`,
    );
  }
  return tokens;
}

/** The user of an `Authorization: Bearer <token>` header, or undefined when it matches none. */
export function authenticate(
  header: string | undefined,
  tokens: ReadonlyMap<string, TokenUser>,
): TokenUser | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (m === null) return undefined;
  const given = Buffer.from(m[1] ?? "");
  for (const [token, user] of tokens) {
    const expected = Buffer.from(token);
    if (expected.length === given.length && timingSafeEqual(expected, given)) return user;
  }
  return undefined;
}
