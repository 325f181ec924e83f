// Persistence of the embedded API server in its data directory: objects, allocations and a
// monotonic resourceVersion survive a clean restart and a crash (SIGKILL of a server process
// right after its writes were acknowledged); watches from before the restart get 410 Gone.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { after, describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ApiServer } from "../../src/apiserver/api-server.ts";
import { apiRequest, openWatch } from "../../src/apiserver/testing/api-client.ts";
import { startTestApiServer, tempDir } from "../../src/apiserver/testing/test-api-server.ts";

/** Objects as the server returns them; the assertions say what they expect of them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const svcPath = "/api/v1/namespaces/default/services";
const testServer = fileURLToPath(new URL("../../src/apiserver/testing/test-api-server.ts", import.meta.url));

/** Runs an API server in a child process (so that it can be killed hard); resolves with its URL. */
async function startChild(dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  const code =
    `const { startTestApiServer } = await import(${JSON.stringify(pathToFileURL(testServer).href)});` +
    `const s = await startTestApiServer({ dataDir: process.argv[1] });` +
    `process.stdout.write(s.url + "\\n");`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", code, dataDir], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout?.setEncoding("utf8");
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (chunk: string) => {
      out += chunk;
      if (out.includes("\n")) resolve(out.trim());
    });
    child.once("exit", (code) => reject(new Error(`the server process exited early (${code})`)));
  });
  return { url, child };
}

const rvOf = (o: Json): number => Number(o["metadata"].resourceVersion);

describe("API server persistence", () => {
  const dirs: Array<{ remove(): void }> = [];
  const children: ChildProcess[] = [];
  const servers: ApiServer[] = [];
  after(async () => {
    for (const c of children) c.kill("SIGKILL");
    await Promise.all(servers.map((s) => s.close()));
    for (const d of dirs) d.remove();
  });

  it("keeps objects, allocations and the resourceVersion across a clean restart", async () => {
    const dir = tempDir("persist");
    dirs.push(dir);
    let server = await startTestApiServer({ dataDir: dir.path, serviceNodePortRange: "30000-30100" });
    servers.push(server);
    const made = await apiRequest<Json>(server.url, "POST", svcPath, {
      body: {
        metadata: { name: "kept" },
        spec: { type: "NodePort", selector: { app: "kept" }, ports: [{ port: 80 }] },
      },
    });
    assert.equal(made.status, 201);
    const pod = await apiRequest<Json>(server.url, "POST", "/api/v1/namespaces/default/pods", {
      body: {
        metadata: { name: "kept-1", labels: { app: "kept" } },
        spec: { nodeName: "n1", containers: [{ name: "c", image: "x" }] },
      },
    });
    assert.equal(pod.status, 201, pod.text);
    // As upstream, a Pod's status is the kubelet's to write, through /status.
    const status = await apiRequest<Json>(
      server.url,
      "PATCH",
      "/api/v1/namespaces/default/pods/kept-1/status",
      {
        body: { status: { podIP: "10.1.0.1", conditions: [{ type: "Ready", status: "True" }] } },
        contentType: "application/merge-patch+json",
      },
    );
    assert.equal(status.status, 200, status.text);
    const lastRv = Number(
      (await apiRequest<Json>(server.url, "GET", svcPath)).body["metadata"].resourceVersion,
    );
    await server.close();

    server = await startTestApiServer({ dataDir: dir.path, serviceNodePortRange: "30000-30100" });
    servers.push(server);
    const again = await apiRequest<Json>(server.url, "GET", `${svcPath}/kept`);
    assert.equal(again.status, 200);
    assert.equal(again.body["metadata"].uid, made.body["metadata"].uid);
    assert.equal(again.body["spec"].clusterIP, made.body["spec"].clusterIP);
    assert.ok((await apiRequest(server.url, "GET", "/api/v1/namespaces/default/pods/kept-1")).status === 200);
    const sameIP = await apiRequest<Json>(server.url, "POST", svcPath, {
      body: {
        metadata: { name: "same-ip" },
        spec: { clusterIP: made.body["spec"].clusterIP, ports: [{ port: 80 }] },
      },
    });
    assert.equal(sameIP.status, 422, "the ClusterIP is still allocated");
    const samePort = await apiRequest<Json>(server.url, "POST", svcPath, {
      body: {
        metadata: { name: "same-port" },
        spec: { type: "NodePort", ports: [{ port: 80, nodePort: made.body["spec"].ports[0].nodePort }] },
      },
    });
    assert.equal(samePort.status, 422, "the NodePort is still allocated");
    const fresh = await apiRequest<Json>(server.url, "POST", svcPath, {
      body: { metadata: { name: "fresh" }, spec: { ports: [{ port: 80 }] } },
    });
    assert.ok(rvOf(fresh.body) > lastRv, "resourceVersion keeps growing");
    assert.notEqual(fresh.body["spec"].clusterIP, made.body["spec"].clusterIP);
    // The EndpointSlice controller picks up where it was: the slice still lists the Pod.
    const endpointsOfKept = async (): Promise<string> => {
      const slices = await apiRequest<Json>(
        server.url,
        "GET",
        "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dkept",
      );
      return JSON.stringify(
        slices.body["items"].map((s: Json) => s["endpoints"].map((e: Json) => e["addresses"][0])),
      );
    };
    const deadline = Date.now() + 5000;
    while ((await endpointsOfKept()) !== JSON.stringify([["10.1.0.1"]])) {
      assert.ok(Date.now() < deadline, `the slice lists the Pod: ${await endpointsOfKept()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await server.close();
  });

  it("keeps every acknowledged write when the server is killed, and sends old watches 410", async () => {
    const dir = tempDir("crash");
    dirs.push(dir);
    const { url, child } = await startChild(dir.path);
    children.push(child);
    const before = Number((await apiRequest<Json>(url, "GET", svcPath)).body["metadata"].resourceVersion);
    const acks = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        apiRequest<Json>(url, "POST", svcPath, {
          body: { metadata: { name: `c${i}` }, spec: { type: "NodePort", ports: [{ port: 80 }] } },
        }),
      ),
    );
    assert.ok(acks.every((a) => a.status === 201));
    const maxAcked = Math.max(...acks.map((a) => rvOf(a.body)));
    child.kill("SIGKILL");
    await once(child, "exit");

    const server = await startTestApiServer({ dataDir: dir.path });
    servers.push(server);
    const list = await apiRequest<Json>(server.url, "GET", svcPath);
    const stored = new Map((list.body["items"] as Json[]).map((s) => [s["metadata"].name as string, s]));
    for (const a of acks) {
      const s = stored.get(a.body["metadata"].name as string);
      assert.ok(s, `${a.body["metadata"].name} survived the crash`);
      assert.equal(s["metadata"].resourceVersion, a.body["metadata"].resourceVersion);
      assert.equal(s["spec"].clusterIP, a.body["spec"].clusterIP);
      assert.equal(s["spec"].ports[0].nodePort, a.body["spec"].ports[0].nodePort);
    }
    assert.ok(Number(list.body["metadata"].resourceVersion) >= maxAcked);

    const old = openWatch(server.url, `${svcPath}?watch=1&resourceVersion=${before}`);
    await old.ended;
    assert.equal(old.events[0]?.type, "ERROR");
    assert.equal(old.events[0]?.object["code"], 410);

    const current = openWatch(
      server.url,
      `${svcPath}?watch=1&resourceVersion=${list.body["metadata"].resourceVersion}`,
    );
    try {
      const made = await apiRequest<Json>(server.url, "POST", svcPath, {
        body: { metadata: { name: "after" }, spec: { type: "NodePort", ports: [{ port: 80 }] } },
      });
      assert.ok(rvOf(made.body) > maxAcked, "resourceVersion stays monotonic after a crash");
      const taken = new Set(acks.map((a) => a.body["spec"].ports[0].nodePort as number));
      assert.ok(!taken.has(made.body["spec"].ports[0].nodePort as number), "allocations were rebuilt");
      const events = await current.until((e) => e.length >= 1);
      assert.deepEqual(
        events.map((e) => `${e.type} ${e.object.metadata?.name}`),
        ["ADDED after"],
      );
    } finally {
      current.close();
    }
    await server.close();
  });

  it("refuses a second server on a data directory in use", async () => {
    const dir = tempDir("locked");
    dirs.push(dir);
    const first = await startTestApiServer({ dataDir: dir.path });
    servers.push(first);
    await assert.rejects(
      startTestApiServer({ dataDir: dir.path }),
      /another kproxy API server is using this data directory/,
    );
    await first.close();
  });

  it("finishes a Pod's graceful deletion after a restart", async () => {
    const dir = tempDir("grace");
    dirs.push(dir);
    let server = await startTestApiServer({ dataDir: dir.path });
    servers.push(server);
    const podPath = "/api/v1/namespaces/default/pods";
    await apiRequest(server.url, "POST", podPath, {
      body: { metadata: { name: "slow" }, spec: { nodeName: "n1", containers: [{ name: "c", image: "x" }] } },
    });
    const deleting = await apiRequest<Json>(server.url, "DELETE", `${podPath}/slow?gracePeriodSeconds=1`);
    assert.equal(deleting.status, 200);
    assert.ok(deleting.body["metadata"].deletionTimestamp, "the Pod is terminating");
    assert.equal((await apiRequest(server.url, "GET", `${podPath}/slow`)).status, 200);
    await server.close();
    server = await startTestApiServer({ dataDir: dir.path });
    servers.push(server);
    const deadline = Date.now() + 5000;
    while ((await apiRequest(server.url, "GET", `${podPath}/slow`)).status === 200) {
      assert.ok(Date.now() < deadline, "the Pod is removed once its grace period is over");
      await new Promise((r) => setTimeout(r, 100));
    }
    await server.close();
  });
});
