import type { KubeObject, ResourceStrategy } from "../registry/resource-strategy.ts";
import type { StoredObject } from "../store/stored-object.ts";
import type { ObjectRendering } from "./negotiation.ts";

/** What a Table row carries of its object (`includeObject`). */
export type IncludeObject = "None" | "Metadata" | "Object";

/** Reads `includeObject` (default Metadata, as upstream). */
export function parseIncludeObject(value: string | null): IncludeObject {
  return value === "None" || value === "Object" ? value : "Metadata";
}

function partialMetadata(obj: KubeObject, version: string): Record<string, unknown> {
  return {
    kind: "PartialObjectMetadata",
    apiVersion: `meta.k8s.io/${version}`,
    metadata: obj.metadata ?? {},
  };
}

/** One Table row for an object, with the object as `includeObject` says. */
function tableRow(
  strategy: ResourceStrategy,
  obj: KubeObject,
  version: string,
  include: IncludeObject,
  now: Date,
): Record<string, unknown> {
  const row: Record<string, unknown> = { cells: strategy.tableRow(obj, now) };
  if (include === "Object") row["object"] = obj;
  else if (include === "Metadata") row["object"] = partialMetadata(obj, version);
  return row;
}

/** A `meta.k8s.io` Table of objects, as `kubectl get` asks for them. */
export function renderTable(
  strategy: ResourceStrategy,
  objects: readonly KubeObject[],
  options: {
    version: string;
    include: IncludeObject;
    resourceVersion?: string;
    continueToken?: string;
    /** Leave out column definitions (every watch event but the first). */
    noHeaders?: boolean;
    now?: Date;
  },
): Record<string, unknown> {
  const now = options.now ?? new Date();
  const metadata: Record<string, string> = {};
  if (options.resourceVersion !== undefined) metadata["resourceVersion"] = options.resourceVersion;
  if (options.continueToken !== undefined) metadata["continue"] = options.continueToken;
  return {
    kind: "Table",
    apiVersion: `meta.k8s.io/${options.version}`,
    metadata,
    columnDefinitions: options.noHeaders ? [] : strategy.tableColumns,
    rows: objects.map((o) => tableRow(strategy, o, options.version, options.include, now)),
  };
}

/** One object as asked for: itself (as stored JSON), a one-row Table, or its PartialObjectMetadata. */
export function renderObject(
  strategy: ResourceStrategy,
  stored: Pick<StoredObject, "object" | "json">,
  rendering: ObjectRendering,
  include: IncludeObject,
  noHeaders = false,
): string {
  if (rendering.as === "Table") {
    const rv = stored.object.metadata?.resourceVersion;
    return JSON.stringify(
      renderTable(strategy, [stored.object], {
        version: rendering.version,
        include,
        noHeaders,
        ...(rv !== undefined ? { resourceVersion: rv } : {}),
      }),
    );
  }
  if (rendering.as === "PartialObjectMetadata")
    return JSON.stringify(partialMetadata(stored.object, rendering.version));
  return stored.json;
}

/** The list of PartialObjectMetadata for objects. */
export function renderPartialList(
  objects: readonly KubeObject[],
  version: string,
  metadata: Record<string, string>,
): Record<string, unknown> {
  return {
    kind: "PartialObjectMetadataList",
    apiVersion: `meta.k8s.io/${version}`,
    metadata,
    items: objects.map((o) => partialMetadata(o, version)),
  };
}
