import type { Executor } from "../../../sys/executor.ts";
import { RestoreSimulator } from "./restore-simulator.ts";

/**
 * An Executor that plays `iptables-*-restore` and `iptables-*-save` against a RestoreSimulator
 * (built-in chains pre-created), for pure tests of the applier and cleanup. Every other command
 * succeeds and prints nothing. `calls` records what ran.
 */
export function simulatedIptables(): { executor: Executor; sim: RestoreSimulator; calls: string[] } {
  const sim = new RestoreSimulator();
  sim.apply(
    "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n" +
      "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n",
  );
  const calls: string[] = [];
  const executor: Executor = {
    run: async (file, args, options) => {
      calls.push([file, ...args].join(" "));
      if (/^ip(6)?tables-(nft|legacy)-save$/.test(file)) return { code: 0, stdout: sim.dump(), stderr: "" };
      if (/^ip(6)?tables-(nft|legacy)-restore$/.test(file)) {
        try {
          sim.apply((options?.input ?? "").replace(/^-Z\n/gm, ""));
          return { code: 0, stdout: "", stderr: "" };
        } catch (err) {
          return { code: 1, stdout: "", stderr: `${file}: ${(err as Error).message}` };
        }
      }
      if (/^ip(6)?tables-(nft|legacy)$/.test(file)) {
        // `-t <table> -S <chain>`: succeeds when the chain exists.
        const table = args[args.indexOf("-t") + 1] ?? "filter";
        const chain = args[args.indexOf("-S") + 1] ?? "";
        return sim.rules(table, chain) === undefined
          ? { code: 1, stdout: "", stderr: "No chain/target/match by that name." }
          : { code: 0, stdout: `-N ${chain}\n`, stderr: "" };
      }
      return { code: 0, stdout: "", stderr: "" };
    },
  };
  return { executor, sim, calls };
}
