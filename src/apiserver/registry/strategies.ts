import { endpointSliceStrategy } from "./endpoint-slice-strategy.ts";
import { eventStrategy } from "./event-strategy.ts";
import { namespaceStrategy } from "./namespace-strategy.ts";
import { nodeStrategy } from "./node-strategy.ts";
import { podStrategy } from "./pod-strategy.ts";
import type { ResourceStrategy } from "./resource-strategy.ts";
import { serviceStrategy } from "./service-strategy.ts";

/**
 * Every resource the embedded API server serves: core/v1 namespaces, services, pods, nodes and
 * events, and discovery.k8s.io/v1 endpointslices. A fresh set per call (strategies hold no state).
 */
export function builtinStrategies(): ResourceStrategy[] {
  return [
    namespaceStrategy(),
    serviceStrategy(),
    podStrategy(),
    nodeStrategy(),
    eventStrategy(),
    endpointSliceStrategy(),
  ];
}
