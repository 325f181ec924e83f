/** Knobs of the relays that are not user configuration; tests shorten the intervals. */
export interface RelayTuning {
  /** One timeout per connection attempt; their count is the number of attempts (upstream: 250 ms, 500 ms, 1 s, 2 s). */
  readonly connectTimeoutsMs: readonly number[];
  /** Consecutive connect failures that eject an endpoint (Envoy's consecutive gateway failures). */
  readonly ejectAfterFailures: number;
  /** First ejection interval; the n-th consecutive ejection lasts n times this (Envoy: 30 s). */
  readonly baseEjectionMs: number;
  /** Upper bound of an ejection interval (Envoy: 300 s). */
  readonly maxEjectionMs: number;
  /** At most this share of a service port's endpoints is ejected at once (rounded down). */
  readonly maxEjectedShare: number;
}

export const defaultRelayTuning: RelayTuning = {
  connectTimeoutsMs: [250, 500, 1000, 2000],
  ejectAfterFailures: 3,
  baseEjectionMs: 30_000,
  maxEjectionMs: 300_000,
  maxEjectedShare: 0.5,
};
