import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RuleApplyError } from "../../../errors.ts";
import type { ExecOptions, Executor } from "../../../sys/executor.ts";
import { iptablesTools } from "./iptables-tools.ts";
import { failedLineNumber, nftChainListThreshold, runRestore, withWholeTableCache } from "./run-restore.ts";

function fakeExecutor(
  code: number,
  stderr: string,
  calls: { file: string; args: readonly string[]; options?: ExecOptions }[] = [],
): Executor {
  return {
    run: async (file, args, options) => {
      calls.push({ file, args, ...(options === undefined ? {} : { options }) });
      return { code, stderr, stdout: "" };
    },
  };
}

describe("runRestore", () => {
  it("finds the line in both error formats of iptables-restore", () => {
    assert.equal(failedLineNumber("iptables-restore: line 12 failed"), 12);
    assert.equal(
      failedLineNumber("iptables-nft-restore: line 3 failed: No chain/target/match by that name."),
      3,
    );
    assert.equal(
      failedLineNumber("Couldn't load match `x':No such file or directory\n\nError occurred at line: 7\n"),
      7,
    );
    assert.equal(
      failedLineNumber("line 5: RULE_APPEND failed (No such file or directory): rule in chain X"),
      5,
    );
    assert.equal(failedLineNumber("something else"), undefined);
  });

  it("runs --noflush with the payload on stdin and reports the failing line", async () => {
    const calls: { file: string; args: readonly string[]; options?: ExecOptions }[] = [];
    const payload = "*nat\n:KUBE-X - [0:0]\n-A KUBE-X -m nosuch -j RETURN\nCOMMIT\n";
    const err = await runRestore(fakeExecutor(2, "Error occurred at line: 3", calls), {
      tools: iptablesTools("legacy", "IPv4"),
      payload,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof RuleApplyError);
    assert.deepEqual(err.failingLines, ["-A KUBE-X -m nosuch -j RETURN"]);
    assert.match(err.message, /Cannot apply rules with iptables-legacy-restore --noflush/);
    assert.equal(calls[0]?.file, "iptables-legacy-restore");
    assert.deepEqual(calls[0]?.args, ["--noflush", "-w", "60"]);
    assert.equal(calls[0]?.options?.input, payload);
  });

  it("adds -Z to large payloads for iptables-nft only", async () => {
    const big = `*nat\n${Array.from({ length: nftChainListThreshold + 1 }, (_, i) => `:KUBE-SEP-${i} - [0:0]\n`).join("")}COMMIT\n`;
    for (const [backend, expectZ] of [
      ["nft", true],
      ["legacy", false],
    ] as const) {
      const calls: { file: string; args: readonly string[]; options?: ExecOptions }[] = [];
      const r = await runRestore(fakeExecutor(0, "", calls), {
        tools: iptablesTools(backend, "IPv6"),
        payload: big,
      });
      assert.equal(r.wholeTableCache, expectZ);
      assert.equal(calls[0]?.file, `ip6tables-${backend}-restore`);
      assert.equal(calls[0]?.options?.input?.startsWith("*nat\n-Z\n"), expectZ);
    }
    const calls: { file: string; args: readonly string[]; options?: ExecOptions }[] = [];
    await runRestore(fakeExecutor(0, "", calls), {
      tools: iptablesTools("nft", "IPv4"),
      payload: "*nat\n:KUBE-A - [0:0]\nCOMMIT\n",
    });
    assert.equal(
      calls[0]?.options?.input,
      "*nat\n:KUBE-A - [0:0]\nCOMMIT\n",
      "small payloads stay as they are",
    );
  });

  it("inserts -Z after every table header", () => {
    assert.equal(
      withWholeTableCache("*filter\nCOMMIT\n*nat\n-A X\nCOMMIT\n"),
      "*filter\n-Z\nCOMMIT\n*nat\n-Z\n-A X\nCOMMIT\n",
    );
  });
});
