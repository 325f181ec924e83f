import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ServicePort } from "../../../model/service-port.ts";
import { ServicePortIndex } from "./service-port-index.ts";

/** A ServicePortMap of `ports` (`service:port`), enough for the index (it reads `serviceKey`). */
function ports(...keys: string[]): Map<string, ServicePort> {
  return new Map(keys.map((k) => [k, { serviceKey: k.split(":")[0] } as ServicePort]));
}

describe("ServicePortIndex", () => {
  it("finds the ports of changed services, and those they lost, without the others", () => {
    const index = new ServicePortIndex();
    index.reset(ports("ns/a:http", "ns/a:https", "ns/b:dns", "ns/c:x"));
    const next = ports("ns/a:http", "ns/b:dns", "ns/c:x");
    const change = index.changes(next, new Set(["ns/a"]));
    assert.deepEqual(change.current, ["ns/a:http"]);
    assert.deepEqual(change.removed, ["ns/a:https"]);
    change.commit();
    // A deleted service: all its ports removed.
    const gone = index.changes(ports("ns/a:http", "ns/c:x"), new Set(["ns/b"]));
    assert.deepEqual([gone.current, gone.removed], [[], ["ns/b:dns"]]);
    gone.commit();
  });

  it("finds added services and ports by looking at every port", () => {
    const index = new ServicePortIndex();
    index.reset(ports("ns/a:http", "ns/c:x"));
    const added = index.changes(
      ports("ns/a:http", "ns/a:https", "ns/c:x", "ns/d:y"),
      new Set(["ns/a", "ns/d"]),
    );
    assert.deepEqual([...added.current].sort(), ["ns/a:http", "ns/a:https", "ns/d:y"]);
    assert.deepEqual(added.removed, []);
    added.commit();
    // Renamed port (one lost, one added: same size): the new one is found too.
    const renamed = index.changes(ports("ns/a:http", "ns/a:web", "ns/c:x", "ns/d:y"), new Set(["ns/a"]));
    assert.deepEqual([...renamed.current].sort(), ["ns/a:http", "ns/a:web"]);
    assert.deepEqual(renamed.removed, ["ns/a:https"]);
  });
});
