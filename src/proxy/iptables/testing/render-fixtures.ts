import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { KubernetesObject } from "@kubernetes/client-node";
import { defaultProxyConfig } from "../../../config/defaults.ts";
import type { ProxyConfig } from "../../../config/proxy-config.ts";
import type { NodeInfo } from "../../../model/node-info.ts";
import { proxyStateFromObjects } from "../../../model/proxy-state-from-objects.ts";
import type { ProxyState } from "../../../model/proxy-state.ts";
import type { IPFamily } from "../../../model/protocol.ts";
import type { KernelFeatures } from "../../kernel-features.ts";
import { applyConformanceSettings, parseRenderInput } from "../../render-input.ts";

/** The repository's `test/conformance/upstream/` folder. */
export const upstreamConformanceDir = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "..",
  "test",
  "conformance",
  "upstream",
);

const emptyNode: NodeInfo = {
  name: "",
  labels: {},
  nodeIPs: [],
  podCIDRs: [],
  localAddresses: [],
  deleting: false,
};

/** A conformance case's state, configuration and features, as `kproxy render` reads them. */
export interface RenderFixture {
  readonly objects: KubernetesObject[];
  readonly state: ProxyState;
  readonly config: ProxyConfig;
  readonly features: KernelFeatures;
  readonly node: NodeInfo;
  readonly family: IPFamily;
}

/** Loads `<name>.input.yaml` from the upstream conformance folder. */
export function loadConformanceFixture(name: string): RenderFixture {
  const text = readFileSync(join(upstreamConformanceDir, `${name}.input.yaml`), "utf8");
  const input = parseRenderInput(text, `${name}.input.yaml`);
  const s = applyConformanceSettings(input.settings, { config: defaultProxyConfig, node: emptyNode });
  return { objects: input.objects, ...fixtureState(input.objects, s) };
}

/** Builds the state of `objects` with given settings (e.g. a fixture's, modified). */
export function fixtureState(
  objects: readonly KubernetesObject[],
  s: {
    config: ProxyConfig;
    node: NodeInfo;
    features: KernelFeatures;
    family: IPFamily;
    serviceCIDRs?: readonly string[];
  },
): Omit<RenderFixture, "objects"> {
  const { state } = proxyStateFromObjects(objects, {
    family: s.family,
    node: s.node,
    serviceCIDRs: s.serviceCIDRs ?? [],
  });
  return { state, config: s.config, features: s.features, node: s.node, family: s.family };
}

/** Reads `<name>.expected.txt`. */
export function expectedConformanceOutput(name: string): string {
  return readFileSync(join(upstreamConformanceDir, `${name}.expected.txt`), "utf8");
}
