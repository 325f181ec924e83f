import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createExecutor, runChecked, type Executor } from "../../../sys/executor.ts";

const host = createExecutor();

/** A network namespace created for a test; `kp-<purpose>-<random>` so that parallel runs never collide. */
export interface TestNetns {
  readonly name: string;
  /** Runs a command inside the namespace; throws CommandError unless it exits 0. */
  exec(file: string, args: readonly string[], input?: string): Promise<string>;
  /** An Executor whose commands run inside the namespace. */
  readonly executor: Executor;
  /** Starts a long-running process inside the namespace (killed by `remove`). */
  spawn(file: string, args: readonly string[]): ChildProcess;
  /** Kills what `spawn` started and deletes the namespace (and with it its interfaces). */
  remove(): Promise<void>;
}

/** Creates a namespace with loopback up. */
export async function createTestNetns(purpose: string): Promise<TestNetns> {
  const name = `kp-${purpose}-${randomBytes(3).toString("hex")}`;
  await runChecked(host, "ip", ["netns", "add", name]);
  const children: ChildProcess[] = [];
  const executor: Executor = {
    run: (file, args, options) => host.run("ip", ["netns", "exec", name, file, ...args], options),
  };
  const ns: TestNetns = {
    name,
    executor,
    exec: (file, args, input) => runChecked(executor, file, args, input === undefined ? {} : { input }),
    spawn(file, args) {
      const child = spawn("ip", ["netns", "exec", name, file, ...args], { stdio: "ignore" });
      children.push(child);
      return child;
    },
    async remove() {
      for (const c of children) if (c.exitCode === null && c.pid !== undefined) c.kill("SIGKILL");
      await host.run("ip", ["netns", "del", name]);
    },
  };
  await ns.exec("ip", ["link", "set", "lo", "up"]);
  return ns;
}

/**
 * Connects two namespaces with a veth pair (created inside `a`, so the host never sees it) and
 * gives each end an address, e.g. `10.244.0.1/24` and `10.244.0.10/24`.
 */
export async function linkNetns(
  a: TestNetns,
  b: TestNetns,
  options: { aName: string; bName: string; aAddr: string; bAddr: string },
): Promise<void> {
  await a.exec("ip", [
    "link",
    "add",
    options.aName,
    "type",
    "veth",
    "peer",
    "name",
    options.bName,
    "netns",
    b.name,
  ]);
  await a.exec("ip", ["addr", "add", options.aAddr, "dev", options.aName]);
  await b.exec("ip", ["addr", "add", options.bAddr, "dev", options.bName]);
  await a.exec("ip", ["link", "set", options.aName, "up"]);
  await b.exec("ip", ["link", "set", options.bName, "up"]);
}

/** Removes namespaces that may be half-created; never throws (for `after` hooks). */
export async function removeAll(namespaces: readonly (TestNetns | undefined)[]): Promise<void> {
  for (const ns of namespaces) await ns?.remove().catch(() => {});
}
