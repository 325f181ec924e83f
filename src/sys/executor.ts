import { spawn } from "node:child_process";
import { CommandError } from "../errors.ts";

/** The result of one external command. */
export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit code; null when killed by a signal. */
  readonly code: number | null;
}

export interface ExecOptions {
  /** Written to the command's stdin (e.g. an iptables-restore payload). */
  readonly input?: string;
  /** Kill the command after this long. */
  readonly timeoutMs?: number;
}

/**
 * Runs external commands (iptables-restore, nft, ipset, conntrack, ...). The one seam through
 * which kernel modes touch the system: unit tests pass a recording stand-in, e2e tests the real one.
 */
export interface Executor {
  run(file: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>;
}

/** Runs commands with `child_process.spawn`; never throws for a non-zero exit (see `checked`). */
export function createExecutor(): Executor {
  return {
    run(file, args, options = {}) {
      return new Promise((resolve, reject) => {
        const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let timer: NodeJS.Timeout | undefined;
        if (options.timeoutMs !== undefined) {
          timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
        }
        child.stdout.on("data", (b: Buffer) => out.push(b));
        child.stderr.on("data", (b: Buffer) => err.push(b));
        child.on("error", (e) => {
          if (timer) clearTimeout(timer);
          reject(new CommandError(file, null, e.message, { cause: e }));
        });
        child.on("close", (code) => {
          if (timer) clearTimeout(timer);
          resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code });
        });
        // A command that exits before reading its input (e.g. a usage error) closes stdin: ignore EPIPE.
        child.stdin.on("error", () => {});
        child.stdin.end(options.input ?? "");
      });
    },
  };
}

/** Runs a command and throws CommandError unless it exits 0; returns stdout. */
export async function runChecked(
  executor: Executor,
  file: string,
  args: readonly string[],
  options?: ExecOptions,
): Promise<string> {
  const result = await executor.run(file, args, options);
  if (result.code !== 0) throw new CommandError(`${file} ${args.join(" ")}`, result.code, result.stderr);
  return result.stdout;
}
