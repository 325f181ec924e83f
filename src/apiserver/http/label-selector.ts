import { badRequest } from "./api-error.ts";

/** One requirement of a label selector. */
interface Requirement {
  readonly key: string;
  readonly op: "exists" | "notexists" | "in" | "notin" | "gt" | "lt";
  readonly values: readonly string[];
}

/** A parsed label selector; `matches` tests an object's labels. */
export interface LabelSelector {
  readonly empty: boolean;
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
}

/** Splits on commas that are not inside parentheses (`a in (x,y),b` → two parts). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== "");
}

const keyPattern = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;

function parseRequirement(part: string, selector: string): Requirement {
  const fail = (): never => {
    throw badRequest(
      `unable to parse requirement: ${JSON.stringify(part)} in label selector ${JSON.stringify(selector)}; expected key, !key, key=value, key!=value, key in (a,b) or key notin (a,b)`,
    );
  };
  const setMatch = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
  if (setMatch) {
    const [, key = "", op, list = ""] = setMatch;
    if (!keyPattern.test(key)) fail();
    const values = list
      .split(",")
      .map((v) => v.trim())
      .filter((v) => v !== "");
    return { key, op: op === "in" ? "in" : "notin", values };
  }
  const opMatch = /^([^=!<>\s]+)\s*(==|!=|=|<|>)\s*(\S*)$/.exec(part);
  if (opMatch) {
    const [, key = "", op, value = ""] = opMatch;
    if (!keyPattern.test(key)) fail();
    if (op === "<" || op === ">") {
      if (!/^-?\d+$/.test(value)) fail();
      return { key, op: op === "<" ? "lt" : "gt", values: [value] };
    }
    return { key, op: op === "!=" ? "notin" : "in", values: [value] };
  }
  if (part.startsWith("!")) {
    const key = part.slice(1).trim();
    if (!keyPattern.test(key)) fail();
    return { key, op: "notexists", values: [] };
  }
  if (!keyPattern.test(part)) fail();
  return { key: part, op: "exists", values: [] };
}

function matchesRequirement(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = labels[r.key];
  switch (r.op) {
    case "exists":
      return has;
    case "notexists":
      return !has;
    case "in":
      return has && r.values.includes(value ?? "");
    case "notin":
      return !has || !r.values.includes(value ?? "");
    case "gt":
    case "lt": {
      if (!has || !/^-?\d+$/.test(value ?? "")) return false;
      const n = Number(value);
      const limit = Number(r.values[0]);
      return r.op === "gt" ? n > limit : n < limit;
    }
  }
}

/** Parses a `labelSelector` query parameter (kube-apiserver's syntax); throws 400 when malformed. */
export function parseLabelSelector(selector: string | null | undefined): LabelSelector {
  const requirements = splitTopLevel(selector ?? "").map((p) => parseRequirement(p, selector ?? ""));
  return {
    empty: requirements.length === 0,
    matches(labels) {
      const l = labels ?? {};
      return requirements.every((r) => matchesRequirement(r, l));
    },
  };
}

/** True when every key/value of a Service-style `selector` map is in `labels` (empty matches nothing). */
export function selectorMapMatches(
  selector: Readonly<Record<string, string>> | undefined,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  if (selector === undefined) return false;
  const entries = Object.entries(selector);
  if (entries.length === 0) return false;
  return entries.every(([k, v]) => labels?.[k] === v);
}
