// A client run inside a test namespace (`ip netns exec NS node connect-probe.ts …`) by the
// nftables benchmark. Two modes:
//   latency HOST PORT COUNT        sequential new connections, each reset right after the
//                                  handshake (no TIME_WAIT); prints {"samplesUs": [...]}
//   watch HOST PORT EXPECTED MS    connects again and again until the reply is EXPECTED; prints
//                                  {"atMs": <epoch ms of the first such reply>}
import { connect } from "node:net";

function once(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const socket = connect({ host, port });
    socket.once("connect", () => {
      const us = Number(process.hrtime.bigint() - start) / 1000;
      socket.resetAndDestroy();
      resolve(us);
    });
    socket.once("error", reject);
  });
}

function reply(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let text = "";
    socket.setTimeout(200, () => socket.destroy());
    socket.on("data", (b: Buffer) => (text += b.toString()));
    socket.on("close", () => resolve(text.trim()));
    socket.on("error", () => resolve(""));
  });
}

const [mode, host = "", portText = "0", arg = "", timeoutText = "10000"] = process.argv.slice(2);
const port = Number(portText);
if (mode === "latency") {
  const count = Number(arg);
  for (let i = 0; i < 20; i++) await once(host, port);
  const samplesUs: number[] = [];
  for (let i = 0; i < count; i++) samplesUs.push(await once(host, port));
  process.stdout.write(JSON.stringify({ samplesUs }) + "\n");
} else if (mode === "watch") {
  const deadline = Date.now() + Number(timeoutText);
  process.stdout.write("ready\n");
  for (;;) {
    const text = await reply(host, port);
    if (text === arg) {
      process.stdout.write(JSON.stringify({ atMs: performance.timeOrigin + performance.now() }) + "\n");
      break;
    }
    if (Date.now() > deadline) {
      process.stdout.write(JSON.stringify({ atMs: null }) + "\n");
      break;
    }
  }
} else {
  process.stderr.write(
    "usage: connect-probe.ts latency HOST PORT COUNT | watch HOST PORT EXPECTED TIMEOUT_MS\n",
  );
  process.exitCode = 2;
}
