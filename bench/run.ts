// Runs the benchmarks: every bench/*.bench.ts, or those named on the command line
// (`npm run bench -- userspace dns`). Each prints its table and writes JSON to bench/results/.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const dir = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();
if (files.length === 0) {
  console.error(`No benchmark matches ${wanted.join(", ") || "bench/*.bench.ts"}.`);
  process.exit(2);
}
let failed = 0;
for (const f of files) {
  console.log(`\n# ${f}`);
  const r = spawnSync(process.execPath, [join(dir, f)], { stdio: "inherit" });
  if (r.status !== 0) {
    failed++;
    console.error(`${f} failed with exit code ${r.status ?? r.signal}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
