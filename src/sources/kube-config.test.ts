import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadKubeConfig } from "./kube-config.ts";

const dir = mkdtempSync(join(tmpdir(), "kp-kubeconfig-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const kubeconfig = `
apiVersion: v1
kind: Config
clusters:
  - name: c1
    cluster: { server: "https://10.0.0.1:6443", insecure-skip-tls-verify: false }
users:
  - name: u1
    user: { token: abc }
contexts:
  - name: ctx
    context: { cluster: c1, user: u1 }
current-context: ctx
`;

describe("loadKubeConfig", () => {
  it("uses --master alone, with a token, allowing plain http", () => {
    const kc = loadKubeConfig({ kubeconfig: "", master: "http://127.0.0.1:6443", token: "t0k" });
    assert.equal(kc.getCurrentCluster()?.server, "http://127.0.0.1:6443");
    assert.equal(kc.getCurrentCluster()?.skipTLSVerify, true);
    assert.equal(kc.getCurrentUser()?.token, "t0k");
  });

  it("keeps TLS verification for https masters", () => {
    const kc = loadKubeConfig({ kubeconfig: "", master: "https://10.0.0.1:6443" });
    assert.equal(kc.getCurrentCluster()?.skipTLSVerify, false);
  });

  it("reads a kubeconfig file and lets --master override its server", () => {
    const file = join(dir, "config");
    writeFileSync(file, kubeconfig);
    const plain = loadKubeConfig({ kubeconfig: file, master: "" });
    assert.equal(plain.getCurrentCluster()?.server, "https://10.0.0.1:6443");
    assert.equal(plain.getCurrentUser()?.token, "abc");
    const overridden = loadKubeConfig({ kubeconfig: file, master: "http://127.0.0.1:8080" });
    assert.equal(overridden.getCurrentCluster()?.server, "http://127.0.0.1:8080");
    assert.equal(overridden.getCurrentCluster()?.skipTLSVerify, true);
  });
});
