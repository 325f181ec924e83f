import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ApiError } from "./api-error.ts";
import { decodeProtobufBody } from "./protobuf-body.ts";

// Bodies captured from kubectl v1.32: `kubectl create service nodeport bar --tcp=81:8081,82:web
// --node-port=30123` and `kubectl create namespace demo`.
const fixture = (name: string): Buffer => readFileSync(new URL(`testdata/${name}`, import.meta.url));

describe("decodeProtobufBody", () => {
  it("decodes a Service as kubectl create service sends it", () => {
    assert.deepEqual(decodeProtobufBody(fixture("kubectl-create-service-nodeport.pb")), {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "bar", labels: { app: "bar" } },
      spec: {
        ports: [
          { name: "81-8081", protocol: "TCP", port: 81, targetPort: 8081, nodePort: 30123 },
          { name: "82-web", protocol: "TCP", port: 82, targetPort: "web", nodePort: 30123 },
        ],
        selector: { app: "bar" },
        type: "NodePort",
      },
    });
  });

  it("decodes a Namespace as kubectl create namespace sends it", () => {
    assert.deepEqual(decodeProtobufBody(fixture("kubectl-create-namespace.pb")), {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "demo" },
    });
  });

  it("refuses other kinds with 415 and garbage with 400", () => {
    const pod = Buffer.concat([
      Buffer.from("k8s\0", "latin1"),
      Buffer.from([0x0a, 0x09, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x03, 0x50, 0x6f, 0x64]),
    ]);
    assert.throws(
      () => decodeProtobufBody(pod),
      (e: unknown) => e instanceof ApiError && e.httpCode === 415 && /v1\/Pod/.test(e.message),
    );
    assert.throws(
      () => decodeProtobufBody(Buffer.from("{}")),
      (e: unknown) => e instanceof ApiError && e.httpCode === 400,
    );
  });
});
