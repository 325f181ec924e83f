import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, hostname, release } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The median of a list of numbers (NaN for an empty list). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** The p-th percentile (0-100) by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank] ?? Number.NaN;
}

/** One row of a benchmark table: a measured figure beside its reference, and their ratio. */
export interface BenchRow {
  readonly name: string;
  readonly unit: string;
  /** Median of kproxy's runs. */
  readonly value: number;
  /** Median of the reference's runs (upstream's way, HAProxy, dnsmasq, direct), measured in the same run. */
  readonly reference?: number;
  readonly referenceName?: string;
  /** value / reference. Whether higher is better depends on the unit; say it in `better`. */
  readonly ratio?: number;
  readonly better?: "higher" | "lower";
  /** Every individual run, so that the spread is visible in the JSON. */
  readonly samples?: readonly number[];
  readonly referenceSamples?: readonly number[];
  readonly note?: string;
}

/** Formats a number for the table: 3 significant digits, thousands grouped. */
export function fmt(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return "-";
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString("en-US");
  return Number(n.toPrecision(3)).toString();
}

/** Prints a table of rows and writes them as JSON to bench/results/<suite>-<timestamp>.json. */
export function report(suite: string, rows: readonly BenchRow[], meta: Record<string, unknown> = {}): string {
  const header = ["benchmark", "kproxy", "reference", "ratio", "unit"];
  const lines = rows.map((r) => [
    r.name,
    fmt(r.value),
    r.reference === undefined ? "-" : `${fmt(r.reference)} (${r.referenceName ?? "ref"})`,
    r.ratio === undefined ? "-" : `${fmt(r.ratio)}x${r.better ? ` (${r.better} is better)` : ""}`,
    r.unit,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  const fmtLine = (cells: readonly string[]): string =>
    cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
  console.log(`\n## ${suite}`);
  console.log(fmtLine(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const l of lines) console.log(fmtLine(l));
  const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "results");
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const file = join(dir, `${suite}-${stamp}.json`);
  const machine = { hostname: hostname(), kernel: release(), cpus: cpus().length, node: process.version };
  writeFileSync(
    file,
    JSON.stringify({ suite, date: new Date().toISOString(), machine, meta, rows }, null, 2) + "\n",
  );
  console.log(`(written to ${file})`);
  return file;
}
