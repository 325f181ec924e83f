import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createNetns, type TestNetns } from "./netns.ts";

/**
 * Two network namespaces joined by a veth pair, for tests that send real packets through
 * kproxy's rules: `node` (10.77.0.1/24, where the rules and the backends live) and `client`
 * (10.77.0.2/24, with a route for the service range 10.96.0.0/16 through the node). Nothing on
 * the host is touched. `close()` kills the servers and deletes both namespaces.
 */
export interface VethLab {
  readonly node: TestNetns;
  readonly client: TestNetns;
  readonly nodeIP: string;
  readonly clientIP: string;
  /** Starts a TCP or UDP server in the node namespace on `nodeIP:port` answering `reply`. */
  serve(protocol: "tcp" | "udp", port: number, reply: string): Promise<void>;
  /**
   * Sends one request from the client namespace and returns the answer ("" on timeout, `refused`
   * when the connection was refused). UDP requests can use a fixed source port, so that every
   * request belongs to the same conntrack entry.
   */
  ask(
    protocol: "tcp" | "udp",
    ip: string,
    port: number,
    options?: { sourcePort?: number; timeoutMs?: number },
  ): Promise<string>;
  close(): void;
}

const serverCode = `
const [proto, host, port, reply] = process.argv.slice(1);
if (proto === "tcp") {
  const s = require("node:net").createServer((c) => { c.end(reply); c.on("error", () => {}); });
  s.listen(Number(port), host, () => console.log("ready"));
} else {
  const s = require("node:dgram").createSocket("udp4");
  s.on("message", (m, r) => s.send(reply, r.port, r.address));
  s.bind(Number(port), host, () => console.log("ready"));
}`;

const clientCode = `
const [proto, host, port, sport, timeout] = process.argv.slice(1);
const done = (s) => { process.stdout.write(s); process.exit(0); };
setTimeout(() => done(""), Number(timeout));
if (proto === "tcp") {
  const c = require("node:net").connect(Number(port), host);
  let data = "";
  c.on("data", (d) => (data += d));
  c.on("end", () => done(data));
  c.on("error", (e) => done(e.code === "ECONNREFUSED" ? "refused" : ""));
} else {
  const s = require("node:dgram").createSocket({ type: "udp4", reuseAddr: true });
  s.on("message", (m) => done(m.toString()));
  s.on("error", () => done(""));
  s.bind(Number(sport), () => s.send("ping", Number(port), host));
}`;

/** Builds the lab; namespaces are named `kp-<prefix>n-<rand>` and `kp-<prefix>c-<rand>`. */
export function createVethLab(prefix: string): VethLab {
  const node = createNetns(`${prefix}n`);
  let client: TestNetns | undefined;
  const servers: ChildProcess[] = [];
  try {
    client = createNetns(`${prefix}c`);
    const c = client;
    node.exec("ip", ["link", "add", "kpn0", "type", "veth", "peer", "name", "kpc0"]);
    node.exec("ip", ["link", "set", "kpc0", "netns", c.name]);
    node.exec("ip", ["addr", "add", "10.77.0.1/24", "dev", "kpn0"]);
    node.exec("ip", ["link", "set", "kpn0", "up"]);
    c.exec("ip", ["addr", "add", "10.77.0.2/24", "dev", "kpc0"]);
    c.exec("ip", ["link", "set", "kpc0", "up"]);
    c.exec("ip", ["route", "add", "10.96.0.0/16", "via", "10.77.0.1"]);
  } catch (err) {
    node.delete();
    client?.delete();
    throw err;
  }
  const clientNs = client;
  return {
    node,
    client: clientNs,
    nodeIP: "10.77.0.1",
    clientIP: "10.77.0.2",
    async serve(protocol, port, reply) {
      const child = spawn(
        "ip",
        [
          "netns",
          "exec",
          node.name,
          process.execPath,
          "-e",
          serverCode,
          protocol,
          "10.77.0.1",
          String(port),
          reply,
        ],
        {
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      servers.push(child);
      const [chunk] = (await once(child.stdout, "data")) as [Buffer];
      if (!chunk.toString().includes("ready"))
        throw new Error(`Cannot start the ${protocol} server on port ${port}`);
    },
    async ask(protocol, ip, port, options = {}) {
      const child = spawn(
        "ip",
        [
          "netns",
          "exec",
          clientNs.name,
          process.execPath,
          "-e",
          clientCode,
          protocol,
          ip,
          String(port),
          String(options.sourcePort ?? 0),
          String(options.timeoutMs ?? 1500),
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      await once(child, "exit");
      return out;
    },
    close() {
      for (const s of servers) if (s.pid !== undefined && s.exitCode === null) s.kill("SIGKILL");
      clientNs.delete();
      node.delete();
    },
  };
}
