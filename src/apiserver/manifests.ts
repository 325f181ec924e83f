import { watch as watchPath, type FSWatcher, statSync } from "node:fs";
import { basename, dirname } from "node:path";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../sys/logger.ts";
import { applyObject } from "./manifests/apply-object.ts";
import { readManifests } from "./manifests/read-manifests.ts";
import { discoverResources } from "./manifests/resource-mapping.ts";
import { RestClient } from "./manifests/rest-client.ts";

/** How long file changes settle before the manifests are applied again. */
const settleMs = 200;

/** Applies every manifest once; problems are logged with their file and object, never thrown. */
async function applyAll(client: RestClient, paths: readonly string[], logger: Logger): Promise<void> {
  const { objects, problems } = readManifests(paths);
  for (const p of problems) logger.warn({ file: p.file }, `manifest skipped: ${p.message}`);
  let mapping;
  try {
    mapping = await discoverResources(client);
  } catch (err) {
    logger.warn(
      { err: errorMessage(err) },
      "cannot apply manifests: the API server did not answer discovery",
    );
    return;
  }
  for (const { file, object } of objects) {
    const what = `${object.kind} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ""}${object.metadata?.name}`;
    const target = mapping.get(`${object.apiVersion}/${object.kind}`);
    if (target === undefined) {
      logger.warn(
        { file, object: what },
        `manifest object skipped: the server does not serve ${object.apiVersion} ${object.kind}`,
      );
      continue;
    }
    try {
      const outcome = await applyObject(client, target, object);
      if (outcome !== "unchanged") logger.info({ file, object: what }, `manifest object ${outcome}`);
    } catch (err) {
      logger.warn({ file, object: what }, `manifest object not applied: ${errorMessage(err)}`);
    }
  }
}

/**
 * Applies YAML files/folders (create-or-update, like kubectl apply) and, with `watch`, applies
 * them again whenever they change. Resolves after the first pass; `close()` stops watching.
 */
export async function applyManifests(options: {
  url: string;
  token?: string;
  paths: readonly string[];
  watch: boolean;
  logger: Logger;
}): Promise<{ close(): void }> {
  const { logger, paths } = options;
  const client = new RestClient(options.url, options.token);
  await applyAll(client, paths, logger);
  if (!options.watch) return { close() {} };

  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  const run = (): void => {
    timer = undefined;
    if (closed) return;
    if (running !== undefined) {
      again = true;
      return;
    }
    running = applyAll(client, paths, logger).finally(() => {
      running = undefined;
      if (again) {
        again = false;
        run();
      }
    });
  };
  const changed = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(run, settleMs);
  };
  for (const path of paths) {
    try {
      // Editors replace files by renaming: watch the folder, not the file itself.
      const isDir = statSync(path).isDirectory();
      const dir = isDir ? path : dirname(path);
      const only = isDir ? undefined : basename(path);
      watchers.push(
        watchPath(dir, (_event, name) => {
          if (only === undefined || name === only) changed();
        }),
      );
    } catch (err) {
      logger.warn({ file: path }, `cannot watch manifests for changes: ${errorMessage(err)}`);
    }
  }
  return {
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
