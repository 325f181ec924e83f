import type { Logger } from "../sys/logger.ts";

// The manifest applier is built by the apiserver helper in parallel. It is loaded on demand, typed
// here after CONTRACTS.md, so that `kproxy run` works without it until asked for.

/** `.ts` when running the sources, `.js` when running the compiled `dist/`. */
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

/** Applies manifests to the embedded API server and re-applies them on change (`src/apiserver/manifests.ts`). */
export async function startOptionalManifests(options: {
  url: string;
  token?: string;
  paths: readonly string[];
  logger: Logger;
}): Promise<{ close(): void }> {
  const specifier = `../apiserver/manifests${ext}`;
  const mod = (await import(specifier)) as {
    applyManifests(o: {
      url: string;
      token?: string;
      paths: readonly string[];
      watch: boolean;
      logger: Logger;
    }): Promise<{ close(): void }>;
  };
  return mod.applyManifests({ ...options, watch: true });
}
