import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { silentLogger } from "../../../sys/logger.ts";
import { defaultRelayTuning } from "../relay-tuning.ts";
import { RelayThreads } from "./relay-threads.ts";

// The relay tests in ../userspace-proxier.test.ts run with the `auto` engine and with `epoll`;
// this checks that `auto` really is io_uring where the kernel offers it, so that those tests
// cover both engines rather than epoll twice.
function uringUnavailable(): string | undefined {
  if (process.platform !== "linux" || process.arch !== "x64") return "io_uring is used on x86-64 Linux only";
  try {
    const disabled = readFileSync("/proc/sys/kernel/io_uring_disabled", "utf8").trim();
    if (disabled !== "0") return `io_uring is disabled here (kernel.io_uring_disabled=${disabled})`;
  } catch {
    // Kernels before 6.6 have no such switch: io_uring is on.
  }
  return undefined;
}

describe("relay threads' engines", () => {
  const started: RelayThreads[] = [];
  after(async () => {
    for (const t of started) await t.close();
  });
  const start = async (engine: "auto" | "epoll", count: number): Promise<RelayThreads> => {
    const threads = await RelayThreads.start({
      count,
      tuning: defaultRelayTuning,
      defaultScheduler: "rr",
      logger: silentLogger(),
      engine,
    });
    assert.ok(threads, "relay threads start on Linux with koffi");
    started.push(threads);
    return threads;
  };

  it(
    "auto runs every thread on io_uring where the kernel offers it",
    { skip: uringUnavailable() },
    async () => {
      assert.deepEqual((await start("auto", 2)).engines, ["io_uring", "io_uring"]);
    },
  );

  it("epoll runs every thread on epoll", async () => {
    assert.deepEqual((await start("epoll", 2)).engines, ["epoll", "epoll"]);
  });
});
