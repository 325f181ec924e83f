import { stopSignal } from "../sys/stop-signal.ts";
import { Command } from "commander";
import { startApiServer } from "../apiserver/api-server.ts";
import { createLogger } from "../sys/logger.ts";

/** Options of `kproxy apiserver`, as commander parses them. */
interface ApiServerFlags {
  listen: string;
  listenSocket?: string;
  dataDir: string;
  serviceClusterIpRange: string;
  serviceNodePortRange: string;
  loadBalancerIpRange: string;
  tokenFile?: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  v: string;
}

/**
 * `kproxy apiserver`: the embedded Kubernetes-compatible API server alone, so that kubectl and
 * `@kubernetes/client-node` (or another kproxy) can talk to it. Runs until SIGINT/SIGTERM.
 */
export function apiserverCommand(): Command {
  return new Command("apiserver")
    .description(
      "Run the embedded Kubernetes-compatible API server alone (Services, EndpointSlices, Pods, Nodes, Namespaces, Events)",
    )
    .option(
      "--listen <addr:port>",
      "address and port to listen on; beyond loopback needs --token-file",
      "127.0.0.1:6443",
    )
    .option("--listen-socket <path>", "also serve on this Unix socket (mode 0600, no token needed)")
    .option("--data-dir <dir>", 'SQLite data directory; "" keeps everything in memory', "")
    .option(
      "--service-cluster-ip-range <cidr>",
      "ClusterIP range, one CIDR per family (e.g. 10.96.0.0/12)",
      "10.96.0.0/12",
    )
    .option("--service-node-port-range <a-b>", "NodePort range (e.g. 30000-32767)", "30000-32767")
    .option(
      "--load-balancer-ip-range <cidr>",
      'LoadBalancer ingress IP pool (e.g. 192.0.2.0/24); "" = none',
      "",
    )
    .option(
      "--token-file <file>",
      "static bearer tokens, one per line (token,user,uid as kube-apiserver's, or the token alone)",
    )
    .option("--tls-cert-file <file>", "serve HTTPS with this certificate (PEM)")
    .option("--tls-private-key-file <file>", "private key (PEM) for --tls-cert-file")
    .option("--v <n>", "log verbosity: 0 info, 1-3 debug, 4+ trace", "0")
    .action(async (flags: ApiServerFlags) => {
      const logger = createLogger(Number(flags.v));
      const server = await startApiServer({
        listen: flags.listen,
        dataDir: flags.dataDir,
        serviceClusterIPRange: flags.serviceClusterIpRange,
        serviceNodePortRange: flags.serviceNodePortRange,
        loadBalancerIPRange: flags.loadBalancerIpRange,
        logger,
        ...(flags.listenSocket !== undefined ? { socketPath: flags.listenSocket } : {}),
        ...(flags.tokenFile !== undefined ? { tokenFile: flags.tokenFile } : {}),
        ...(flags.tlsCertFile !== undefined ? { tlsCertFile: flags.tlsCertFile } : {}),
        ...(flags.tlsPrivateKeyFile !== undefined ? { tlsKeyFile: flags.tlsPrivateKeyFile } : {}),
      });
      process.stdout.write(
        `kproxy API server listening on ${server.url}${server.socketPath ? ` and ${server.socketPath}` : ""}\n` +
          `try: kubectl --server=${server.url} get services -A\n`,
      );
      await stopSignal().stopped;
      await server.close();
    });
}
