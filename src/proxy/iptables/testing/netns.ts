import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { Executor } from "../../../sys/executor.ts";

/** Runs every command inside network namespace `ns` (`ip netns exec`), for tests and benchmarks. */
export function netnsExecutor(base: Executor, ns: string): Executor {
  return { run: (file, args, options) => base.run("ip", ["netns", "exec", ns, file, ...args], options) };
}

/** A network namespace a test created; `delete()` removes it (safe to call twice). */
export interface TestNetns {
  readonly name: string;
  /** Runs a command inside the namespace synchronously; returns stdout. Throws on failure. */
  exec(file: string, args: readonly string[], input?: string): string;
  delete(): void;
}

/** Creates `kp-<prefix>-<random>`. */
export function createNetns(prefix: string): TestNetns {
  const name = `kp-${prefix}-${randomBytes(3).toString("hex")}`;
  execFileSync("ip", ["netns", "add", name]);
  let deleted = false;
  const ns: TestNetns = {
    name,
    exec: (file, args, input) =>
      execFileSync("ip", ["netns", "exec", name, file, ...args], {
        input: input ?? "",
        stdio: ["pipe", "pipe", "pipe"],
        maxBuffer: 1 << 30,
      }).toString(),
    delete: () => {
      if (deleted) return;
      deleted = true;
      try {
        execFileSync("ip", ["netns", "del", name], { stdio: "ignore" });
      } catch {
        // already gone
      }
    },
  };
  ns.exec("ip", ["link", "set", "lo", "up"]);
  return ns;
}

/** `iptables-save` output without comment lines (timestamps) for exact comparisons. */
export function withoutSaveComments(text: string): string {
  return text
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .join("\n");
}
