import { execFileSync } from "node:child_process";
import type { TestContext } from "node:test";

/** True when running in CI (`CI=true`), where every test must run and none may skip. */
export const inCI = process.env["CI"] === "true";

/** True when `command` is on PATH (or in /usr/sbin, /sbin). */
export function hasCommand(command: string): boolean {
  for (const dir of (process.env["PATH"] ?? "").split(":").concat(["/usr/sbin", "/sbin"])) {
    try {
      execFileSync("test", ["-x", `${dir}/${command}`]);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** True when running as root. */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * Returns the reason a test cannot run here, or undefined when it can. Checks root and commands.
 */
export function missingRequirement(options: {
  root?: boolean;
  commands?: readonly string[];
}): string | undefined {
  if (options.root && !isRoot()) return "needs root (network namespaces, netfilter)";
  const missing = (options.commands ?? []).filter((c) => !hasCommand(c));
  if (missing.length > 0)
    return `needs ${missing.join(", ")} (Debian packages; scripts/setup.sh installs them as root)`;
  return undefined;
}

/**
 * Skips the test with `reason` outside CI; inside CI (`CI=true`) fails it instead, because CI runs
 * as root with every tool installed and a skip there would hide a broken check.
 * Returns true when the test must stop (skipped).
 */
export function skipUnlessAvailable(t: TestContext, reason: string | undefined): boolean {
  if (reason === undefined) return false;
  if (inCI) throw new Error(`Cannot run this test in CI: ${reason}`);
  t.skip(reason);
  return true;
}

/**
 * For `describe`/`suite` options: `{ skip: reason }` outside CI, or `{}` (run, and fail loudly in
 * its `before` hook) in CI.
 */
export function suiteSkip(reason: string | undefined): { skip?: string } {
  return reason !== undefined && !inCI ? { skip: reason } : {};
}
