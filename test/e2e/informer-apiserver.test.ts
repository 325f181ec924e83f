// @kubernetes/client-node informers against the embedded API server: kproxy's ObjectSource and
// client-node's own makeInformer see every create, update and delete, and stay correct across
// restarts of the server on the same data directory (a resumed watch or a 410 and a relist).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, makeInformer, type KubeConfig, type V1Service } from "@kubernetes/client-node";
import type { ApiServer } from "../../src/apiserver/api-server.ts";
import { apiRequest } from "../../src/apiserver/testing/api-client.ts";
import { startTestApiServer, tempDir } from "../../src/apiserver/testing/test-api-server.ts";
import { loadKubeConfig } from "../../src/sources/kube-config.ts";
import { ObjectSource } from "../../src/sources/object-source.ts";
import { pino } from "pino";
import { silentLogger } from "../../src/sys/logger.ts";

function service(name: string, port: number): V1Service {
  return { apiVersion: "v1", kind: "Service", metadata: { name }, spec: { ports: [{ port }] } };
}

async function eventually(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** What the server holds now: name → port of every Service in `default`. */
async function serverState(url: string): Promise<Map<string, number>> {
  const res = await apiRequest<{ items: V1Service[] }>(url, "GET", "/api/v1/namespaces/default/services");
  return new Map(res.body.items.map((s) => [s.metadata?.name ?? "", s.spec?.ports?.[0]?.port ?? 0]));
}

/** A recorder of informer events, checking that it never sees an add of a known object. */
class Recorder {
  readonly state = new Map<string, number>();
  readonly log: string[] = [];
  duplicateAdds = 0;
  add = (s: V1Service): void => {
    const name = s.metadata?.name ?? "";
    if (this.state.has(name)) this.duplicateAdds++;
    this.state.set(name, s.spec?.ports?.[0]?.port ?? 0);
    this.log.push(`add ${name}`);
  };
  update = (s: V1Service): void => {
    this.state.set(s.metadata?.name ?? "", s.spec?.ports?.[0]?.port ?? 0);
    this.log.push(`update ${s.metadata?.name}`);
  };
  delete = (s: V1Service): void => {
    this.state.delete(s.metadata?.name ?? "");
    this.log.push(`delete ${s.metadata?.name}`);
  };
  matches(expected: Map<string, number>): boolean {
    return JSON.stringify([...this.state].sort()) === JSON.stringify([...expected].sort());
  }
}

describe("informers against the embedded API server", () => {
  const dir = tempDir("informer");
  let server: ApiServer;
  let port = 0;
  let kc: KubeConfig;
  const sourceEvents = new Recorder();
  const informerEvents = new Recorder();
  let source: ObjectSource<V1Service>;
  let informer: ReturnType<typeof makeInformer<V1Service>>;
  let informerStopped = false;
  /** Messages the servers logged (debug and up), to see which path a reconnect took. */
  const serverLog: string[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => serverLog.push(line) });

  const start = async (): Promise<void> => {
    server = await startTestApiServer({ dataDir: dir.path, listen: `127.0.0.1:${port}`, logger });
    port = Number(new URL(server.url).port);
  };
  const create = (name: string, p: number) =>
    apiRequest(server.url, "POST", "/api/v1/namespaces/default/services", { body: service(name, p) });
  const setPort = (name: string, p: number) =>
    apiRequest(server.url, "PATCH", `/api/v1/namespaces/default/services/${name}`, {
      body: { spec: { ports: [{ port: p, targetPort: p }] } },
      contentType: "application/merge-patch+json",
    });
  const remove = (name: string) =>
    apiRequest(server.url, "DELETE", `/api/v1/namespaces/default/services/${name}`);
  const converged = async (what: string): Promise<void> => {
    const expected = await serverState(server.url);
    await eventually(
      `${what}: informers match ${JSON.stringify([...expected])}`,
      () => sourceEvents.matches(expected) && informerEvents.matches(expected),
    );
    assert.equal(
      sourceEvents.duplicateAdds,
      0,
      `ObjectSource reported an add twice: ${sourceEvents.log.join(", ")}`,
    );
    assert.equal(
      informerEvents.duplicateAdds,
      0,
      `makeInformer reported an add twice: ${informerEvents.log.join(", ")}`,
    );
  };

  before(async () => {
    await start();
    kc = loadKubeConfig({ kubeconfig: "", master: server.url });
    const core = kc.makeApiClient(CoreV1Api);
    source = new ObjectSource<V1Service>({
      kubeConfig: kc,
      path: "/api/v1/namespaces/default/services",
      list: () => core.listNamespacedService({ namespace: "default" }),
      handlers: {
        add: sourceEvents.add,
        update: (_p, c) => sourceEvents.update(c),
        delete: sourceEvents.delete,
      },
      logger: silentLogger(),
    });
    informer = makeInformer<V1Service>(kc, "/api/v1/namespaces/default/services", () =>
      core.listNamespacedService({ namespace: "default" }),
    );
    informer.on("add", informerEvents.add);
    informer.on("update", informerEvents.update);
    informer.on("delete", informerEvents.delete);
    // client-node's informer stops on an error; restarting it (after a pause) is the caller's job.
    informer.on("error", () => {
      if (!informerStopped) setTimeout(() => void informer.start().catch(() => undefined), 500);
    });
    await create("a", 80);
    await create("b", 81);
    await source.start();
    await informer.start();
  });

  after(async () => {
    informerStopped = true;
    source.stop();
    await informer.stop();
    await server.close();
    dir.remove();
  });

  it("see the initial list, then every create, update and delete", async () => {
    await converged("initial list");
    await create("c", 82);
    await setPort("a", 90);
    await remove("b");
    await converged("after create, update, delete");
    assert.ok(sourceEvents.log.includes("update a") && sourceEvents.log.includes("delete b"));
    assert.ok(informerEvents.log.includes("update a") && informerEvents.log.includes("delete b"));
  });

  it("carry on across a restart on the same data directory (watch resumes)", async () => {
    await server.close();
    const logMark = serverLog.length;
    await start();
    await create("d", 83);
    await setPort("c", 92);
    await converged("after a restart");
    const gone = serverLog.slice(logMark).filter((l) => l.includes("410 Gone"));
    assert.deepEqual(gone, [], "nothing was missed, so the watches resumed where they were");
  });

  it("relist after the resourceVersion they hold is gone (changes made while they were away)", async () => {
    await server.close();
    // A server that changes things and stops again before the informers reconnect: their
    // resourceVersion now predates the next start, so the watch gets 410 Gone and they relist.
    await start();
    await create("e", 84);
    await remove("a");
    await setPort("d", 93);
    await server.close();
    const logMark = serverLog.length;
    await start();
    await converged("after the informers relisted");
    const gone = serverLog.slice(logMark).filter((l) => l.includes("410 Gone"));
    assert.ok(gone.length >= 2, "both informers were told 410 Gone and relisted");
    assert.ok(sourceEvents.log.includes("delete a"), "the deletion made while away is reported");
    assert.ok(informerEvents.log.includes("delete a"), "the deletion made while away is reported");
    await create("f", 85);
    await converged("after a relist, watching again");
  });
});
