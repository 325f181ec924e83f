import { stopSignal } from "../sys/stop-signal.ts";
import { Command } from "commander";
import { Registry } from "prom-client";
import { startDnsServer } from "../dns/dns-server.ts";
import { validateDnsSettings, type PodRecordMode } from "../dns/dns-settings.ts";
import { ValidationError, type FieldProblem } from "../errors.ts";
import { startMetricsServer } from "../metrics/metrics-server.ts";
import { loadKubeConfig } from "../sources/kube-config.ts";
import { createLogger } from "../sys/logger.ts";

/** Options of `kproxy dns`, as commander parses them. */
interface DnsFlags {
  kubeconfig: string;
  master: string;
  bindAddress: string;
  clusterDomain: string;
  ttl: string;
  upstream: string[];
  pods: string;
  endpointPodNames: boolean;
  externalNameIps: boolean;
  metricsBindAddress: string;
  v: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(",").filter((v) => v !== "")];
}

/**
 * `kproxy dns`: the cluster DNS server alone (Kubernetes DNS-based service discovery 1.1.0), fed
 * by informers against a kubeconfig's cluster or `--master`. Runs until SIGINT/SIGTERM.
 */
export function dnsCommand(): Command {
  return new Command("dns")
    .description(
      "Run the cluster DNS server alone: <svc>.<ns>.svc.<zone> records from Services and EndpointSlices, other names forwarded upstream",
    )
    .option("--kubeconfig <file>", "kubeconfig of the cluster to serve", "")
    .option("--master <url>", "API server URL (overrides the kubeconfig's), e.g. http://127.0.0.1:6443", "")
    .option("--bind-address <addr:port>", "UDP and TCP address to answer on, e.g. 0.0.0.0:53", "0.0.0.0:53")
    .option("--cluster-domain <domain>", "the cluster zone, e.g. cluster.local", "cluster.local")
    .option("--ttl <seconds>", "TTL of every answer and of negative answers, 0-3600 seconds, e.g. 30", "5")
    .option(
      "--upstream <addr[:port]>",
      "resolver for names outside the zone (repeatable or comma-separated); default: the nameservers of /etc/resolv.conf",
      collect,
      [],
    )
    .option(
      "--pods <mode>",
      "pod records a-b-c-d.<ns>.pod.<zone>: disabled, insecure or verified",
      "disabled",
    )
    .option(
      "--endpoint-pod-names",
      "name endpoints without a hostname after their Pod instead of their IP",
      false,
    )
    .option(
      "--external-name-ips",
      "answer an ExternalName that is an IP address with an A/AAAA record (default: no answer, as CoreDNS)",
      false,
    )
    .option("--metrics-bind-address <addr:port>", 'serve /metrics here, e.g. 127.0.0.1:9153; "" = off', "")
    .option("--v <n>", "log verbosity: 0 info, 1-3 debug, 4+ trace", "0")
    .action(async (flags: DnsFlags) => {
      const problems: FieldProblem[] = [];
      let ttlSeconds = 5;
      if (/^\d{1,9}$/.test(flags.ttl)) ttlSeconds = Number(flags.ttl);
      else
        problems.push({
          field: "--ttl",
          message: `must be a whole number of seconds from 0 to 3600, got ${JSON.stringify(flags.ttl)}`,
          example: "5",
        });
      if (!/^\d{1,2}$/.test(flags.v)) {
        problems.push({
          field: "--v",
          message: `must be a number from 0 to 99, got ${JSON.stringify(flags.v)}`,
          example: "2",
        });
      }
      problems.push(
        ...validateDnsSettings(
          {
            bindAddress: flags.bindAddress,
            clusterDomain: flags.clusterDomain,
            ttlSeconds,
            upstreams: flags.upstream,
            pods: flags.pods,
          },
          {
            bindAddress: "--bind-address",
            clusterDomain: "--cluster-domain",
            ttlSeconds: "--ttl",
            upstreams: "--upstream",
            pods: "--pods",
          },
        ),
      );
      if (problems.length > 0) throw new ValidationError("these kproxy dns flags", problems);
      const logger = createLogger(Number(flags.v));
      const registry = new Registry();
      const server = await startDnsServer({
        kubeConfig: loadKubeConfig({ kubeconfig: flags.kubeconfig, master: flags.master }),
        bindAddress: flags.bindAddress,
        clusterDomain: flags.clusterDomain,
        ttlSeconds,
        upstreams: flags.upstream,
        pods: flags.pods as PodRecordMode,
        endpointPodNames: flags.endpointPodNames,
        externalNameIPs: flags.externalNameIps,
        logger,
        metrics: registry,
      });
      const metrics =
        flags.metricsBindAddress === ""
          ? undefined
          : await startMetricsServer(flags.metricsBindAddress, { registry });
      process.stdout.write(`kproxy DNS listening on ${server.address} port ${server.port} (udp and tcp)\n`);
      await stopSignal().stopped;
      await Promise.all([server.close(), metrics?.close()]);
    });
}
