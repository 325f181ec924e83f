/** What a long-running command waits on: the first SIGINT or SIGTERM. */
export interface StopSignal {
  /** Aborted when the signal arrives (start-up in progress gives up). */
  readonly signal: AbortSignal;
  /** Resolves with the signal's name; the handlers are removed, so a second signal kills as usual. */
  readonly stopped: Promise<NodeJS.Signals>;
}

/** Listens for SIGINT and SIGTERM once, for the commands that run until one of them arrives. */
export function stopSignal(): StopSignal {
  const controller = new AbortController();
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      controller.abort();
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  return { signal: controller.signal, stopped };
}
