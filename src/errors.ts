/**
 * kproxy's typed errors. Every error carries a stable `code` that callers and tests may match on,
 * and a message that says what could not be done, the offending value, and what would be accepted.
 */

/** Stable error codes. Add, never rename: scripts and tests match on them. */
export type ProxyErrorCode =
  | "KPROXY_INVALID_CONFIG"
  | "KPROXY_INVALID_OBJECT"
  | "KPROXY_USAGE"
  | "KPROXY_MODE_UNAVAILABLE"
  | "KPROXY_RULE_APPLY_FAILED"
  | "KPROXY_COMMAND_FAILED"
  | "KPROXY_LISTEN_FAILED"
  | "KPROXY_API_UNAVAILABLE"
  | "KPROXY_NOT_FOUND"
  | "KPROXY_CONFLICT"
  | "KPROXY_TIMEOUT";

/** Base class of every error kproxy throws on purpose. */
export class ProxyError extends Error {
  readonly code: ProxyErrorCode;

  constructor(code: ProxyErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProxyError";
    this.code = code;
  }
}

/** One problem with one field, e.g. `{ field: "iptables.masqueradeBit", message: "must be 0-31", example: "14" }`. */
export interface FieldProblem {
  /** Dotted path of the offending field, e.g. `spec.ports[0].port` or `iptables.syncPeriod`. */
  readonly field: string;
  /** What is wrong, including the offending value. */
  readonly message: string;
  /** A valid value, shown to the user as a hint. */
  readonly example?: string;
}

/** Formats problems one per line, as printed by the CLI before exiting with code 2. */
export function formatFieldProblems(problems: readonly FieldProblem[]): string {
  return problems
    .map((p) => `  ${p.field}: ${p.message}${p.example === undefined ? "" : ` (for example: ${p.example})`}`)
    .join("\n");
}

/** Invalid configuration or object: carries every problem found, each with its field path. */
export class ValidationError extends ProxyError {
  readonly problems: readonly FieldProblem[];

  constructor(
    what: string,
    problems: readonly FieldProblem[],
    code: ProxyErrorCode = "KPROXY_INVALID_CONFIG",
  ) {
    super(code, `Cannot use ${what}: ${problems.length} problem(s):\n${formatFieldProblems(problems)}`);
    this.name = "ValidationError";
    this.problems = problems;
  }
}

/** Bad command-line usage (unknown mode, conflicting flags). The CLI exits with code 2. */
export class UsageError extends ProxyError {
  constructor(message: string, options?: ErrorOptions) {
    super("KPROXY_USAGE", message, options);
    this.name = "UsageError";
  }
}

/** A kernel write (iptables-restore, nft -f, ipvsadm) failed; the previous rules stay in place. */
export class RuleApplyError extends ProxyError {
  /** The lines of the payload the tool complained about, when it said which. */
  readonly failingLines: readonly string[];
  readonly tool: string;
  readonly stderr: string;

  constructor(tool: string, stderr: string, failingLines: readonly string[] = []) {
    const where = failingLines.length > 0 ? `; failing line(s):\n${failingLines.join("\n")}` : "";
    super(
      "KPROXY_RULE_APPLY_FAILED",
      `Cannot apply rules with ${tool}: ${stderr.trim() || "no error output"}${where}`,
    );
    this.name = "RuleApplyError";
    this.tool = tool;
    this.stderr = stderr;
    this.failingLines = failingLines;
  }
}

/** An external command could not be run or exited non-zero. */
export class CommandError extends ProxyError {
  readonly command: string;
  readonly exitCode: number | null;
  readonly stderr: string;

  constructor(command: string, exitCode: number | null, stderr: string, options?: ErrorOptions) {
    super(
      "KPROXY_COMMAND_FAILED",
      `Cannot run ${command}: exit code ${exitCode ?? "none"}${stderr.trim() ? `: ${stderr.trim()}` : ""}`,
      options,
    );
    this.name = "CommandError";
    this.command = command;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** Returns the message of anything thrown, for logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
