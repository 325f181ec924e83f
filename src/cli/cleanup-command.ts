import { Command } from "commander";
import { Registry } from "prom-client";
import { defaultProxyConfig } from "../config/defaults.ts";
import type { ProxyMode } from "../config/proxy-config.ts";
import { errorMessage, ProxyError, UsageError } from "../errors.ts";
import { availableModes, proxierFactories } from "../proxy/mode-registry.ts";
import { systemClock } from "../sys/clock.ts";
import { createExecutor } from "../sys/executor.ts";
import { createLogger } from "../sys/logger.ts";

/**
 * `kproxy cleanup`: removes everything kproxy installed, for one mode or for every built mode
 * (each mode's `Proxier.cleanup()`, which only touches kproxy's own chains, tables and sockets).
 */
export function cleanupCommand(): Command {
  return new Command("cleanup")
    .description("Remove every rule, table and listener kproxy installed (one mode, or every built mode)")
    .option("--proxy-mode <mode>", "clean up only this mode (default: every built mode)")
    .option("--v <n>", "log verbosity: 0 info, 1-3 debug, 4+ trace (default 0)")
    .action(async (flags: { proxyMode?: string; v?: string }) => {
      const logger = createLogger(Number(flags.v ?? 0) || 0);
      const built = availableModes();
      if (flags.proxyMode !== undefined && !built.includes(flags.proxyMode as ProxyMode)) {
        throw new UsageError(
          `Cannot clean up proxy mode ${JSON.stringify(flags.proxyMode)}: it is not built; available modes: ${built.length > 0 ? built.join(", ") : "none"}`,
        );
      }
      const modes = flags.proxyMode !== undefined ? [flags.proxyMode as ProxyMode] : built;
      const failures: string[] = [];
      for (const mode of modes) {
        const load = proxierFactories[mode];
        if (load === undefined) continue;
        try {
          const factory = await load();
          const proxier = await factory({
            config: { ...defaultProxyConfig, mode },
            executor: createExecutor(),
            logger: logger.child({ component: mode }),
            metrics: new Registry(),
            clock: systemClock,
          });
          try {
            await proxier.cleanup();
          } finally {
            await proxier.close();
          }
          process.stdout.write(`kproxy cleanup: ${mode}: done\n`);
        } catch (err) {
          failures.push(`${mode}: ${errorMessage(err)}`);
        }
      }
      if (failures.length > 0) {
        throw new ProxyError(
          "KPROXY_COMMAND_FAILED",
          `Cannot clean up every mode:\n  ${failures.join("\n  ")}`,
        );
      }
    });
}
