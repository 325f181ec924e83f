import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { resolvConfNameservers } from "./resolv-conf.ts";

describe("resolvConfNameservers", () => {
  const dir = mkdtempSync(join(tmpdir(), "kp-resolv-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("returns the nameserver addresses in order, skipping comments and junk", () => {
    const file = join(dir, "resolv.conf");
    writeFileSync(
      file,
      "# comment\nsearch default.svc.cluster.local\nnameserver 10.0.0.2\nnameserver fe80::1%eth0 ; link-local\nnameserver not-an-ip\n;nameserver 1.1.1.1\n  nameserver   10.0.0.3  \n",
    );
    assert.deepEqual(resolvConfNameservers(file), ["10.0.0.2", "fe80::1", "10.0.0.3"]);
  });

  it("returns nothing for a missing file", () => {
    assert.deepEqual(resolvConfNameservers(join(dir, "missing")), []);
  });
});
