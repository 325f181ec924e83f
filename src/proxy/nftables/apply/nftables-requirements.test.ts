import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Executor } from "../../../sys/executor.ts";
import { checkNftablesRequirements } from "./nftables-requirements.ts";

const nft = (stdout: string, code = 0): Executor => ({
  run: () => Promise.resolve({ stdout, stderr: code === 0 ? "" : "boom", code }),
});

describe("checkNftablesRequirements", () => {
  it("accepts kernel 5.13+ with nft 1.0.1+", async () => {
    const v = await checkNftablesRequirements(nft("nftables v1.0.6 (Lester Gooch #5)\n"), {
      kernelRelease: "6.18.44-fc",
    });
    assert.deepEqual(v, { kernel: "6.18.44-fc", nft: "1.0.6" });
  });
  it("rejects an old kernel, naming it and what is needed", async () => {
    await assert.rejects(
      checkNftablesRequirements(nft("nftables v1.0.6"), { kernelRelease: "5.4.0-150-generic" }),
      {
        code: "KPROXY_MODE_UNAVAILABLE",
        message: /kernel 5\.4\.0-150-generic is too old; 5\.13 or later/,
      },
    );
  });
  it("rejects an old or missing nft", async () => {
    await assert.rejects(
      checkNftablesRequirements(nft("nftables v0.9.8 (E.D.S.)"), { kernelRelease: "6.1.0" }),
      {
        message: /nft 0\.9\.8 is too old; 1\.0\.1 or later/,
      },
    );
    await assert.rejects(checkNftablesRequirements(nft("", 1), { kernelRelease: "6.1.0" }), {
      message: /cannot run nft \(boom\)/,
    });
  });
});
