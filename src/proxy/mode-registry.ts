import type { ProxyConfig, ProxyMode } from "../config/proxy-config.ts";
import type { ProxyState } from "../model/proxy-state.ts";
import type { KernelFeatures } from "./kernel-features.ts";
import type { ProxierFactory } from "./proxier.ts";

/**
 * The proxy modes that are built, each loaded on first use so that a mode's dependencies cost
 * nothing to the others. A mode missing here makes `--proxy-mode` fail with exit code 2 and the
 * list of these modes.
 */
export const proxierFactories: Partial<Record<ProxyMode, () => Promise<ProxierFactory>>> = {
  // Each mode adds its line when it is built, e.g.:
  // iptables: async () => (await import("./iptables/iptables-proxier.ts")).createIptablesProxier,
  iptables: async () => (await import("./iptables/iptables-proxier.ts")).createIptablesProxier,
  nftables: async () => (await import("./nftables/nftables-proxier.ts")).createNftablesProxier,
  userspace: async () => (await import("./userspace/userspace-proxier.ts")).createUserspaceProxier,
};

/** Pure renderer of a mode: what it would program for a state, as text (`kproxy render`). */
export type ModeRenderer = (state: ProxyState, config: ProxyConfig, features: KernelFeatures) => string;

/** Modes whose rules `kproxy render` can print. */
export const modeRenderers: Partial<Record<ProxyMode, () => Promise<ModeRenderer>>> = {
  // e.g. iptables: async () => (await import("./iptables/render/render-iptables.ts")).renderIptables,
  iptables: async () => (await import("./iptables/render/render-iptables.ts")).renderIptables,
  nftables: async () => (await import("./nftables/render/render-nftables.ts")).renderNftables,
};

/** The modes that are built, for help text and errors. */
export function availableModes(): ProxyMode[] {
  return Object.keys(proxierFactories) as ProxyMode[];
}
