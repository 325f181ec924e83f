import { pino, type Logger } from "pino";

export type { Logger };

/**
 * Creates kproxy's structured logger (JSON lines on stderr). `verbosity` follows kube-proxy's
 * `--v`: 0 info, 1-3 debug, 4+ trace. `KPROXY_LOG_LEVEL` overrides (e.g. `silent` in tests).
 */
export function createLogger(verbosity = 0, name = "kproxy"): Logger {
  const level =
    process.env["KPROXY_LOG_LEVEL"] ?? (verbosity >= 4 ? "trace" : verbosity >= 1 ? "debug" : "info");
  return pino({ name, level, base: { pid: process.pid } }, pino.destination(2));
}

/** A logger that discards everything, for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
