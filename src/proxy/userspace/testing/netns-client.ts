// Runs inside a test's client network namespace: `tcp IP PORT COUNT` connects COUNT times and
// prints the names read (or the error code); `udp IP PORT COUNT` does the same with datagrams.
import { fetchName, udpRequest } from "./fixtures.ts";

const [kind, ip = "", portText = "0", countText = "1"] = process.argv.slice(2);
const results: string[] = [];
for (let i = 0; i < Number(countText); i++) {
  try {
    results.push(
      kind === "udp"
        ? await udpRequest(ip, Number(portText), `q${i}`, 1000)
        : await fetchName(ip, Number(portText)),
    );
  } catch (err) {
    results.push(`error:${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
process.stdout.write(`${JSON.stringify(results)}\n`);
