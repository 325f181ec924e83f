import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Executor } from "../../../sys/executor.ts";
import { parseIptablesVersion } from "./detect-kernel-features.ts";
import { detectIptablesBackend, iptablesTools } from "./iptables-tools.ts";

function executor(outputs: Record<string, string>, calls: string[] = []): Executor {
  return {
    run: async (file, args) => {
      calls.push([file, ...args].join(" "));
      const out = outputs[file];
      return out === undefined
        ? { code: 1, stdout: "", stderr: "not found" }
        : { code: 0, stdout: out, stderr: "" };
    },
  };
}

describe("detectIptablesBackend", () => {
  it("follows kubelet's hint chain", async () => {
    const calls: string[] = [];
    const backend = await detectIptablesBackend(
      executor(
        {
          "iptables-nft-save": "*mangle\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n",
          "iptables-legacy-save": "*filter\n-A INPUT -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n",
        },
        calls,
      ),
    );
    assert.equal(backend, "nft");
    assert.ok(
      calls.every((c) => !c.includes("-t")),
      "never asks for a table (that would create it)",
    );
  });

  it("picks the back end with more rules", async () => {
    const rules = "*filter\n-A INPUT -j ACCEPT\n-A FORWARD -j ACCEPT\nCOMMIT\n";
    assert.equal(
      await detectIptablesBackend(executor({ "iptables-legacy-save": rules, "iptables-nft-save": "" })),
      "legacy",
    );
    assert.equal(
      await detectIptablesBackend(executor({ "iptables-legacy-save": "", "iptables-nft-save": rules })),
      "nft",
    );
  });

  it("falls back to the system's iptables on a tie", async () => {
    assert.equal(await detectIptablesBackend(executor({ iptables: "iptables v1.8.9 (legacy)\n" })), "legacy");
    assert.equal(await detectIptablesBackend(executor({ iptables: "iptables v1.8.9 (nf_tables)\n" })), "nft");
  });

  it("names the binaries of each back end and family", () => {
    assert.deepEqual(iptablesTools("nft", "IPv6"), {
      backend: "nft",
      family: "IPv6",
      restore: "ip6tables-nft-restore",
      save: "ip6tables-nft-save",
      iptables: "ip6tables-nft",
    });
    assert.equal(iptablesTools("legacy", "IPv4").restore, "iptables-legacy-restore");
  });

  it("parses iptables versions", () => {
    assert.deepEqual(parseIptablesVersion("iptables v1.8.9 (nf_tables)"), [1, 8, 9]);
    assert.equal(parseIptablesVersion("nonsense"), undefined);
  });
});
