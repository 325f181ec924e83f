// `kproxy dns` as a user runs it: bad flags exit 2 listing every problem; good ones serve the
// cluster zone from an API server, with /metrics, until SIGTERM.
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { get } from "node:http";
import { after, before, describe, it } from "node:test";
import type { ApiServer } from "../../src/apiserver/api-server.ts";
import { apiRequest } from "../../src/apiserver/testing/api-client.ts";
import { startTestApiServer } from "../../src/apiserver/testing/test-api-server.ts";
import { answerData, dig, pollUntil } from "../../src/dns/testing/dig.ts";
import { missingRequirement, suiteSkip } from "../support/requirements.ts";
import { finished, runCli, startCli, waitForOutput } from "./cli-process.ts";

const requirement = missingRequirement({ commands: ["dig"] });

async function freePort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function httpText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let text = "";
      res.on("data", (b: Buffer) => (text += b.toString()));
      res.on("end", () => resolve(text));
    }).on("error", reject);
  });
}

describe("kproxy dns", suiteSkip(requirement), () => {
  let api: ApiServer;

  before(async () => {
    if (requirement !== undefined) throw new Error(requirement);
    api = await startTestApiServer({ serviceClusterIPRange: "10.98.0.0/16" });
  });
  after(async () => {
    await api?.close();
  });

  it("exits 2 and lists every invalid flag", async () => {
    const r = await runCli([
      "dns",
      "--bind-address",
      "nowhere",
      "--cluster-domain",
      "bad_domain",
      "--ttl",
      "soon",
      "--upstream",
      "10.0.0.2,resolver.example",
      "--pods",
      "all",
    ]);
    assert.equal(r.code, 2, r.stderr);
    for (const field of ["--bind-address", "--cluster-domain", "--ttl", "--upstream[1]", "--pods"]) {
      assert.ok(r.stderr.includes(field), `${field} missing from:\n${r.stderr}`);
    }
    assert.ok(!r.stderr.includes("--upstream[0]"), "a valid upstream is not reported");
    const ttl = await runCli(["dns", "--ttl", "3601"]);
    assert.equal(ttl.code, 2);
    assert.match(ttl.stderr, /--ttl: must be a whole number of seconds from 0 to 3600, got 3601/);
  });

  it("serves the zone from --master on --bind-address with --ttl and --cluster-domain, until SIGTERM", async () => {
    const created = await apiRequest<{ spec: { clusterIP: string } }>(
      api.url,
      "POST",
      "/api/v1/namespaces/default/services",
      {
        body: {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "web", namespace: "default" },
          spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
        },
      },
    );
    assert.equal(created.status, 201, created.text);
    const port = await freePort();
    const metricsPort = await freePort();
    const child = startCli([
      "dns",
      "--master",
      api.url,
      "--bind-address",
      `127.0.0.1:${port}`,
      "--cluster-domain",
      "corp.internal",
      "--ttl",
      "9",
      "--upstream",
      "127.0.0.1:9",
      "--metrics-bind-address",
      `127.0.0.1:${metricsPort}`,
    ]);
    try {
      await waitForOutput(child, `port ${port}`);
      const r = await pollUntil(
        () => dig("127.0.0.1", port, ["web.default.svc.corp.internal", "A"]),
        (x) => x.status === "NOERROR",
        10_000,
        50,
      );
      assert.deepEqual(answerData(r.value), [created.body.spec.clusterIP], r.value.output);
      assert.equal(r.value.answer[0]?.ttl, 9);
      const metrics = await httpText(`http://127.0.0.1:${metricsPort}/metrics`);
      assert.match(metrics, /kproxy_dns_queries_total\{type="A",rcode="NOERROR",proto="udp"\} [1-9]/);
    } finally {
      child.kill("SIGTERM");
    }
    const done = await finished(child, 10_000);
    assert.equal(done.code, 0, done.stderr);
  });
});
