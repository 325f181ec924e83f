import { readFileSync, readdirSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { parseAllDocuments } from "yaml";
import { errorMessage } from "../../errors.ts";
import type { KubeObject } from "../registry/resource-strategy.ts";

/** One object of a manifest file. */
export interface ManifestObject {
  readonly file: string;
  readonly object: KubeObject;
}

/** A file or document that could not be read. */
export interface ManifestProblem {
  readonly file: string;
  readonly message: string;
}

const manifestExtensions = new Set([".yaml", ".yml", ".json"]);

/** The manifest files of a path: the file itself, or a folder's YAML/JSON files (not recursive, as `kubectl apply -f DIR`). */
export function manifestFiles(path: string): string[] {
  const st = statSync(path);
  if (!st.isDirectory()) return [path];
  return readdirSync(path)
    .filter((name) => manifestExtensions.has(extname(name).toLowerCase()))
    .sort()
    .map((name) => join(path, name))
    .filter((file) => statSync(file).isFile());
}

/** Order of kinds when applying: what others live in or refer to goes first. */
const kindOrder = ["Namespace", "Node", "Service", "Pod", "EndpointSlice"];

function rank(obj: KubeObject): number {
  const i = kindOrder.indexOf(String(obj.kind));
  return i < 0 ? kindOrder.length : i;
}

/**
 * Reads every object of the given files and folders (multi-document YAML; `kind: List` is
 * unpacked), Namespaces first, then Nodes, Services, Pods and EndpointSlices, each group in file
 * order. Unreadable files and malformed documents are reported, not thrown.
 */
export function readManifests(paths: readonly string[]): {
  objects: ManifestObject[];
  problems: ManifestProblem[];
} {
  const objects: ManifestObject[] = [];
  const problems: ManifestProblem[] = [];
  for (const path of paths) {
    let files: string[];
    try {
      files = manifestFiles(path);
    } catch (err) {
      problems.push({ file: path, message: `cannot read: ${errorMessage(err)}` });
      continue;
    }
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (err) {
        problems.push({ file, message: `cannot read: ${errorMessage(err)}` });
        continue;
      }
      parseAllDocuments(text).forEach((doc, i) => {
        if (doc.errors.length > 0) {
          problems.push({
            file,
            message: `document ${i + 1} is not valid YAML: ${doc.errors[0]?.message ?? ""}`,
          });
          return;
        }
        const value = doc.toJS() as unknown;
        if (value === null || value === undefined) return;
        if (typeof value !== "object" || Array.isArray(value)) {
          problems.push({ file, message: `document ${i + 1} is not an object` });
          return;
        }
        const obj = value as KubeObject;
        const items =
          obj.kind === "List" && Array.isArray(obj["items"]) ? (obj["items"] as KubeObject[]) : [obj];
        for (const item of items) {
          if (typeof item.kind !== "string" || typeof item.apiVersion !== "string" || !item.metadata?.name) {
            problems.push({
              file,
              message: `document ${i + 1}: an object needs apiVersion, kind and metadata.name`,
            });
            continue;
          }
          objects.push({ file, object: item });
        }
      });
    }
  }
  objects.sort((a, b) => rank(a.object) - rank(b.object));
  return { objects, problems };
}
