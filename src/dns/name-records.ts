/** One SRV record's data. Priority is always 0; weights share 100 among the records of one name. */
export interface SrvTarget {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  /** Normalised target name (lower case, no trailing dot). */
  readonly target: string;
}

/**
 * Every record one name in the cluster zone has, precomputed when the API objects change so that a
 * query is a single map lookup. A name that exists has an entry even if all its sets are empty
 * (then queries get NODATA rather than NXDOMAIN).
 */
export interface NameRecords {
  readonly a: readonly string[];
  readonly aaaa: readonly string[];
  readonly srv: readonly SrvTarget[];
  /** Set for ExternalName Services: the target every query type is pointed at. */
  readonly cname?: string;
}

/** Mutable form used while a Service's names are built. */
export interface NameRecordsBuilder {
  a: Set<string>;
  aaaa: Set<string>;
  /** Keyed by `port/target`, so that equal records collapse. */
  srv: Map<string, { port: number; target: string }>;
  cname?: string;
}

/** An empty builder. */
export function newNameRecords(): NameRecordsBuilder {
  return { a: new Set(), aaaa: new Set(), srv: new Map() };
}

/** Freezes a builder: sorted, deduplicated sets and SRV weights of floor(100 / count), as CoreDNS gives. */
export function finishNameRecords(b: NameRecordsBuilder): NameRecords {
  const srvs = [...b.srv.values()].sort((x, y) => x.target.localeCompare(y.target) || x.port - y.port);
  const weight = srvs.length === 0 ? 0 : Math.floor(100 / srvs.length);
  const out: NameRecords = {
    a: [...b.a].sort(),
    aaaa: [...b.aaaa].sort(),
    srv: srvs.map((s) => ({ priority: 0, weight, port: s.port, target: s.target })),
  };
  return b.cname === undefined ? out : { ...out, cname: b.cname };
}
