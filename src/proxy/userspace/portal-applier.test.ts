import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ExecOptions, Executor } from "../../sys/executor.ts";
import { silentLogger } from "../../sys/logger.ts";
import { createPortalApplier } from "./portal-applier.ts";

/** Records commands; `-C` checks fail (no jump yet) unless `installed`, everything else succeeds. */
function recorder(installed = false): Executor & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    run(file: string, args: readonly string[], options?: ExecOptions) {
      calls.push(`${file} ${args.join(" ")}${options?.input ? ` <<${options.input.split("\n")[0]}` : ""}`);
      const failing = args.includes("-C") && !installed;
      return Promise.resolve({
        stdout: "",
        stderr: failing ? "does a matching rule exist?" : "",
        code: failing ? 1 : 0,
      });
    },
  };
}

describe("createPortalApplier", () => {
  it("restores the chains with --noflush, then checks and inserts each jump once", async () => {
    const exec = recorder();
    const applier = createPortalApplier(exec, "IPv4", silentLogger());
    await applier.apply("*nat\nCOMMIT\n");
    assert.equal(exec.calls[0], "iptables-restore -w --noflush <<*nat");
    assert.equal(exec.calls.filter((c) => c.includes(" -C ")).length, 4);
    assert.equal(exec.calls.filter((c) => c.includes(" -I ")).length, 4);
    assert.ok(exec.calls.some((c) => /-I PREROUTING .*-j KUBE-PORTALS-CONTAINER$/.test(c)));
    assert.ok(exec.calls.some((c) => /-I OUTPUT .*-j KUBE-PORTALS-HOST$/.test(c)));
    exec.calls.length = 0;
    await applier.apply("*nat\nCOMMIT\n");
    assert.deepEqual(exec.calls, [], "an unchanged payload is not written again");
    await applier.apply("*nat\nCOMMIT\n", true);
    assert.equal(exec.calls[0], "iptables-restore -w --noflush <<*nat", "a full sync re-asserts");
  });

  it("uses ip6tables for IPv6 and removes jumps and chains on cleanup", async () => {
    const exec = recorder(true);
    const applier = createPortalApplier(exec, "IPv6", silentLogger());
    await applier.cleanup();
    assert.ok(exec.calls.every((c) => c.startsWith("ip6tables ")));
    assert.ok(exec.calls.some((c) => /-D PREROUTING .*-j KUBE-PORTALS-CONTAINER$/.test(c)));
    assert.ok(exec.calls.some((c) => c.endsWith("-X KUBE-PORTALS-HOST")));
  });
});
