import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatHostPort, parseHostPort, validateDnsSettings } from "./dns-settings.ts";

describe("dns settings", () => {
  it("parses addresses with and without ports", () => {
    assert.deepEqual(parseHostPort("127.0.0.1:53"), { host: "127.0.0.1", port: 53 });
    assert.deepEqual(parseHostPort("[fd00::1]:5353"), { host: "fd00::1", port: 5353 });
    assert.deepEqual(parseHostPort("fd00::1", 53), { host: "fd00::1", port: 53 });
    assert.deepEqual(parseHostPort("10.0.0.2", 53), { host: "10.0.0.2", port: 53 });
    assert.equal(parseHostPort("10.0.0.2"), undefined);
    assert.equal(parseHostPort("10.0.0.2:65536"), undefined);
    assert.equal(parseHostPort("dns.example:53"), undefined);
    assert.equal(formatHostPort({ host: "fd00::1", port: 53 }), "[fd00::1]:53");
  });

  it("lists every problem at once, under the caller's field names", () => {
    const problems = validateDnsSettings(
      {
        bindAddress: "nowhere",
        clusterDomain: "Bad_Domain",
        ttlSeconds: 3601,
        upstreams: ["1.1.1.1", "x:1"],
        pods: "some",
      },
      { ttlSeconds: "--ttl", upstreams: "--upstream" },
    );
    assert.deepEqual(
      problems.map((p) => p.field),
      ["bindAddress", "clusterDomain", "--ttl", "--upstream[1]", "pods"],
    );
    assert.match(problems[2]?.message ?? "", /0 to 3600, got 3601/);
    assert.deepEqual(
      validateDnsSettings({
        bindAddress: "0.0.0.0:53",
        clusterDomain: "cluster.local",
        ttlSeconds: 0,
        upstreams: [],
        pods: "verified",
      }),
      [],
    );
  });
});
