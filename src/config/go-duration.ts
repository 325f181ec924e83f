/**
 * Go-style durations (`30s`, `1m0s`, `250ms`, `1h30m`), as kube-proxy's configuration and flags
 * write them (`metav1.Duration`). kproxy keeps durations in milliseconds internally.
 */

const unitMs: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a Go duration into milliseconds; undefined when `text` is not one. Like Go's
 * `time.ParseDuration`, `0` alone is accepted and every other number needs a unit.
 */
export function parseGoDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === "0" || s === "+0" || s === "-0") return 0;
  const match = /^([+-]?)((?:\d*\.?\d*(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(s);
  if (match === null) return undefined;
  const sign = match[1] === "-" ? -1 : 1;
  let total = 0;
  for (const part of (match[2] ?? "").matchAll(/(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)/g)) {
    const digits = part[1] ?? "";
    if (digits === "" || digits === ".") return undefined;
    total += Number(digits) * (unitMs[part[2] ?? ""] ?? NaN);
  }
  return Number.isFinite(total) ? sign * total : undefined;
}

/** Formats milliseconds as Go's `Duration.String()` does: `0s`, `250ms`, `30s`, `1m0s`, `1h0m0s`. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return "0s";
  const sign = ms < 0 ? "-" : "";
  let rest = Math.abs(ms);
  if (rest < 1000) return `${sign}${trimNumber(rest)}ms`;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = `${trimNumber(rest / 1000)}s`;
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}`;
  return `${sign}${seconds}`;
}

function trimNumber(value: number): string {
  return String(Number(value.toFixed(6)));
}
