import {
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  type V1EndpointSlice,
  type V1Node,
  type V1Service,
} from "@kubernetes/client-node";
import type { Logger } from "../sys/logger.ts";
import { ObjectSource, type ObjectHandlers } from "./object-source.ts";

/** Label the proxy uses to skip headless services' slices, as kube-proxy does. */
export const labelHeadless = "service.kubernetes.io/headless";

/** The three watches a Service proxy needs: Services, EndpointSlices, and this node's Node. */
export interface ProxySources {
  readonly services: ObjectSource<V1Service>;
  readonly endpointSlices: ObjectSource<V1EndpointSlice>;
  /** Undefined when no node name is known (then node-dependent features use defaults). */
  readonly node: ObjectSource<V1Node> | undefined;
  /** Resolves once every source has delivered its first full list. */
  start(): Promise<void>;
  stop(): void;
}

/**
 * Creates the informers kube-proxy runs: Services and EndpointSlices in every namespace
 * (skipping those labelled `service.kubernetes.io/service-proxy-name` and headless slices, with
 * the same label selectors as kube-proxy), and the Node named `nodeName`.
 */
export function createProxySources(options: {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  readonly nodeName: string;
  readonly services: ObjectHandlers<V1Service>;
  readonly endpointSlices: ObjectHandlers<V1EndpointSlice>;
  readonly node?: ObjectHandlers<V1Node>;
}): ProxySources {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const discovery = options.kubeConfig.makeApiClient(DiscoveryV1Api);
  const serviceSelector = "!service.kubernetes.io/service-proxy-name";
  const sliceSelector = `!service.kubernetes.io/service-proxy-name,!${labelHeadless}`;
  const services = new ObjectSource<V1Service>({
    kubeConfig: options.kubeConfig,
    path: "/api/v1/services",
    list: () => core.listServiceForAllNamespaces({ labelSelector: serviceSelector }),
    handlers: options.services,
    logger: options.logger,
    labelSelector: serviceSelector,
  });
  const endpointSlices = new ObjectSource<V1EndpointSlice>({
    kubeConfig: options.kubeConfig,
    path: "/apis/discovery.k8s.io/v1/endpointslices",
    list: () => discovery.listEndpointSliceForAllNamespaces({ labelSelector: sliceSelector }),
    handlers: options.endpointSlices,
    logger: options.logger,
    labelSelector: sliceSelector,
  });
  const fieldSelector = `metadata.name=${options.nodeName}`;
  const node =
    options.nodeName === ""
      ? undefined
      : new ObjectSource<V1Node>({
          kubeConfig: options.kubeConfig,
          path: "/api/v1/nodes",
          list: () => core.listNode({ fieldSelector }),
          handlers: options.node ?? {},
          logger: options.logger,
          fieldSelector,
        });
  return {
    services,
    endpointSlices,
    node,
    async start() {
      await Promise.all([services.start(), endpointSlices.start(), node?.start()]);
    },
    stop() {
      services.stop();
      endpointSlices.stop();
      node?.stop();
    },
  };
}
