import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The repository root (where `src/main.ts` lives). */
export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** The result of a finished `kproxy` process. */
export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node src/main.ts ARGS...` to completion (killed after `timeoutMs`). */
export function runCli(
  args: readonly string[],
  o: { timeoutMs?: number; cwd?: string } = {},
): Promise<CliResult> {
  const child = startCli(args, o.cwd);
  return finished(child, o.timeoutMs ?? 30_000);
}

/** Starts `node src/main.ts ARGS...` with silent logs unless `KPROXY_LOG_LEVEL` says otherwise. */
export function startCli(args: readonly string[], cwd = repoRoot): ChildProcess & { output(): CliResult } {
  const child = spawn(process.execPath, [`${repoRoot}src/main.ts`, ...args], {
    cwd,
    env: { ...process.env, KPROXY_LOG_LEVEL: process.env["KPROXY_LOG_LEVEL"] ?? "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  return Object.assign(child, {
    output: (): CliResult => ({ code: child.exitCode, signal: child.signalCode, stdout, stderr }),
  });
}

/** Waits for a started process to exit (SIGKILL after `timeoutMs`). */
export function finished(
  child: ChildProcess & { output(): CliResult },
  timeoutMs: number,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve(child.output());
    };
    if (child.exitCode !== null || child.signalCode !== null) done();
    else child.once("close", done);
  });
}

/** Resolves once the process has printed `text` on stdout (rejects when it exits first or after `timeoutMs`). */
export function waitForOutput(
  child: ChildProcess & { output(): CliResult },
  text: string,
  timeoutMs = 30_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (child.output().stdout.includes(text)) {
        cleanup();
        resolve();
      }
    };
    const onExit = (): void => {
      cleanup();
      const out = child.output();
      reject(
        new Error(
          `kproxy exited (${out.code ?? out.signal}) before printing ${JSON.stringify(text)}:\n${out.stderr}`,
        ),
      );
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(
          `kproxy did not print ${JSON.stringify(text)} within ${timeoutMs} ms:\n${child.output().stderr}`,
        ),
      );
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off("data", check);
      child.off("close", onExit);
    };
    child.stdout?.on("data", check);
    child.once("close", onExit);
    check();
  });
}
