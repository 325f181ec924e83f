/**
 * The shape of a conformance case (see `conformance-cases.ts` for the table and how per-mode
 * exceptions work), and small constructors for expectations.
 */
import type { ProxyMode } from "../../config/proxy-config.ts";

/** What a client should get. */
export type Expectation =
  | {
      readonly kind: "answered";
      /** Every answer comes from one of these pods, and each of them answers eventually. */
      readonly backends: readonly string[];
      /** `client`: the backend sees the client's own address; `node`: a node address (masqueraded). */
      readonly source: "client" | "node";
      /** ClientIP affinity: every connection reaches the same backend (one of `backends`). */
      readonly sameBackend?: boolean;
    }
  | { readonly kind: "refused" }
  | { readonly kind: "dropped" }
  | { readonly kind: "http"; readonly status: number };

/** A change through the API server, then what to expect once kproxy has synced it. */
export interface ConformanceStep {
  /** New endpoints (pod names) of the case's Service. */
  readonly setEndpoints: readonly string[];
  readonly expect: Expectation;
}

/** The kind of address a case sends to. */
export type TargetKind = "ClusterIP" | "NodePort" | "externalIP" | "LoadBalancer" | "HealthCheckNodePort";

export interface ConformanceCase {
  readonly name: string;
  /** The kproxy settings the case runs under (`settingsGroups`). */
  readonly settings: string;
  /** A topology name: `n1-client`, `n2-client` (pods), `node1`, `node2`, `external`, or a backend pod. */
  readonly from: string;
  readonly to: { readonly kind: TargetKind; readonly address: string };
  readonly port: number;
  readonly protocol: "TCP" | "UDP";
  /** `namespace/name` of the Service the case exercises (the one `then` steps change). */
  readonly service: string;
  /** UDP: fixed source port, so that every query belongs to one conntrack flow. */
  readonly localPort?: number;
  readonly expect: Expectation;
  readonly then?: readonly ConformanceStep[];
  /** Modes that cannot do this case, each with the reason. */
  readonly unsupported?: Partial<Record<ProxyMode, string>>;
  /** A different first expectation in these modes. */
  readonly byMode?: Partial<Record<ProxyMode, Expectation>>;
  /** Why the expectation (or a mode's) is what it is, or where it comes from. */
  readonly note?: string;
}

/** kproxy settings a group of cases needs (the runner restarts kproxy on node1 between groups). */
export interface SettingsGroup {
  readonly name: string;
  readonly masqueradeAll: boolean;
  /** False: no local-traffic detector (upstream's NoOp detector; `--detect-local-mode None`). */
  readonly localDetector: boolean;
}

/** Rules that apply to every case of a mode. */
export interface ModeRule {
  /** Every `answered` expectation sees a node address; the text says why. */
  readonly sourceAlwaysNode?: string;
  /** Settings groups other than `base` do not apply; the text says why. */
  readonly onlyBaseSettings?: string;
}

/** Answers from each of `backends`, the backend seeing the client's address or a node's. */
export function answered(backends: readonly string[], source: "client" | "node"): Expectation {
  return { kind: "answered", backends, source };
}

/** Refused: an RST or an ICMP error before the client's timeout. */
export const refused: Expectation = { kind: "refused" };

/** Dropped: nothing comes back before the client's timeout. */
export const dropped: Expectation = { kind: "dropped" };
