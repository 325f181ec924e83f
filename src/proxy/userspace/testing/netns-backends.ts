// Runs inside a test's node network namespace: starts loopback backends for the groups in the
// JSON file argv[2], writes their EndpointSlices as YAML to argv[3] (for `kproxy run
// --manifests`), prints one JSON line {"ready":true} and serves until SIGTERM.
import { readFileSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";
import { endpointSlices, startTcpBackend, startUdpBackend } from "./fixtures.ts";

interface Input {
  nodeName: string;
  /** Backends by Service name: their names, UDP or TCP, and the node each claims to run on. */
  backends: { service: string; names: string[]; udp?: boolean; nodeNames?: string[] }[];
}

const input = JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")) as Input;
const closers: (() => Promise<void>)[] = [];
const slices = [];
let n = 1;
for (const group of input.backends) {
  const eps = [];
  for (const [i, name] of group.names.entries()) {
    const ip = `127.0.0.${++n}`;
    const backend = group.udp ? await startUdpBackend(name, ip) : await startTcpBackend(name, ip);
    closers.push(() => backend.close());
    eps.push({ ip, port: backend.port, nodeName: group.nodeNames?.[i] ?? input.nodeName });
  }
  slices.push(...endpointSlices(group.service, eps, group.udp ? "UDP" : "TCP"));
}
writeFileSync(process.argv[3] ?? "", slices.map((s) => stringify(s)).join("---\n"));
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
process.on("SIGTERM", () => {
  void (async () => {
    for (const close of closers) await close();
    process.exit(0);
  })();
});
