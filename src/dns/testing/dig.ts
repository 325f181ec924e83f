import { createExecutor, type Executor } from "../../sys/executor.ts";

/** One record line of dig's output. */
export interface DigRecord {
  readonly name: string;
  readonly ttl: number;
  readonly type: string;
  /** The record data as dig prints it, e.g. `10.96.0.10` or `0 100 80 web.default.svc.cluster.local.`. */
  readonly data: string;
}

/** What dig printed for one query. */
export interface DigResult {
  /** `NOERROR`, `NXDOMAIN`, `SERVFAIL`, ... or `TIMEOUT` when dig got no reply. */
  readonly status: string;
  /** Header flags, e.g. `["qr", "aa", "rd", "ra"]`. */
  readonly flags: readonly string[];
  readonly answer: readonly DigRecord[];
  readonly authority: readonly DigRecord[];
  readonly additional: readonly DigRecord[];
  /** The whole output, for failure messages. */
  readonly output: string;
}

const executor: Executor = createExecutor();

/**
 * Runs the real `dig` (Debian dnsutils) against `server:port` and parses its sections. `args`
 * are dig's own (name, type, `+tcp`, `+bufsize=512`, `-x IP`, ...). One try, short timeout, so
 * that a test waiting on a change polls rather than hangs.
 */
export async function dig(server: string, port: number, args: readonly string[]): Promise<DigResult> {
  const r = await executor.run(
    "dig",
    [
      `@${server}`,
      "-p",
      String(port),
      "+noall",
      "+comments",
      "+answer",
      "+authority",
      "+additional",
      "+nocookie",
      "+tries=1",
      "+time=3",
      ...args,
    ],
    { timeoutMs: 15_000 },
  );
  return parseDig(r.stdout + r.stderr);
}

/** Parses dig's output (`+noall +comments +answer +authority +additional`). */
export function parseDig(output: string): DigResult {
  const status =
    /status: ([A-Z]+)/.exec(output)?.[1] ??
    (/timed out|no servers could be reached/.test(output) ? "TIMEOUT" : "UNKNOWN");
  const flags = /;; flags: ([a-z ]*);/.exec(output)?.[1]?.trim().split(/\s+/) ?? [];
  const sections: Record<string, DigRecord[]> = { ANSWER: [], AUTHORITY: [], ADDITIONAL: [] };
  let current: DigRecord[] | undefined;
  for (const line of output.split("\n")) {
    const header = /^;; (ANSWER|AUTHORITY|ADDITIONAL) SECTION:/.exec(line);
    if (header) {
      current = sections[header[1] ?? ""];
      continue;
    }
    if (line.trim() === "" || line.startsWith(";")) {
      if (line.trim() === "") current = undefined;
      continue;
    }
    const m = /^(\S+)\s+(\d+)\s+IN\s+(\S+)\s+(.*)$/.exec(line);
    if (current && m)
      current.push({ name: m[1] ?? "", ttl: Number(m[2]), type: m[3] ?? "", data: (m[4] ?? "").trim() });
  }
  return {
    status,
    flags,
    answer: sections["ANSWER"] ?? [],
    authority: sections["AUTHORITY"] ?? [],
    additional: sections["ADDITIONAL"] ?? [],
    output,
  };
}

/** The sorted data of the answer records of one type (all types when omitted). */
export function answerData(result: DigResult, type?: string): string[] {
  return result.answer
    .filter((r) => type === undefined || r.type === type)
    .map((r) => r.data)
    .sort();
}

/**
 * Polls `probe` until `accept` holds or `timeoutMs` passes; returns the last result and how long it
 * took. For tests that must see a change within a bound without sleeping blindly.
 */
export async function pollUntil<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs: number,
  intervalMs = 20,
): Promise<{ value: T; ok: boolean; elapsedMs: number }> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    const elapsedMs = Date.now() - start;
    if (accept(value)) return { value, ok: true, elapsedMs };
    if (elapsedMs >= timeoutMs) return { value, ok: false, elapsedMs };
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
