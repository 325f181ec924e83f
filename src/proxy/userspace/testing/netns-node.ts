// Runs inside a test's node network namespace: starts loopback backends and the userspace
// proxier (with portal rules) for the Services in the JSON file argv[2], prints one JSON line
// {"ready":true} and relays until SIGTERM, then removes its portal rules.
import { readFileSync } from "node:fs";
import type { KubernetesObject } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { defaultProxyConfig } from "../../../config/defaults.ts";
import { systemClock } from "../../../sys/clock.ts";
import { createExecutor } from "../../../sys/executor.ts";
import { silentLogger } from "../../../sys/logger.ts";
import { createUserspaceProxierWith } from "../userspace-proxier.ts";
import { endpointSlices, startTcpBackend, startUdpBackend, syncRequest } from "./fixtures.ts";

interface Input {
  node: { name: string; ip: string; localAddresses: string[] };
  services: KubernetesObject[];
  /** Backends by Service name: TCP names (or UDP with `udp: true`), and the node they claim to run on. */
  backends: { service: string; names: string[]; udp?: boolean; nodeNames?: string[] }[];
}

const input = JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")) as Input;
const objects: KubernetesObject[] = [...input.services];
const closers: (() => Promise<void>)[] = [];
let n = 1;
for (const group of input.backends) {
  const eps = [];
  for (const [i, name] of group.names.entries()) {
    const ip = `127.0.0.${++n}`;
    const backend = group.udp ? await startUdpBackend(name, ip) : await startTcpBackend(name, ip);
    closers.push(() => backend.close());
    eps.push({ ip, port: backend.port, nodeName: group.nodeNames?.[i] ?? input.node.name });
  }
  objects.push(...endpointSlices(group.service, eps, group.udp ? "UDP" : "TCP"));
}
const proxier = await createUserspaceProxierWith(
  {
    config: { ...defaultProxyConfig, mode: "userspace" },
    executor: createExecutor(),
    logger: silentLogger(),
    metrics: new Registry(),
    clock: systemClock,
  },
  { portals: true },
);
const node = {
  name: input.node.name,
  labels: {},
  nodeIPs: [input.node.ip],
  podCIDRs: [],
  localAddresses: input.node.localAddresses,
  deleting: false,
};
await proxier.sync(syncRequest(objects, { node }));
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
process.on("SIGTERM", () => {
  void (async () => {
    await proxier.cleanup();
    await proxier.close();
    for (const close of closers) await close();
    process.exit(0);
  })();
});
