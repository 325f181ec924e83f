// The machine's kubectl against the embedded API server with nothing but --server: create, apply
// (twice, the second a strategic merge patch), get (Table columns), get -o yaml, describe and
// delete for a Service and an EndpointSlice, and field-level validation messages.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { parse as parseYaml } from "yaml";
import type { ApiServer } from "../../src/apiserver/api-server.ts";
import { apiRequest } from "../../src/apiserver/testing/api-client.ts";
import { startTestApiServer, tempDir } from "../../src/apiserver/testing/test-api-server.ts";
import { missingRequirement, suiteSkip } from "../support/requirements.ts";

const run = promisify(execFile);
/** Objects as the server returns them; the assertions say what they expect of them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
const requirement = missingRequirement({ commands: ["kubectl"] });

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe("kubectl against the embedded API server", suiteSkip(requirement), () => {
  const dir = tempDir("kubectl");
  let server: ApiServer;

  /** Runs kubectl isolated from the user's config: an empty kubeconfig and a private cache. */
  const kubectl = async (...args: string[]): Promise<Result> => {
    const isolation = [
      `--kubeconfig=${join(dir.path, "kubeconfig")}`,
      `--cache-dir=${join(dir.path, "cache")}`,
    ];
    try {
      const { stdout, stderr } = await run("kubectl", [...isolation, `--server=${server.url}`, ...args], {
        env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir.path },
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
  };
  const ok = async (...args: string[]): Promise<string> => {
    const r = await kubectl(...args);
    assert.equal(r.code, 0, `kubectl ${args.join(" ")} failed: ${r.stderr}`);
    return r.stdout;
  };
  const manifest = (name: string, text: string): string => {
    const path = join(dir.path, name);
    writeFileSync(path, text);
    return path;
  };
  const stored = async (path: string): Promise<Json> => {
    const res = await apiRequest<Json>(server.url, "GET", path);
    assert.equal(res.status, 200, res.text);
    return res.body;
  };

  before(async () => {
    if (requirement !== undefined) throw new Error(`Cannot run kubectl tests in CI: ${requirement}`);
    writeFileSync(join(dir.path, "kubeconfig"), "");
    server = await startTestApiServer({
      serviceClusterIPRange: "10.96.0.0/16",
      serviceNodePortRange: "30000-32767",
    });
  });
  after(async () => {
    await server?.close();
    dir.remove();
  });

  it("creates a Service and shows its CLUSTER-IP and NodePort in get", async () => {
    const file = manifest(
      "web.yaml",
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels: {app: web}\n" +
        "spec:\n  type: NodePort\n  selector: {app: web}\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n",
    );
    assert.match(await ok("create", "-f", file), /service\/web created/);
    const svc = await stored("/api/v1/namespaces/default/services/web");
    const clusterIP: string = svc.spec.clusterIP;
    const nodePort: number = svc.spec.ports[0].nodePort;
    assert.match(clusterIP, /^10\.96\.\d+\.\d+$/);
    assert.ok(nodePort >= 30000 && nodePort <= 32767);
    const table = await ok("get", "svc");
    const header = table.split("\n")[0] ?? "";
    assert.match(header, /NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE/);
    const row = table.split("\n").find((l) => l.startsWith("web ")) ?? "";
    assert.match(
      row,
      new RegExp(
        `^web\\s+NodePort\\s+${clusterIP.replaceAll(".", "\\.")}\\s+<none>\\s+80:${nodePort}/TCP\\s`,
      ),
    );
    const wide = await ok("get", "svc", "web", "-o", "wide");
    assert.match(wide, /SELECTOR/);
    assert.match(wide, /app=web/);
  });

  it("applies a Service twice, the second time as a strategic merge patch that changes it", async () => {
    const text = (port: number): string =>
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  selector: {app: api}\n" +
      `  ports:\n  - name: http\n    port: ${port}\n    targetPort: 8080\n  - name: metrics\n    port: 9090\n`;
    const file = manifest("api.yaml", text(80));
    assert.match(await ok("apply", "-f", file), /service\/api created/);
    const first = await stored("/api/v1/namespaces/default/services/api");
    assert.ok(first.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]);
    writeFileSync(file, text(81));
    const second = await kubectl("apply", "-f", file, "-v=6");
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /service\/api configured/);
    assert.match(second.stderr, /PATCH .*\/services\/api\?.* 200 OK/);
    const now = await stored("/api/v1/namespaces/default/services/api");
    assert.deepEqual(
      now.spec.ports.map((p: { name: string; port: number }) => `${p.name}:${p.port}`),
      ["http:81", "metrics:9090"],
    );
    assert.equal(now.spec.clusterIP, first.spec.clusterIP, "the ClusterIP survives the apply");
    assert.ok(Number(now.metadata.resourceVersion) > Number(first.metadata.resourceVersion));
    assert.match(await ok("apply", "-f", file), /service\/api unchanged/);
  });

  it("prints a Service as YAML and describes it", async () => {
    const yaml = parseYaml(await ok("get", "svc", "api", "-o", "yaml")) as Json;
    assert.equal(yaml["kind"], "Service");
    assert.equal(yaml["metadata"].name, "api");
    assert.match(yaml["spec"].clusterIP, /^10\.96\./);
    const described = await ok("describe", "svc", "api");
    assert.match(described, /^Name:\s+api$/m);
    assert.match(
      described,
      new RegExp(`^IP:\\s+${String(yaml["spec"].clusterIP).replaceAll(".", "\\.")}$`, "m"),
    );
    assert.match(described, /^Port:\s+http\s+81\/TCP$/m);
    assert.match(described, /^Endpoints:/m);
  });

  it("creates, applies, lists, describes and deletes an EndpointSlice", async () => {
    const text = (ip: string): string =>
      "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: manual-1\n" +
      "  labels:\n    kubernetes.io/service-name: manual\naddressType: IPv4\n" +
      `ports:\n- name: http\n  port: 8080\n  protocol: TCP\nendpoints:\n- addresses: ["${ip}"]\n  conditions: {ready: true}\n`;
    const file = manifest("slice.yaml", text("10.1.0.1"));
    assert.match(await ok("create", "-f", file), /endpointslice.discovery.k8s.io\/manual-1 created/);
    writeFileSync(file, text("10.1.0.2"));
    assert.match(
      await ok("apply", "-f", file),
      /endpointslice.discovery.k8s.io\/manual-1 (configured|created)/,
    );
    writeFileSync(file, text("10.1.0.3"));
    assert.match(await ok("apply", "-f", file), /endpointslice.discovery.k8s.io\/manual-1 configured/);
    const slice = await stored("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/manual-1");
    assert.deepEqual(slice.endpoints[0].addresses, ["10.1.0.3"]);
    const table = await ok("get", "endpointslices");
    assert.match(table, /^manual-1\s+IPv4\s+8080\s+10\.1\.0\.3\s/m);
    assert.match(await ok("describe", "endpointslice", "manual-1"), /^Name:\s+manual-1$/m);
    assert.match(
      await ok("delete", "endpointslice", "manual-1"),
      /endpointslice.discovery.k8s.io "manual-1" deleted/,
    );
    const gone = await apiRequest(
      server.url,
      "GET",
      "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/manual-1",
    );
    assert.equal(gone.status, 404);
  });

  it("deletes a Service", async () => {
    assert.match(await ok("delete", "svc", "web"), /service "web" deleted/);
    const r = await kubectl("get", "svc", "web");
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /services "web" not found/);
  });

  it("creates a namespace and Services with kubectl's generators (protobuf bodies)", async () => {
    assert.match(await ok("create", "namespace", "gen"), /namespace\/gen created/);
    assert.match(
      await ok("-n", "gen", "create", "service", "nodeport", "np", "--tcp=81:8081"),
      /service\/np created/,
    );
    assert.match(
      await ok("-n", "gen", "create", "service", "externalname", "ext", "--external-name=example.com"),
      /service\/ext created/,
    );
    const np = await stored("/api/v1/namespaces/gen/services/np");
    assert.equal(np["spec"].type, "NodePort");
    assert.equal(np["spec"].ports[0].targetPort, 8081);
    assert.ok(np["spec"].ports[0].nodePort >= 30000);
    const table = await ok("-n", "gen", "get", "svc");
    assert.match(table, /^ext\s+ExternalName\s+<none>\s+example\.com\s/m);
    assert.match(await ok("delete", "namespace", "gen"), /namespace "gen" deleted/);
  });

  it("prints the server's field-level message for an invalid Service", async () => {
    const file = manifest(
      "bad.yaml",
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\nspec:\n  ports:\n  - port: 0\n    targetPort: 80\n",
    );
    const r = await kubectl("create", "-f", file);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /The Service "bad" is invalid/);
    assert.match(
      r.stderr,
      /spec\.ports\[0\]\.port: Invalid value: 0: must be between 1 and 65535, inclusive/,
    );
    const applied = await kubectl("apply", "-f", file);
    assert.match(
      applied.stderr,
      /spec\.ports\[0\]\.port: Invalid value: 0: must be between 1 and 65535, inclusive/,
    );
  });
});
