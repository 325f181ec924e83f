import {
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  type V1EndpointSlice,
  type V1Namespace,
  type V1Pod,
  type V1Service,
} from "@kubernetes/client-node";
import { ObjectSource } from "../sources/object-source.ts";
import type { Logger } from "../sys/logger.ts";
import type { DnsIndex } from "./dns-index.ts";
import type { DnsMetrics } from "./dns-metrics.ts";

/** The informers feeding the DNS index. */
export interface DnsSources {
  /** Resolves once every informer has delivered its first full list. */
  start(): Promise<void>;
  hasSynced(): boolean;
  stop(): void;
}

const triggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time";

/**
 * Watches what cluster DNS answers from: every Service and EndpointSlice (headless ones included,
 * unlike the proxy's own watches), Namespaces, and with `watchPods` every Pod. Each event updates
 * the index at once; after the first lists, it also records how long each change took to become
 * answerable.
 */
export function createDnsSources(options: {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  readonly index: DnsIndex;
  readonly metrics: DnsMetrics;
  readonly watchPods: boolean;
  readonly now?: () => number;
}): DnsSources {
  const { index, metrics, kubeConfig, logger } = options;
  const now = options.now ?? Date.now;
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
  let synced = false;

  const kindOf = (namespace: string, name: string): string => {
    const spec = index.service(namespace, name)?.spec;
    if (spec?.type === "ExternalName") return "external_name";
    return spec?.clusterIP === "None" ? "headless" : "cluster_ip";
  };
  const observe = (since: string | Date | undefined, kind: string): void => {
    if (!synced || since === undefined) return;
    const t = since instanceof Date ? since.getTime() : Date.parse(since);
    if (Number.isNaN(t)) return;
    metrics.programming.observe({ service_kind: kind }, Math.max(0, now() - t) / 1000);
  };
  const sliceChanged = (slice: V1EndpointSlice): void => {
    index.upsertEndpointSlice(slice);
    const service = slice.metadata?.labels?.["kubernetes.io/service-name"] ?? "";
    observe(
      slice.metadata?.annotations?.[triggerTimeAnnotation],
      kindOf(slice.metadata?.namespace ?? "", service),
    );
  };

  const services = new ObjectSource<V1Service>({
    kubeConfig,
    path: "/api/v1/services",
    list: () => core.listServiceForAllNamespaces(),
    logger,
    handlers: {
      add: (svc) => {
        index.upsertService(svc);
        observe(
          svc.metadata?.creationTimestamp,
          kindOf(svc.metadata?.namespace ?? "", svc.metadata?.name ?? ""),
        );
      },
      update: (_previous, svc) => index.upsertService(svc),
      delete: (svc) => index.deleteService(svc),
    },
  });
  const endpointSlices = new ObjectSource<V1EndpointSlice>({
    kubeConfig,
    path: "/apis/discovery.k8s.io/v1/endpointslices",
    list: () => discovery.listEndpointSliceForAllNamespaces(),
    logger,
    handlers: {
      add: sliceChanged,
      update: (_previous, slice) => sliceChanged(slice),
      delete: (slice) => index.deleteEndpointSlice(slice),
    },
  });
  const namespaces = new ObjectSource<V1Namespace>({
    kubeConfig,
    path: "/api/v1/namespaces",
    list: () => core.listNamespace(),
    logger,
    handlers: {
      add: (ns) => index.upsertNamespace(ns),
      update: (_previous, ns) => index.upsertNamespace(ns),
      delete: (ns) => index.deleteNamespace(ns),
    },
  });
  const pods = options.watchPods
    ? new ObjectSource<V1Pod>({
        kubeConfig,
        path: "/api/v1/pods",
        list: () => core.listPodForAllNamespaces(),
        logger,
        handlers: {
          add: (pod) => index.upsertPod(pod),
          update: (previous, pod) => index.upsertPod(pod, previous),
          delete: (pod) => index.deletePod(pod),
        },
      })
    : undefined;
  const all = [services, endpointSlices, namespaces, ...(pods ? [pods] : [])];
  return {
    async start() {
      await Promise.all(all.map((s) => s.start()));
      synced = all.every((s) => s.hasSynced());
    },
    hasSynced: () => synced,
    stop() {
      for (const s of all) s.stop();
    },
  };
}
