// `kproxy demo` as a user runs it: spawned as `node src/main.ts demo`, it answers web1, web2 and
// web3 through the Service, and exits cleanly on SIGINT.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { get } from "node:http";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";

const main = fileURLToPath(new URL("../../src/main.ts", import.meta.url));

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: 3000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`timeout on ${url}`)));
  });
}

describe("kproxy demo", () => {
  let demo: ChildProcess | undefined;
  after(() => {
    if (demo !== undefined && demo.exitCode === null && demo.signalCode === null) demo.kill("SIGKILL");
  });

  it("starts, answers web1/web2/web3 through the Service, and stops on SIGINT", async () => {
    demo = spawn(process.execPath, [main, "demo"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, KPROXY_LOG_LEVEL: "warn" },
    });
    let stdout = "";
    let stderr = "";
    demo.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
    demo.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => demo?.once("exit", (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`demo not ready in 30 s:\n${stdout}\n${stderr}`)),
        30_000,
      );
      const check = (): void => {
        if (stdout.includes("Press Ctrl-C to stop.")) {
          clearTimeout(timer);
          resolve();
        }
      };
      demo?.stdout?.on("data", check);
      void exited.then((code) => reject(new Error(`demo exited early (${code}):\n${stdout}\n${stderr}`)));
    });
    assert.match(stdout, /curl -s http:\/\/127\.100\.0\.10:8080/);
    assert.match(stdout, /kubectl --server=http:\/\/127\.0\.0\.1:\d+ get services/);

    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push((await httpGet("http://127.100.0.10:8080/")).trim());
    assert.deepEqual([...answers].sort(), ["web1", "web1", "web2", "web2", "web3", "web3"]);
    assert.match((await httpGet("http://127.0.0.1:30080/")).trim(), /^web[123]$/);
    const sticky = new Set<string>();
    for (let i = 0; i < 4; i++) sticky.add((await httpGet("http://127.100.0.12:8080/")).trim());
    assert.equal(sticky.size, 1, `ClientIP affinity: ${[...sticky].join(",")}`);

    demo.kill("SIGINT");
    const code = await Promise.race([
      exited,
      new Promise<string>((r) => setTimeout(() => r("timeout"), 15_000)),
    ]);
    assert.equal(code, 0, `exit code; stderr:\n${stderr}`);
    assert.match(stdout, /kproxy demo: stopped/);
  });
});
