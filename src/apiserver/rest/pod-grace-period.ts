import type { KubeObject } from "../registry/resource-strategy.ts";

/**
 * How long a deleted Pod stays terminating, by upstream's rule: an explicit `gracePeriodSeconds`
 * wins; a Pod that was never scheduled or has finished goes at once; otherwise its
 * `terminationGracePeriodSeconds` (default 30).
 */
export function podGracePeriodSeconds(pod: KubeObject, requested: number | undefined): number {
  if (requested !== undefined) return Math.max(0, requested);
  const spec = pod.spec as { nodeName?: string; terminationGracePeriodSeconds?: number } | undefined;
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  if ((spec?.nodeName ?? "") === "" || phase === "Succeeded" || phase === "Failed") return 0;
  return spec?.terminationGracePeriodSeconds ?? 30;
}
