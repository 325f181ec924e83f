import {
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../sys/logger.ts";

/** Handlers of object events. `update` carries the previous object as the informer last saw it. */
export interface ObjectHandlers<T extends KubernetesObject> {
  add?(obj: T): void;
  update?(previous: T, current: T): void;
  delete?(obj: T): void;
}

/**
 * A list+watch of one resource through `@kubernetes/client-node` (an informer), that relists and
 * resumes on its own after any error with exponential back-off (1 s to 30 s). A watch that resumes
 * from a resourceVersion the server no longer has gets `410 Gone` and relists; objects that vanished
 * meanwhile are reported as deletions, so no state is lost or duplicated.
 */
export class ObjectSource<T extends KubernetesObject> {
  readonly #resource: string;
  readonly #informer: ListWatch<T>;
  readonly #logger: Logger;
  readonly #known = new Map<string, T>();
  #synced = false;
  #stopped = false;
  #retryMs = 1000;
  #retryTimer: NodeJS.Timeout | undefined;
  #syncWaiters: Array<() => void> = [];

  constructor(options: {
    readonly kubeConfig: KubeConfig;
    /** API path, e.g. `/api/v1/services`. */
    readonly path: string;
    readonly list: () => Promise<KubernetesListObject<T>>;
    readonly handlers: ObjectHandlers<T>;
    readonly logger: Logger;
    readonly labelSelector?: string;
    readonly fieldSelector?: string;
  }) {
    this.#resource = options.path;
    this.#logger = options.logger;
    // A list that ends after stop() must deliver nothing and must not go on to open a watch:
    // failing it ends the informer's start (its error is ignored once stopped).
    const list = async (): Promise<KubernetesListObject<T>> => {
      const result = await options.list();
      if (this.#stopped) throw new Error(`list of ${options.path} ended after the source stopped`);
      return result;
    };
    this.#informer = new ListWatch<T>(
      options.path,
      new Watch(options.kubeConfig),
      list,
      false,
      options.labelSelector,
      options.fieldSelector,
    );
    const keyOf = (o: T): string => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
    this.#informer.on("add", (obj) => {
      const key = keyOf(obj);
      const previous = this.#known.get(key);
      this.#known.set(key, obj);
      // After a relist the informer may report as added an object we already knew.
      if (previous === undefined) options.handlers.add?.(obj);
      else options.handlers.update?.(previous, obj);
    });
    this.#informer.on("update", (obj) => {
      const key = keyOf(obj);
      const previous = this.#known.get(key);
      this.#known.set(key, obj);
      if (previous === undefined) options.handlers.add?.(obj);
      else options.handlers.update?.(previous, obj);
    });
    this.#informer.on("delete", (obj) => {
      const key = keyOf(obj);
      const previous = this.#known.get(key) ?? obj;
      this.#known.delete(key);
      options.handlers.delete?.(previous);
    });
    this.#informer.on("error", (err: unknown) => {
      if (this.#stopped) return;
      this.#logger.warn(
        { resource: this.#resource, err: errorMessage(err), retryMs: this.#retryMs },
        "watch failed; will relist",
      );
      this.#scheduleRestart();
    });
  }

  /** Starts listing and watching. Resolves after the first full list has been delivered. */
  async start(): Promise<void> {
    this.#stopped = false;
    void this.#run();
    if (this.#synced) return;
    await new Promise<void>((resolve) => this.#syncWaiters.push(resolve));
  }

  /** True once the first full list has been delivered. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Every object currently known. */
  list(): T[] {
    return [...this.#known.values()];
  }

  stop(): void {
    this.#stopped = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    void this.#informer.stop();
    for (const w of this.#syncWaiters) w();
    this.#syncWaiters = [];
  }

  async #run(): Promise<void> {
    let failed = false;
    const onError = (): void => {
      failed = true;
    };
    this.#informer.on("error", onError);
    try {
      await this.#informer.start();
    } catch (err) {
      failed = true;
      this.#logger.warn(
        { resource: this.#resource, err: errorMessage(err) },
        "list/watch could not start; will retry",
      );
      this.#scheduleRestart();
    } finally {
      this.#informer.off("error", onError);
    }
    // stop() while the watch was connecting could not abort it (the informer did not hold the
    // request yet): stop again now that it does.
    if (this.#stopped) void this.#informer.stop();
    if (failed || this.#stopped) return;
    this.#retryMs = 1000;
    if (!this.#synced) {
      this.#synced = true;
      for (const w of this.#syncWaiters) w();
      this.#syncWaiters = [];
    }
  }

  #scheduleRestart(): void {
    if (this.#stopped || this.#retryTimer) return;
    const delay = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, 30_000);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#run();
    }, delay);
  }
}
