// applyManifests: YAML files and folders applied to the embedded API server (create or update,
// Pod status through /status), problems logged with their file and object, and re-applied when
// a file changes.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import type { ApiServer } from "../../src/apiserver/api-server.ts";
import { applyManifests } from "../../src/apiserver/manifests.ts";
import { apiRequest } from "../../src/apiserver/testing/api-client.ts";
import { startTestApiServer, tempDir } from "../../src/apiserver/testing/test-api-server.ts";

/** Objects as the server returns them; the assertions say what they expect of them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const service = (port: number): string => `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: demo
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - name: http
    port: ${port}
    targetPort: 8080
`;

const pods = `apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: demo, labels: {app: web}}
spec:
  nodeName: node-a
  containers: [{name: web, image: web}]
status:
  podIP: 10.1.0.1
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-2, namespace: demo, labels: {app: web}}
spec:
  nodeName: node-a
  containers: [{name: web, image: web}]
status:
  podIP: 10.1.0.2
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Service
metadata: {name: broken, namespace: demo}
spec:
  ports: [{port: 0}]
`;

describe("applyManifests", () => {
  const dir = tempDir("manifests");
  let server: ApiServer;
  let handle: { close(): void };
  const logLines: Json[] = [];
  const logger = pino(
    { level: "info" },
    { write: (line: string) => logLines.push(JSON.parse(line) as Json) },
  );
  const get = (path: string) => apiRequest<Json>(server.url, "GET", path);

  before(async () => {
    server = await startTestApiServer();
    writeFileSync(
      join(dir.path, "01-namespace.yaml"),
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n",
    );
    writeFileSync(join(dir.path, "service.yaml"), service(80));
    writeFileSync(join(dir.path, "pods.yaml"), pods);
    writeFileSync(join(dir.path, "garbage.yaml"), "kind: [unclosed\n");
    writeFileSync(join(dir.path, "notes.txt"), "not a manifest");
    handle = await applyManifests({ url: server.url, paths: [dir.path], watch: true, logger });
  });
  after(async () => {
    handle.close();
    await server.close();
    dir.remove();
  });

  it("creates every object of a folder, namespaces first, Pod status included", async () => {
    const svc = await get("/api/v1/namespaces/demo/services/web");
    assert.equal(svc.status, 200);
    assert.ok(svc.body["spec"].ports[0].nodePort > 0);
    const pod = await get("/api/v1/namespaces/demo/pods/web-1");
    assert.equal(pod.body["status"].podIP, "10.1.0.1");
    const deadline = Date.now() + 5000;
    for (;;) {
      const slices = await get("/apis/discovery.k8s.io/v1/namespaces/demo/endpointslices");
      const ips = (slices.body["items"] as Json[]).flatMap((s) =>
        (s["endpoints"] as Json[]).map((e) => e["addresses"][0]),
      );
      if (ips.sort().join() === "10.1.0.1,10.1.0.2") break;
      assert.ok(Date.now() < deadline, `endpoints of web: ${ips.join()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it("logs each problem with its file and object, and goes on", () => {
    const broken = logLines.find((l) => l["object"] === "Service demo/broken");
    assert.ok(broken, JSON.stringify(logLines));
    assert.equal(broken["file"], join(dir.path, "pods.yaml"));
    assert.match(broken["msg"], /spec\.ports\[0\]\.port: Invalid value: 0/);
    const garbage = logLines.find((l) => l["file"] === join(dir.path, "garbage.yaml"));
    assert.ok(garbage);
    assert.match(garbage["msg"], /not valid YAML/);
  });

  it("applies a changed file again, keeping what the server allocated", async () => {
    const before = (await get("/api/v1/namespaces/demo/services/web")).body;
    const podBefore = (await get("/api/v1/namespaces/demo/pods/web-1")).body;
    writeFileSync(join(dir.path, "service.yaml"), service(81));
    const deadline = Date.now() + 5000;
    let now = before;
    while (now["spec"].ports[0].port !== 81) {
      assert.ok(Date.now() < deadline, "the change was applied");
      await new Promise((r) => setTimeout(r, 50));
      now = (await get("/api/v1/namespaces/demo/services/web")).body;
    }
    assert.equal(now["spec"].clusterIP, before["spec"].clusterIP);
    assert.equal(now["spec"].ports[0].nodePort, before["spec"].ports[0].nodePort);
    await new Promise((r) => setTimeout(r, 300));
    const podAfter = (await get("/api/v1/namespaces/demo/pods/web-1")).body;
    assert.equal(
      podAfter["metadata"].resourceVersion,
      podBefore["metadata"].resourceVersion,
      "unchanged objects are not rewritten",
    );
  });
});
