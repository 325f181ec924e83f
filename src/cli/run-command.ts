import { stopSignal } from "../sys/stop-signal.ts";
import { writeFileSync } from "node:fs";
import { Command } from "commander";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../sys/logger.ts";
import { createLogger } from "../sys/logger.ts";
import {
  addConfigOptions,
  addEmbeddedServerOptions,
  configFromFlags,
  type ConfigFlagValues,
} from "./config-options.ts";
import { runProxy, type ApiServerExtras } from "./run-proxy.ts";

interface RunFlags extends ConfigFlagValues {
  listenSocket?: string;
  tokenFile?: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
}

/**
 * `kproxy run`: the Service proxy. Runs until SIGTERM or SIGINT, then stops cleanly (exit 0)
 * leaving the programmed rules in place, as kube-proxy does.
 */
export function runCommand(): Command {
  const cmd = new Command("run").description(
    "Run the Service proxy: watch Services and EndpointSlices (from --kubeconfig/--master, or an embedded API server) and program this node",
  );
  addConfigOptions(cmd);
  addEmbeddedServerOptions(cmd);
  cmd.addHelpText(
    "after",
    `
Examples:
  kproxy run --proxy-mode userspace --manifests examples/ --listen 127.0.0.1:0
  kproxy run --config kube-proxy.yaml --kubeconfig ~/.kube/config --hostname-override node-1`,
  );
  return cmd.action(async (flags: RunFlags) => {
    const config = configFromFlags(flags);
    const logger = createLogger(config.verbosity);
    applyOomScoreAdj(config.oomScoreAdj, logger);
    const { signal: stopping, stopped } = stopSignal();
    const extras: ApiServerExtras = {
      ...(flags.listenSocket !== undefined ? { socketPath: flags.listenSocket } : {}),
      ...(flags.tokenFile !== undefined ? { tokenFile: flags.tokenFile } : {}),
      ...(flags.tlsCertFile !== undefined ? { tlsCertFile: flags.tlsCertFile } : {}),
      ...(flags.tlsPrivateKeyFile !== undefined ? { tlsKeyFile: flags.tlsPrivateKeyFile } : {}),
    };
    let running;
    try {
      running = await runProxy(config, { logger, apiServerExtras: extras, signal: stopping });
    } catch (err) {
      // A signal during start-up is a clean stop, not a failure.
      if (stopping.aborted) return;
      throw err;
    }
    const lines = [
      `kproxy: mode ${running.mode} on node ${running.nodeName}`,
      ...(running.apiServer ? [`kproxy: API server ${running.apiServer.url}`] : []),
      ...(running.healthzAddress ? [`kproxy: healthz ${running.healthzAddress}`] : []),
      ...(running.metricsAddress ? [`kproxy: metrics ${running.metricsAddress}`] : []),
      ...(running.dnsAddress ? [`kproxy: dns ${running.dnsAddress}`] : []),
      "kproxy: ready",
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    const signal = await stopped;
    logger.info({ signal }, "stopping; rules stay in place");
    await running.close();
  });
}

/**
 * Sets this process's OOM score adjustment (`oomScoreAdj`, default -999) as kube-proxy does, so
 * that the kernel kills other processes before the node's proxy. Best effort: lowering it needs
 * root (CAP_SYS_RESOURCE); without it kproxy keeps running with a note in the log.
 */
function applyOomScoreAdj(value: number, logger: Logger): void {
  try {
    writeFileSync("/proc/self/oom_score_adj", String(value));
  } catch (err) {
    logger.debug({ value, err: errorMessage(err) }, "cannot set oom_score_adj; leaving it as it is");
  }
}
