import { randomBytes } from "node:crypto";
import { createExecutor, runChecked, type Executor } from "../../../src/sys/executor.ts";

/**
 * Network-namespace primitives of the harness. Every command names its namespace (`ip -n`,
 * `ip netns exec`), so nothing here can touch the host's own network.
 */

const executor: Executor = createExecutor();

/** Every namespace the harness creates starts with this; the owner's PID follows. */
export const harnessPrefix = "kp-h";

/** A fresh name stem `kp-h<pid>-<random>`: unique per run, and tells which process owns it. */
export function newNamespaceStem(): string {
  return `${harnessPrefix}${process.pid}-${randomBytes(3).toString("hex")}`;
}

/** Runs `ip ARGS` (in the host context, so only with `-n NS` or `netns` sub-commands). */
export async function ip(args: readonly string[]): Promise<string> {
  return runChecked(executor, "ip", args, { timeoutMs: 10_000 });
}

/** Runs a command inside a namespace and returns its stdout; throws CommandError on failure. */
export async function nsExec(
  ns: string,
  file: string,
  args: readonly string[],
  input?: string,
): Promise<string> {
  const options = input === undefined ? { timeoutMs: 30_000 } : { timeoutMs: 30_000, input };
  return runChecked(executor, "ip", ["netns", "exec", ns, file, ...args], options);
}

/** Sets sysctls inside a namespace (`key=value`). */
export async function nsSysctl(ns: string, settings: readonly string[]): Promise<void> {
  await nsExec(ns, "sysctl", ["-qw", ...settings]);
}

/** Reads one sysctl inside a namespace. */
export async function nsSysctlValue(ns: string, key: string): Promise<string> {
  return (await nsExec(ns, "sysctl", ["-n", key])).trim();
}

/** Creates a namespace with its loopback up. */
export async function addNamespace(ns: string): Promise<void> {
  await ip(["netns", "add", ns]);
  await ip(["-n", ns, "link", "set", "lo", "up"]);
}

/** Names of every namespace in /run/netns. */
export async function listNamespaces(): Promise<string[]> {
  const out = await ip(["netns", "list"]);
  return out
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name !== "");
}

/** PIDs of the processes living in a namespace. */
export async function namespacePids(ns: string): Promise<number[]> {
  const out = await runChecked(executor, "ip", ["netns", "pids", ns]).catch(() => "");
  return out
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
}

/**
 * Deletes a namespace after killing the processes still inside it (only harness-started ones
 * can be there: the namespace is ours). Interfaces inside go with it; their veth peers too.
 */
export async function deleteNamespace(ns: string): Promise<void> {
  for (const pid of await namespacePids(ns)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await ip(["netns", "delete", ns]);
}

/** True when a process with this PID exists. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes namespaces left behind by harness runs whose process has died (a crash or a kill -9
 * skips `after()` hooks). Namespaces of live runs, including parallel suites, are left alone:
 * the owner's PID is part of every name. Returns the names removed.
 */
export async function removeLeftoverNamespaces(): Promise<string[]> {
  const removed: string[] = [];
  for (const ns of await listNamespaces()) {
    const match = new RegExp(`^${harnessPrefix}(\\d+)-`).exec(ns);
    if (!match) continue;
    const owner = Number(match[1]);
    if (owner === process.pid || isAlive(owner)) continue;
    await deleteNamespace(ns).catch(() => undefined);
    removed.push(ns);
  }
  return removed;
}
