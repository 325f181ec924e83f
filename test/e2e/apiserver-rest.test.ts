// The embedded API server's REST semantics over real HTTP: Status errors, optimistic
// concurrency, selectors, paging, the three patch types, watches, authentication, the Unix
// socket and TLS.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import type { ApiServer } from "../../src/apiserver/api-server.ts";
import { apiRequest, openWatch } from "../../src/apiserver/testing/api-client.ts";
import { startTestApiServer, tempDir } from "../../src/apiserver/testing/test-api-server.ts";
import { UsageError } from "../../src/errors.ts";

/** Objects as the server returns them; the assertions say what they expect of them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const svcPath = "/api/v1/namespaces/default/services";

function service(name: string, labels: Record<string, string> = {}, port = 80): Json {
  return { apiVersion: "v1", kind: "Service", metadata: { name, labels }, spec: { ports: [{ port }] } };
}

describe("embedded API server REST semantics", () => {
  let server: ApiServer;
  const dir = tempDir("rest");
  const post = (body: Json, path = svcPath) => apiRequest<Json>(server.url, "POST", path, { body });
  const get = (path: string) => apiRequest<Json>(server.url, "GET", path);

  before(async () => {
    server = await startTestApiServer({ socketPath: join(dir.path, "api.sock"), bookmarkIntervalMs: 100 });
  });
  after(async () => {
    await server.close();
    dir.remove();
  });

  it("answers 404 and 409 with Status bodies", async () => {
    const missing = await get(`${svcPath}/nope`);
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'services "nope" not found',
      reason: "NotFound",
      details: { name: "nope", kind: "services" },
      code: 404,
    });
    assert.equal((await post(service("dup"))).status, 201);
    const again = await post(service("dup"));
    assert.equal(again.status, 409);
    assert.equal(again.body["reason"], "AlreadyExists");
    assert.equal(again.body["message"], 'services "dup" already exists');
    const noNamespace = await post(service("x"), "/api/v1/namespaces/nowhere/services");
    assert.equal(noNamespace.status, 404);
    assert.equal(noNamespace.body["message"], 'namespaces "nowhere" not found');
  });

  it("answers an invalid object with 422 and one cause per field", async () => {
    const res = await post({ metadata: { name: "bad" }, spec: { ports: [{ port: 70000 }] } });
    assert.equal(res.status, 422);
    assert.equal(res.body["reason"], "Invalid");
    const causes = res.body["details"].causes as Json[];
    assert.ok(causes.some((c) => c["field"] === "spec.ports[0].port" && c["reason"] === "FieldValueInvalid"));
    assert.match(res.body["message"], /^Service "bad" is invalid: /);
  });

  it("rejects an update with a stale resourceVersion (409 Conflict)", async () => {
    const created = (await post(service("occ"))).body;
    const first = structuredClone(created);
    first["metadata"].labels = { v: "1" };
    const updated = await apiRequest<Json>(server.url, "PUT", `${svcPath}/occ`, { body: first });
    assert.equal(updated.status, 200);
    assert.ok(Number(updated.body["metadata"].resourceVersion) > Number(created["metadata"].resourceVersion));
    const stale = structuredClone(created);
    stale["metadata"].labels = { v: "2" };
    const conflict = await apiRequest<Json>(server.url, "PUT", `${svcPath}/occ`, { body: stale });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body["reason"], "Conflict");
    assert.match(conflict.body["message"], /the object has been modified/);
    assert.equal((await get(`${svcPath}/occ`)).body["metadata"].labels.v, "1");
  });

  it("filters lists by label and field selectors", async () => {
    await post(service("sel-a", { tier: "web", env: "prod" }));
    await post(service("sel-b", { tier: "web", env: "dev" }));
    await post(service("sel-c", { tier: "db" }));
    const names = async (query: string): Promise<string[]> =>
      ((await get(`${svcPath}?${query}`)).body["items"] as Json[]).map((i) => i["metadata"].name as string);
    assert.deepEqual(await names("labelSelector=tier%3Dweb"), ["sel-a", "sel-b"]);
    assert.deepEqual(await names("labelSelector=tier%3Dweb,env!%3Dprod"), ["sel-b"]);
    assert.deepEqual(await names("labelSelector=tier%20in%20(db,cache)"), ["sel-c"]);
    assert.deepEqual(await names("labelSelector=env,tier%20notin%20(db)"), ["sel-a", "sel-b"]);
    assert.deepEqual(await names("fieldSelector=metadata.name%3Dsel-b"), ["sel-b"]);
    assert.deepEqual(await names("labelSelector=tier&fieldSelector=metadata.name!%3Dsel-a"), [
      "sel-b",
      "sel-c",
    ]);
    const bad = await get(`${svcPath}?labelSelector=a%20in%20b`);
    assert.equal(bad.status, 400);
  });

  it("pages lists with limit and continue", async () => {
    for (let i = 0; i < 7; i++) await post(service(`page-${i}`, { page: "yes" }));
    const seen: string[] = [];
    let token = "";
    let pages = 0;
    do {
      const res = await get(`${svcPath}?labelSelector=page&limit=3${token ? `&continue=${token}` : ""}`);
      assert.equal(res.status, 200);
      seen.push(...(res.body["items"] as Json[]).map((i) => i["metadata"].name as string));
      token = res.body["metadata"].continue ?? "";
      pages++;
    } while (token !== "");
    assert.equal(pages, 3);
    assert.deepEqual(
      seen,
      [0, 1, 2, 3, 4, 5, 6].map((i) => `page-${i}`),
    );
    assert.equal((await get(`${svcPath}?limit=2&continue=garbage`)).status, 400);
  });

  it("applies JSON patches, merge patches and strategic merge patches", async () => {
    await post({
      metadata: { name: "p" },
      spec: {
        ports: [
          { name: "a", port: 80 },
          { name: "b", port: 81 },
        ],
      },
    });
    const patch = (type: string, body: unknown) =>
      apiRequest<Json>(server.url, "PATCH", `${svcPath}/p`, {
        body,
        contentType: `application/${type}+json`,
      });
    const json = await patch("json-patch", [
      { op: "add", path: "/metadata/labels", value: { x: "1" } },
      { op: "replace", path: "/spec/ports/1/port", value: 82 },
    ]);
    assert.equal(json.status, 200, json.text);
    assert.deepEqual(json.body["metadata"].labels, { x: "1" });
    assert.equal(json.body["spec"].ports[1].port, 82);
    const failed = await patch("json-patch", [{ op: "test", path: "/spec/ports/0/port", value: 99 }]);
    assert.equal(failed.status, 422);
    const merge = await patch("merge-patch", {
      metadata: { labels: { x: null, y: "2" } },
      spec: { ports: [{ port: 90 }] },
    });
    assert.deepEqual(merge.body["metadata"].labels, { y: "2" });
    assert.deepEqual(
      merge.body["spec"].ports.map((p: Json) => p["port"]),
      [90],
      "merge patch replaces lists",
    );
    await patch("merge-patch", {
      spec: {
        ports: [
          { name: "a", port: 80 },
          { name: "b", port: 81 },
        ],
      },
    });
    const smp = await patch("strategic-merge-patch", {
      spec: {
        ports: [
          { port: 81, targetPort: 8081 },
          { name: "c", port: 83 },
          { port: 80, $patch: "delete" },
        ],
      },
    });
    assert.equal(smp.status, 200, smp.text);
    assert.deepEqual(
      smp.body["spec"].ports.map((p: Json) => `${p["name"]}:${p["port"]}:${p["targetPort"]}`),
      ["b:81:8081", "c:83:83"],
      "strategic merge patch merges ports by their port number",
    );
    const staleRv = await patch("merge-patch", {
      metadata: { resourceVersion: "1" },
      spec: { ports: [{ port: 1 }] },
    });
    assert.equal(staleRv.status, 409);
    const unsupported = await apiRequest<Json>(server.url, "PATCH", `${svcPath}/p`, {
      body: "{}",
      contentType: "application/apply-patch+yaml",
    });
    assert.equal(unsupported.status, 415);
  });

  it("watches from a resourceVersion, with selector transitions, bookmarks and a timeout", async () => {
    const list = await get(`${svcPath}?labelSelector=watched%3Dyes`);
    const rv = list.body["metadata"].resourceVersion as string;
    const watch = openWatch(
      server.url,
      `${svcPath}?watch=1&resourceVersion=${rv}&labelSelector=watched%3Dyes&allowWatchBookmarks=true&timeoutSeconds=5`,
    );
    try {
      await post(service("w1", { watched: "yes" }));
      await post(service("w2", { watched: "no" }));
      await apiRequest(server.url, "PATCH", `${svcPath}/w2`, {
        body: { metadata: { labels: { watched: "yes" } } },
        contentType: "application/merge-patch+json",
      });
      await apiRequest(server.url, "PATCH", `${svcPath}/w1`, {
        body: { metadata: { labels: { watched: "no" } } },
        contentType: "application/merge-patch+json",
      });
      await apiRequest(server.url, "DELETE", `${svcPath}/w2`);
      const events = await watch.until(
        (e) => e.filter((x) => x.type !== "BOOKMARK").length >= 4 && e.some((x) => x.type === "BOOKMARK"),
      );
      const changes = events
        .filter((e) => e.type !== "BOOKMARK")
        .map((e) => `${e.type} ${e.object.metadata?.name}`);
      assert.deepEqual(changes, ["ADDED w1", "ADDED w2", "DELETED w1", "DELETED w2"]);
      const bookmark = events.find((e) => e.type === "BOOKMARK");
      assert.ok(Number(bookmark?.object.metadata?.resourceVersion) > Number(rv));
      const rvs = events
        .filter((e) => e.type !== "BOOKMARK")
        .map((e) => Number(e.object.metadata?.resourceVersion));
      assert.deepEqual(
        rvs,
        [...rvs].sort((a, b) => a - b),
        "events arrive in resourceVersion order",
      );
    } finally {
      watch.close();
    }
    const short = openWatch(server.url, `${svcPath}?watch=true&resourceVersion=${rv}&timeoutSeconds=1`);
    await short.ended;
    assert.ok(
      short.events.some((e) => e.type === "ADDED" && e.object.metadata?.name === "w1"),
      "replayed from the ring",
    );
  });

  it("starts a watch without a resourceVersion with the current objects as ADDED", async () => {
    const watch = openWatch(
      server.url,
      `${svcPath}?watch=1&fieldSelector=metadata.name%3Dsel-a&timeoutSeconds=2`,
    );
    await watch.ended;
    assert.deepEqual(
      watch.events.map((e) => `${e.type} ${e.object.metadata?.name}`),
      ["ADDED sel-a"],
    );
  });

  it("answers a watch from a resourceVersion it no longer has with 410 Gone", async () => {
    const small = await startTestApiServer({ watchCacheSize: 4 });
    try {
      const rv = (await apiRequest<Json>(small.url, "GET", svcPath)).body["metadata"]
        .resourceVersion as string;
      for (let i = 0; i < 10; i++) await apiRequest(small.url, "POST", svcPath, { body: service(`g${i}`) });
      const watch = openWatch(small.url, `${svcPath}?watch=1&resourceVersion=${rv}`);
      await watch.ended;
      assert.equal(watch.events.length, 1);
      assert.equal(watch.events[0]?.type, "ERROR");
      assert.equal(watch.events[0]?.object["code"], 410);
      assert.equal(watch.events[0]?.object["reason"], "Expired");
      assert.match(String(watch.events[0]?.object["message"]), /too old resource version/);
    } finally {
      await small.close();
    }
  });

  it("returns a Table when asked, as kubectl get does", async () => {
    const res = await apiRequest<Json>(server.url, "GET", `${svcPath}?labelSelector=tier`, {
      headers: { Accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" },
    });
    assert.equal(res.body["kind"], "Table");
    assert.equal(res.body["columnDefinitions"][0].name, "Name");
    assert.deepEqual(
      res.body["rows"].map((r: Json) => r["cells"][0]),
      ["sel-a", "sel-b", "sel-c"],
    );
    assert.equal(res.body["rows"][0].object.kind, "PartialObjectMetadata");
  });

  it("deletes collections, honours dryRun, and deletes a namespace with its contents", async () => {
    const nsPath = "/api/v1/namespaces";
    assert.equal((await post({ metadata: { name: "scratch" } }, nsPath)).status, 201);
    const scratch = "/api/v1/namespaces/scratch/services";
    for (const name of ["d1", "d2", "d3"])
      await post(service(name, { drop: name === "d3" ? "no" : "yes" }), scratch);
    const dry = await post(service("dry"), `${scratch}?dryRun=All`);
    assert.equal(dry.status, 201);
    assert.ok(dry.body["spec"].clusterIP, "a dry run shows what would be allocated");
    assert.equal((await get(`${scratch}/dry`)).status, 404, "a dry run stores nothing");
    const dropped = await apiRequest<Json>(server.url, "DELETE", `${scratch}?labelSelector=drop%3Dyes`);
    assert.equal(dropped.status, 200);
    assert.deepEqual(
      (dropped.body["items"] as Json[]).map((i) => i["metadata"].name),
      ["d1", "d2"],
    );
    assert.deepEqual(
      ((await get(scratch)).body["items"] as Json[]).map((i) => i["metadata"].name),
      ["d3"],
    );
    const deleted = await apiRequest<Json>(server.url, "DELETE", `${nsPath}/scratch`);
    assert.equal(deleted.status, 200);
    assert.equal((await get(`${nsPath}/scratch`)).status, 404);
    assert.equal((await get(`${scratch}/d3`)).status, 404, "the namespace took its objects along");
  });

  it("sends initial events and a marking bookmark with sendInitialEvents", async () => {
    const watch = openWatch(
      server.url,
      `${svcPath}?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&labelSelector=tier%3Ddb&timeoutSeconds=1`,
    );
    await watch.ended;
    assert.deepEqual(
      watch.events
        .slice(0, 2)
        .map((e) => [e.type, e.object.metadata?.name ?? e.object.metadata?.annotations]),
      [
        ["ADDED", "sel-c"],
        ["BOOKMARK", { "k8s.io/initial-events-end": "true" }],
      ],
    );
  });

  it("reports a port it cannot listen on", async () => {
    const port = new URL(server.url).port;
    await assert.rejects(
      startTestApiServer({ listen: `127.0.0.1:${port}` }),
      /Cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/,
    );
  });

  it("serves the Unix socket without a token", async () => {
    assert.ok(server.socketPath);
    const res = await apiRequest<Json>({ socketPath: server.socketPath }, "GET", `${svcPath}/sel-a`);
    assert.equal(res.status, 200);
    assert.equal(res.body["metadata"].name, "sel-a");
    const notASocket = join(dir.path, "precious.txt");
    writeFileSync(notASocket, "keep me");
    await assert.rejects(startTestApiServer({ socketPath: notASocket }), /not a socket is in the way/);
    assert.equal(readFileSync(notASocket, "utf8"), "keep me");
  });

  it("requires a token file beyond loopback, and checks bearer tokens when it has one", async () => {
    await assert.rejects(
      startTestApiServer({ listen: "0.0.0.0:0" }),
      (err: unknown) => err instanceof UsageError && /token-file/.test(err.message),
    );
    const tokens = join(dir.path, "tokens.csv");
    writeFileSync(tokens, "# static tokens\ns3cret,alice,1001\nplain-token\n");
    const guarded = await startTestApiServer({
      listen: "127.0.0.2:0",
      tokenFile: tokens,
      socketPath: join(dir.path, "g.sock"),
    });
    try {
      assert.match(guarded.url, /^http:\/\/127\.0\.0\.2:\d+$/);
      const anonymous = await apiRequest<Json>(guarded.url, "GET", svcPath);
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.body["reason"], "Unauthorized");
      const wrong = await apiRequest(guarded.url, "GET", svcPath, {
        headers: { Authorization: "Bearer nope" },
      });
      assert.equal(wrong.status, 401);
      for (const token of ["s3cret", "plain-token"]) {
        const ok = await apiRequest(guarded.url, "GET", svcPath, {
          headers: { Authorization: `Bearer ${token}` },
        });
        assert.equal(ok.status, 200, `token ${token}`);
      }
      assert.equal((await apiRequest(guarded.url, "GET", "/healthz")).status, 200, "health needs no token");
      assert.equal((await apiRequest({ socketPath: join(dir.path, "g.sock") }, "GET", svcPath)).status, 200);
    } finally {
      await guarded.close();
    }
  });

  it("serves HTTPS with a certificate and key", async () => {
    // A self-signed certificate for 127.0.0.1, made for these tests only (valid until 2126).
    const cert = fileURLToPath(new URL("../../src/apiserver/testing/tls/test-only.crt", import.meta.url));
    const key = fileURLToPath(new URL("../../src/apiserver/testing/tls/test-only.key", import.meta.url));
    const secure = await startTestApiServer({ tlsCertFile: cert, tlsKeyFile: key });
    try {
      assert.match(secure.url, /^https:\/\//);
      const status = await new Promise<number>((resolve, reject) => {
        const u = new URL("/api/v1/namespaces", secure.url);
        httpsRequest(
          { hostname: u.hostname, port: u.port, path: u.pathname, ca: readFileSync(cert) },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        )
          .on("error", reject)
          .end();
      });
      assert.equal(status, 200);
    } finally {
      await secure.close();
    }
  });
});
