/**
 * The backend every pod runs (`ip netns exec <pod> node name-server.ts NAME TCP_PORTS UDP_PORTS`):
 * answers, over TCP and UDP, its own name and the source address it saw, as one JSON line
 * (`{"name":"n1-pod1","source":"10.180.0.100","port":80}`), so that a test knows which endpoint
 * a Service chose and whether the packet was masqueraded. TCP answers on accept and closes; UDP
 * answers each datagram. Prints `ready` once every socket is bound.
 */
import { createSocket } from "node:dgram";
import { createServer } from "node:net";

/** What a backend answers. */
export interface NameAnswer {
  readonly name: string;
  /** Source address of the connection or datagram, as the backend saw it. */
  readonly source: string;
  /** The port it was received on. */
  readonly port: number;
}

function ports(text: string | undefined): number[] {
  return (text ?? "")
    .split(",")
    .filter((s) => s !== "")
    .map(Number);
}

async function main(argv: readonly string[]): Promise<void> {
  const [name, tcpText, udpText] = argv;
  if (name === undefined) throw new Error("usage: name-server.ts NAME TCP_PORTS UDP_PORTS (comma-separated)");
  const listening: Promise<void>[] = [];
  for (const port of ports(tcpText)) {
    const server = createServer((socket) => {
      socket.on("error", () => {});
      const answer: NameAnswer = { name, source: socket.remoteAddress ?? "", port };
      socket.end(`${JSON.stringify(answer)}\n`);
    });
    listening.push(
      new Promise((resolve, reject) => server.once("error", reject).listen(port, "0.0.0.0", resolve)),
    );
  }
  for (const port of ports(udpText)) {
    const socket = createSocket("udp4");
    socket.on("message", (_msg, rinfo) => {
      const answer: NameAnswer = { name, source: rinfo.address, port };
      socket.send(`${JSON.stringify(answer)}\n`, rinfo.port, rinfo.address);
    });
    listening.push(
      new Promise((resolve, reject) => socket.once("error", reject).bind(port, "0.0.0.0", resolve)),
    );
  }
  await Promise.all(listening);
  process.stdout.write("ready\n");
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`name-server: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
