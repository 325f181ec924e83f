import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  endpointHostname,
  isInZone,
  isValidDomain,
  normalizeName,
  podLabelIP,
  reverseName,
} from "./dns-name.ts";

describe("dns names", () => {
  it("normalises case and the trailing dot", () => {
    assert.equal(normalizeName("Web.Default.SVC.cluster.local."), "web.default.svc.cluster.local");
    assert.equal(normalizeName("."), ".");
    assert.equal(isInZone("a.cluster.local", "cluster.local"), true);
    assert.equal(isInZone("cluster.local", "cluster.local"), true);
    assert.equal(isInZone("xcluster.local", "cluster.local"), false);
  });

  it("accepts host names only as domains", () => {
    assert.equal(isValidDomain("cluster.local"), true);
    assert.equal(isValidDomain("cluster.local."), true);
    assert.equal(isValidDomain("-bad.local"), false);
    assert.equal(isValidDomain("a..b"), false);
    assert.equal(isValidDomain(""), false);
    assert.equal(isValidDomain(`${"a".repeat(64)}.local`), false);
  });

  it("builds reverse names for both families", () => {
    assert.equal(reverseName("10.96.0.10"), "10.0.96.10.in-addr.arpa");
    assert.equal(
      reverseName("fd00::a"),
      "a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa",
    );
    assert.equal(reverseName("nope"), undefined);
  });

  it("reads pod labels the way CoreDNS does", () => {
    assert.equal(podLabelIP("10-0-0-5"), "10.0.0.5");
    assert.equal(podLabelIP("fd00--5"), "fd00::5");
    assert.equal(podLabelIP("fd00-0-0-0-0-0-0-5"), "fd00::5");
    assert.equal(podLabelIP("10-0-0"), undefined);
    assert.equal(podLabelIP("300-0-0-1"), undefined);
    assert.equal(podLabelIP("web"), undefined);
  });

  it("names endpoints: hostname, then pod name (opt-in), then the address", () => {
    assert.equal(
      endpointHostname("10.0.0.5", { hostname: "web-0", podName: "p", endpointPodNames: true }),
      "web-0",
    );
    assert.equal(endpointHostname("10.0.0.5", { podName: "web-7d9f", endpointPodNames: true }), "web-7d9f");
    assert.equal(endpointHostname("10.0.0.5", { podName: "web-7d9f", endpointPodNames: false }), "10-0-0-5");
    assert.equal(endpointHostname("fd00::5", { endpointPodNames: false }), "fd00--5");
    // A pod name with a dot would add a label; such endpoints get no name of their own.
    assert.equal(endpointHostname("10.0.0.5", { podName: "web.1", endpointPodNames: true }), undefined);
  });
});
