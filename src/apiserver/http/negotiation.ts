/** One media range of an Accept header, e.g. `application/json;as=Table;v=v1;g=meta.k8s.io`. */
export interface MediaRange {
  readonly type: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses an Accept header into its media ranges, in the client's order. */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (header === undefined || header.trim() === "") return [{ type: "*/*", params: {} }];
  return header.split(",").map((part) => {
    const [type = "", ...rest] = part.split(";").map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of rest) {
      const eq = p.indexOf("=");
      if (eq > 0) params[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
    }
    return { type: type.toLowerCase(), params };
  });
}

/** How a response for objects should be shaped. */
export type ObjectRendering =
  | { readonly as: "object" }
  | { readonly as: "Table"; readonly version: string }
  | { readonly as: "PartialObjectMetadata"; readonly version: string };

function isJsonType(type: string): boolean {
  return type === "application/json" || type === "application/*" || type === "*/*";
}

/**
 * Picks the first acceptable rendering: a `meta.k8s.io` Table (what `kubectl get` asks for),
 * PartialObjectMetadata, or the plain object. Undefined when nothing acceptable is JSON
 * (e.g. protobuf only).
 */
export function chooseRendering(accept: string | undefined): ObjectRendering | undefined {
  for (const range of parseAccept(accept)) {
    if (!isJsonType(range.type)) continue;
    const as = range.params["as"];
    if (as === undefined) return { as: "object" };
    const group = range.params["g"];
    const version = range.params["v"] ?? "v1";
    if (group !== "meta.k8s.io" || (version !== "v1" && version !== "v1beta1")) continue;
    if (as === "Table") return { as: "Table", version };
    if (as === "PartialObjectMetadata" || as === "PartialObjectMetadataList")
      return { as: "PartialObjectMetadata", version };
  }
  return undefined;
}

/** The aggregated discovery version asked for (`v2` or `v2beta1`), if any. */
export function aggregatedDiscoveryVersion(accept: string | undefined): string | undefined {
  for (const range of parseAccept(accept)) {
    if (!isJsonType(range.type)) continue;
    const p = range.params;
    if (p["as"] === undefined) return undefined;
    if (
      p["as"] === "APIGroupDiscoveryList" &&
      p["g"] === "apidiscovery.k8s.io" &&
      (p["v"] === "v2" || p["v"] === "v2beta1")
    ) {
      return p["v"];
    }
  }
  return undefined;
}
