/** A request path naming resources: `/api/v1/namespaces/default/services/web/status`. */
export interface ResourcePath {
  readonly group: string;
  readonly version: string;
  /** The namespace in the path; undefined for cluster-wide requests and cluster-scoped resources. */
  readonly namespace: string | undefined;
  readonly resource: string;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
  /** True for the deprecated `/api/v1/watch/...` form. */
  readonly legacyWatch: boolean;
}

/**
 * Parses a resource path under `/api/v1` or `/apis/GROUP/VERSION`; undefined for anything else
 * (discovery documents, unknown paths).
 */
export function parseResourcePath(pathname: string): ResourcePath | undefined {
  const segments = pathname
    .split("/")
    .filter((s) => s !== "")
    .map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === "api" && segments.length >= 3) {
    group = "";
    version = segments[1] ?? "";
    rest = segments.slice(2);
  } else if (segments[0] === "apis" && segments.length >= 4) {
    group = segments[1] ?? "";
    version = segments[2] ?? "";
    rest = segments.slice(3);
  } else {
    return undefined;
  }
  let legacyWatch = false;
  if (rest[0] === "watch") {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  if (rest[0] === "namespaces" && rest.length >= 3 && rest[2] !== "status" && rest[2] !== "finalize") {
    if (rest.length > 5) return undefined;
    return {
      group,
      version,
      namespace: rest[1],
      resource: rest[2] ?? "",
      name: rest[3],
      subresource: rest[4],
      legacyWatch,
    };
  }
  if (rest.length === 0 || rest.length > 3) return undefined;
  return {
    group,
    version,
    namespace: undefined,
    resource: rest[0] ?? "",
    name: rest[1],
    subresource: rest[2],
    legacyWatch,
  };
}
