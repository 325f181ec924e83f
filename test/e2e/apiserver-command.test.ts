// `kproxy apiserver`: prints its URL and a kubectl hint, serves until SIGTERM, then closes
// cleanly (the data directory is free for the next start); bad usage exits 2.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { apiRequest } from "../../src/apiserver/testing/api-client.ts";
import { tempDir } from "../../src/apiserver/testing/test-api-server.ts";

const main = fileURLToPath(new URL("../../src/main.ts", import.meta.url));

/** Starts `kproxy apiserver ARGS`; resolves once it printed its URL. */
async function start(args: string[]) {
  const child = spawn(process.execPath, [main, "apiserver", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, KPROXY_LOG_LEVEL: "silent" },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (c: string) => (stderr += c));
  const exited = once(child, "exit") as Promise<[number | null, string | null]>;
  const url = await new Promise<string | undefined>((resolve) => {
    child.stdout.on("data", (c: string) => {
      stdout += c;
      const m = /listening on (https?:\/\/\S+)/.exec(stdout);
      if (m && stdout.includes("kubectl --server=")) resolve(m[1]);
    });
    void exited.then(() => resolve(undefined));
  });
  return { child, url, exited, output: () => ({ stdout, stderr }) };
}

describe("kproxy apiserver", () => {
  const dir = tempDir("command");
  after(() => dir.remove());

  it("serves until SIGTERM, then exits 0 and frees its data directory", async () => {
    for (let round = 0; round < 2; round++) {
      const server = await start(["--listen", "127.0.0.1:0", "--data-dir", dir.path]);
      assert.ok(server.url, `no URL printed: ${JSON.stringify(server.output())}`);
      assert.match(server.output().stdout, new RegExp(`kubectl --server=${server.url}`));
      const ns = await apiRequest<{ items: unknown[] }>(server.url, "GET", "/api/v1/namespaces/default");
      assert.equal(ns.status, 200);
      if (round === 0) {
        const made = await apiRequest(server.url, "POST", "/api/v1/namespaces/default/services", {
          body: { metadata: { name: "survivor" }, spec: { ports: [{ port: 80 }] } },
        });
        assert.equal(made.status, 201);
      } else {
        assert.equal(
          (await apiRequest(server.url, "GET", "/api/v1/namespaces/default/services/survivor")).status,
          200,
        );
      }
      server.child.kill("SIGTERM");
      const [code] = await server.exited;
      assert.equal(code, 0, server.output().stderr);
    }
  });

  it("exits 2 when asked to listen beyond loopback without a token file", async () => {
    const server = await start(["--listen", "0.0.0.0:0"]);
    const [code] = await server.exited;
    assert.equal(code, 2);
    assert.match(server.output().stderr, /without --token-file/);
  });
});
