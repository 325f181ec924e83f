import { spawn, type ChildProcessByStdio } from "node:child_process";
import { createWriteStream } from "node:fs";
import type { Readable, Writable } from "node:stream";

/** A process the harness started inside a namespace. */
export interface NamespaceProcess {
  readonly pid: number;
  readonly namespace: string;
  /** Its stdin (the client agent reads requests there). */
  readonly stdin: Writable;
  /** Its stdout. */
  readonly stdout: Readable;
  /** The last ~64 KiB of stderr, for failure messages. */
  stderrTail(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  /** Wait until stdout prints a line matching this before resolving. */
  readonly ready?: RegExp;
  /** How long to wait for `ready` (default 15 s). */
  readonly readyTimeoutMs?: number;
  /** Also append stdout and stderr to this file (kproxy logs, kept for post-mortems). */
  readonly logFile?: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Called with every line of stdout. */
  readonly onLine?: (line: string) => void;
}

const tailLimit = 64 * 1024;

/**
 * Starts `command` inside network namespace `ns` with `ip netns exec` (which execs the command,
 * so the PID is the command's own and killing it by PID is exact).
 */
export async function startNamespaceProcess(
  ns: string,
  command: readonly string[],
  options: StartOptions = {},
): Promise<NamespaceProcess> {
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(
    "ip",
    ["netns", "exec", ns, ...command],
    { stdio: ["pipe", "pipe", "pipe"], cwd: options.cwd, env: options.env ?? process.env },
  );
  const log = options.logFile === undefined ? undefined : createWriteStream(options.logFile, { flags: "a" });
  let tail = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    tail = (tail + chunk).slice(-tailLimit);
    log?.write(chunk);
  });
  child.stdin.on("error", () => {});
  const exited = new Promise<number | string>((resolve) => {
    child.on("exit", (code, signal) => {
      log?.end();
      resolve(code ?? signal ?? "unknown");
    });
  });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  await spawned;
  const pid = child.pid;
  if (pid === undefined) throw new Error(`Cannot start ${command.join(" ")} in ${ns}: no PID`);
  let stopping: Promise<void> | undefined;
  const proc: NamespaceProcess = {
    pid,
    namespace: ns,
    stdin: child.stdin,
    stdout: child.stdout,
    stderrTail: () => tail,
    exited,
    stop(graceMs = 3000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        signal(pid, "SIGTERM");
        const timer = setTimeout(() => signal(pid, "SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
  // Always read stdout, so that a chatty process never blocks on a full pipe.
  let partial = "";
  child.stdout.on("data", (chunk: Buffer) => {
    log?.write(chunk);
    if (options.onLine === undefined) return;
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) options.onLine(line);
  });
  if (options.ready !== undefined) {
    try {
      await waitForLine(proc, options.ready, options.readyTimeoutMs ?? 15_000, command);
    } catch (err) {
      await proc.stop(500);
      throw err;
    }
  }
  return proc;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function waitForLine(
  proc: NamespaceProcess,
  pattern: RegExp,
  timeoutMs: number,
  command: readonly string[],
): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const describe = (): string =>
      `${command.join(" ")} in ${proc.namespace}; stderr:\n${proc.stderrTail().slice(-4000)}`;
    const cleanup = (): void => {
      clearTimeout(timer);
      proc.stdout.off("data", onData);
    };
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString("utf8");
      if (buffered.split("\n").some((line) => pattern.test(line))) {
        cleanup();
        resolve();
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(`Cannot start ${describe()}\n(no line matching ${String(pattern)} within ${timeoutMs} ms)`),
      );
    }, timeoutMs);
    proc.stdout.on("data", onData);
    void proc.exited.then((code) => {
      cleanup();
      reject(new Error(`Cannot start ${describe()}\n(exited with ${code} before ready)`));
    });
  });
}
