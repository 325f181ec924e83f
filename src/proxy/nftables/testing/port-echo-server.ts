// A backend for the nftables benchmark, run inside a pod namespace: listens on each port given
// on the command line and answers every connection with that port number, then closes.
import { createServer } from "node:net";

for (const port of process.argv.slice(2).map(Number)) {
  createServer((socket) => {
    socket.on("error", () => {});
    socket.end(`${port}\n`);
  }).listen(port, "0.0.0.0");
}
