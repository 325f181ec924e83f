import { readFileSync } from "node:fs";
import { join } from "node:path";
import { defaultProxyConfig } from "../../../config/defaults.ts";
import type { ProxyConfig } from "../../../config/proxy-config.ts";
import { proxyStateFromObjects } from "../../../model/proxy-state-from-objects.ts";
import type { ProxyState } from "../../../model/proxy-state.ts";
import { applyConformanceSettings, parseRenderInput } from "../../render-input.ts";

/** Where upstream's conformance inputs and expectations live. */
export const upstreamConformanceDir = join(import.meta.dirname, "../../../../test/conformance/upstream");

/** Loads an upstream conformance input as kproxy's state and configuration. */
export function loadConformanceInput(
  name: string,
  layout: "kproxy" | "upstream",
): { state: ProxyState; config: ProxyConfig } {
  const read = (file: string): ReturnType<typeof parseRenderInput> =>
    parseRenderInput(readFileSync(join(upstreamConformanceDir, `${file}.input.yaml`), "utf8"), file);
  const input = read(name);
  // nftables-repeated-step1 states in its header that its settings are nftables-overall's.
  const settings =
    Object.keys(input.settings).length > 0 ? input.settings : read("nftables-overall").settings;
  const base = {
    config: { ...defaultProxyConfig, mode: "nftables" as const },
    node: { name: "", labels: {}, nodeIPs: [], podCIDRs: [], localAddresses: [], deleting: false },
  };
  const applied = applyConformanceSettings(settings, base);
  const config: ProxyConfig = { ...applied.config, nftables: { ...applied.config.nftables, layout } };
  const { state } = proxyStateFromObjects(input.objects, {
    family: applied.family,
    node: applied.node,
    serviceCIDRs: applied.serviceCIDRs,
  });
  return { state, config };
}
