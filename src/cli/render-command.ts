import { readFileSync } from "node:fs";
import type { KubernetesObject, V1Node } from "@kubernetes/client-node";
import { Command } from "commander";
import { errorMessage, UsageError, ValidationError } from "../errors.ts";
import { ipFamilyOf } from "../model/ip.ts";
import type { IPFamily } from "../model/protocol.ts";
import { proxyStateFromObjects } from "../model/proxy-state-from-objects.ts";
import type { ProxyMode } from "../config/proxy-config.ts";
import { modeRenderers } from "../proxy/mode-registry.ts";
import {
  applyConformanceSettings,
  parseRenderInput,
  type ConformanceSettings,
} from "../proxy/render-input.ts";
import { nodeInfoFromNode } from "../proxy/sync/node-info-from-node.ts";
import { addConfigOptions, collectRepeat, configFromFlags, type ConfigFlagValues } from "./config-options.ts";

interface RenderFlags extends ConfigFlagValues {
  filename?: string[];
  nodeName?: string;
  ipFamily?: string;
  serviceClusterIpRange?: string;
}

/**
 * `kproxy render`: prints what a mode would program for the objects in the given files (plain
 * manifests, or upstream conformance inputs with their `proxier:` settings), touching nothing.
 * Objects the proxy cannot use are reported on stderr.
 */
export function renderCommand(): Command {
  const cmd = new Command("render").description(
    "Print the rules a proxy mode would program for the Services and EndpointSlices in files, without touching the system",
  );
  cmd
    .requiredOption(
      "-f, --filename <file>",
      "YAML manifests or an upstream conformance input (repeatable; - for stdin)",
      collectRepeat,
    )
    .option(
      "--node-name <name>",
      "the node the rules are rendered for (default: the hostname override, or the input's)",
    )
    .option(
      "--ip-family <family>",
      "IPv4 or IPv6 (default: the input's, else IPv4 plus IPv6 when a node IP is IPv6)",
    )
    .option(
      "--service-cluster-ip-range <cidrs>",
      "the cluster's Service IP ranges, e.g. 172.30.0.0/16 (default: the input's serviceCIDRs, else 10.96.0.0/12)",
    );
  addConfigOptions(cmd);
  cmd.addHelpText(
    "after",
    `
Examples:
  kproxy render --proxy-mode iptables -f service.yaml --node-ip 192.168.0.2
  kproxy render --proxy-mode nftables -f test/conformance/upstream/nftables-overall.input.yaml`,
  );
  return cmd.action(async (flags: RenderFlags) => {
    const config = configFromFlags(flags);
    const objects: KubernetesObject[] = [];
    let settings: ConformanceSettings = {};
    for (const file of flags.filename ?? []) {
      let text: string;
      try {
        text = readFileSync(file === "-" ? 0 : file, "utf8");
      } catch (err) {
        throw new ValidationError(`input ${file}`, [{ field: "--filename", message: errorMessage(err) }]);
      }
      const input = parseRenderInput(text, file);
      objects.push(...input.objects);
      settings = { ...settings, ...input.settings };
    }
    // The mode: --proxy-mode, else the input's `proxier.mode`, else --config's (default iptables).
    const mode: ProxyMode = flags.proxyMode !== undefined ? config.mode : (settings.mode ?? config.mode);
    const load = modeRenderers[mode];
    if (load === undefined) {
      const available = Object.keys(modeRenderers);
      throw new UsageError(
        `Cannot render proxy mode ${JSON.stringify(mode)}: it has no renderer; modes that render: ${available.length > 0 ? available.join(", ") : "none"}`,
      );
    }
    const nodeName = flags.nodeName ?? (config.hostnameOverride || settings.nodeName || "node");
    const nodeObject = objects.find((o): o is V1Node => o.kind === "Node" && o.metadata?.name === nodeName);
    const baseNode = nodeInfoFromNode(nodeObject, {
      name: nodeName,
      nodeIPs: config.nodeIPs,
      localAddresses: config.nodeIPs.map((ip) => (ipFamilyOf(ip) === "IPv6" ? `${ip}/128` : `${ip}/32`)),
    });
    const applied = applyConformanceSettings(
      {
        ...settings,
        // Explicit flags win over the input's settings.
        ...(flags.nodeName !== undefined ? { nodeName: flags.nodeName } : {}),
        ...(flags.nodeIp !== undefined ? { nodeIPs: flags.nodeIp } : {}),
        mode,
      },
      { config, node: baseNode },
    );
    const families = renderFamilies(flags.ipFamily, settings, applied.node.nodeIPs);
    const serviceCIDRs = (
      flags.serviceClusterIpRange !== undefined
        ? flags.serviceClusterIpRange.split(",")
        : (settings.serviceCIDRs ?? config.apiserver.serviceClusterIPRange.split(","))
    ).map((s) => s.trim());
    const render = await load();
    const reported = new Set<string>();
    for (const family of families) {
      const { state, skipped } = proxyStateFromObjects(objects, { family, node: applied.node, serviceCIDRs });
      for (const s of skipped) {
        const line = `kproxy render: skipped ${s.kind} ${s.key}: ${s.reason}`;
        if (!reported.has(line)) process.stderr.write(`${line}\n`);
        reported.add(line);
      }
      process.stdout.write(render(state, applied.config, applied.features));
    }
  });
}

function renderFamilies(
  flag: string | undefined,
  settings: ConformanceSettings,
  nodeIPs: readonly string[],
): IPFamily[] {
  if (flag !== undefined) {
    if (flag !== "IPv4" && flag !== "IPv6") {
      throw new ValidationError("the render options", [
        { field: "--ip-family", message: `${JSON.stringify(flag)} is not IPv4 or IPv6`, example: "IPv4" },
      ]);
    }
    return [flag];
  }
  if (settings.family !== undefined) return [settings.family];
  return nodeIPs.some((ip) => ipFamilyOf(ip) === "IPv6") ? ["IPv4", "IPv6"] : ["IPv4"];
}
