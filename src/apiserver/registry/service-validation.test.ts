import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "./resource-strategy.ts";
import { validateService } from "./service-validation.ts";

/** A Service as it reaches validation: defaulted and allocated. */
function base(): KubeObject & { spec: Record<string, unknown> } {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "default", labels: { app: "web" } },
    spec: {
      type: "ClusterIP",
      clusterIP: "10.96.0.10",
      clusterIPs: ["10.96.0.10"],
      ipFamilies: ["IPv4"],
      ipFamilyPolicy: "SingleStack",
      ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: 8080 }],
      selector: { app: "web" },
      sessionAffinity: "None",
      internalTrafficPolicy: "Cluster",
    },
    status: { loadBalancer: {} },
  };
}

/** Turns `base()` into a NodePort / LoadBalancer Service with allocated node ports. */
function asType(svc: ReturnType<typeof base>, type: "NodePort" | "LoadBalancer"): void {
  svc.spec.type = type;
  svc.spec.externalTrafficPolicy = "Cluster";
  svc.spec.ports = [{ name: "http", port: 80, protocol: "TCP", targetPort: 8080, nodePort: 30080 }];
  if (type === "LoadBalancer") svc.spec.allocateLoadBalancerNodePorts = true;
}

/** Turns `base()` into an ExternalName Service. */
function asExternalName(svc: ReturnType<typeof base>, externalName?: string): void {
  svc.spec = { type: "ExternalName", sessionAffinity: "None" };
  if (externalName !== undefined) svc.spec.externalName = externalName;
}

const dns1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const dns1123Label =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const dns1123Subdomain =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const qualifiedNamePart =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const labelValue =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const portRange = "must be between 1 and 65535, inclusive";
const dupPort = (protocol: string, port: number): string =>
  `Duplicate value: core.ServicePort{Name:"", Protocol:"${protocol}", AppProtocol:(*string)(nil), Port:${port}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`;

type Case = { name: string; edit: (svc: ReturnType<typeof base>) => void; want: string[] };

const cases: Case[] = [
  { name: "a valid ClusterIP Service", edit: () => {}, want: [] },
  // metadata
  {
    name: "name not a DNS-1035 label",
    edit: (s) => (s.metadata!.name = "1web"),
    want: [`metadata.name: Invalid value: "1web": ${dns1035}`],
  },
  {
    name: "name too long",
    edit: (s) => (s.metadata!.name = `a${"b".repeat(63)}`),
    want: [`metadata.name: Invalid value: "a${"b".repeat(63)}": must be no more than 63 characters`],
  },
  {
    name: "name missing",
    edit: (s) => delete s.metadata!.name,
    want: ["metadata.name: Required value: name or generateName is required"],
  },
  {
    name: "namespace missing",
    edit: (s) => delete s.metadata!.namespace,
    want: ["metadata.namespace: Required value"],
  },
  {
    name: "namespace not a DNS-1123 label",
    edit: (s) => (s.metadata!.namespace = "Prod"),
    want: [`metadata.namespace: Invalid value: "Prod": ${dns1123Label}`],
  },
  {
    name: "bad label key and value",
    edit: (s) => (s.metadata!.labels = { "-x": "ok", y: "not ok" }),
    want: [
      `metadata.labels: Invalid value: "-x": ${qualifiedNamePart}`,
      `metadata.labels: Invalid value: "not ok": ${labelValue}`,
    ],
  },
  // ports
  { name: "no ports", edit: (s) => (s.spec.ports = []), want: ["spec.ports: Required value"] },
  {
    name: "no ports on a headless Service is fine",
    edit: (s) => {
      s.spec.ports = [];
      s.spec.clusterIP = "None";
      s.spec.clusterIPs = ["None"];
    },
    want: [],
  },
  {
    name: "port 0",
    edit: (s) =>
      ((s.spec.ports as object[])[0] = { name: "http", port: 0, protocol: "TCP", targetPort: 8080 }),
    want: [`spec.ports[0].port: Invalid value: 0: ${portRange}`],
  },
  {
    name: "port 65536",
    edit: (s) => ((s.spec.ports as object[])[0] = { port: 65536, protocol: "TCP", targetPort: 8080 }),
    want: [`spec.ports[0].port: Invalid value: 65536: ${portRange}`],
  },
  {
    name: "port 65535 is fine",
    edit: (s) => ((s.spec.ports as object[])[0] = { port: 65535, protocol: "TCP", targetPort: 1 }),
    want: [],
  },
  {
    name: "port given as a string",
    edit: (s) => ((s.spec.ports as object[])[0] = { port: "80", protocol: "TCP", targetPort: 80 }),
    want: ['spec.ports[0].port: Invalid value: "80": must be an integer'],
  },
  {
    name: "unsupported protocol",
    edit: (s) => ((s.spec.ports as object[])[0] = { port: 80, protocol: "HTTP", targetPort: 80 }),
    want: ['spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'],
  },
  {
    name: "protocol missing",
    edit: (s) => ((s.spec.ports as object[])[0] = { port: 80, targetPort: 80 }),
    want: ["spec.ports[0].protocol: Required value"],
  },
  {
    name: "names required with more than one port",
    edit: (s) =>
      (s.spec.ports = [
        { port: 80, protocol: "TCP", targetPort: 80 },
        { port: 443, protocol: "TCP", targetPort: 443 },
      ]),
    want: ["spec.ports[0].name: Required value", "spec.ports[1].name: Required value"],
  },
  {
    name: "duplicate port names",
    edit: (s) =>
      (s.spec.ports = [
        { name: "http", port: 80, protocol: "TCP", targetPort: 80 },
        { name: "http", port: 81, protocol: "TCP", targetPort: 81 },
      ]),
    want: ['spec.ports[1].name: Duplicate value: "http"'],
  },
  {
    name: "port name not a DNS-1123 label",
    edit: (s) =>
      ((s.spec.ports as object[])[0] = { name: "HTTP", port: 80, protocol: "TCP", targetPort: 80 }),
    want: [`spec.ports[0].name: Invalid value: "HTTP": ${dns1123Label}`],
  },
  {
    name: "duplicate port and protocol",
    edit: (s) =>
      (s.spec.ports = [
        { name: "a", port: 53, protocol: "UDP", targetPort: 53 },
        { name: "b", port: 53, protocol: "TCP", targetPort: 53 },
        { name: "c", port: 53, protocol: "UDP", targetPort: 5353 },
      ]),
    want: [`spec.ports[2]: ${dupPort("UDP", 53)}`],
  },
  {
    name: "targetPort 0",
    edit: (s) => ((s.spec.ports as object[])[0] = { port: 80, protocol: "TCP", targetPort: 0 }),
    want: [`spec.ports[0].targetPort: Invalid value: 0: ${portRange}`],
  },
  {
    name: "targetPort 65536",
    edit: (s) => ((s.spec.ports as object[])[0] = { port: 80, protocol: "TCP", targetPort: 65536 }),
    want: [`spec.ports[0].targetPort: Invalid value: 65536: ${portRange}`],
  },
  {
    name: "targetPort named",
    edit: (s) => ((s.spec.ports as object[])[0] = { port: 80, protocol: "TCP", targetPort: "http-alt" }),
    want: [],
  },
  {
    name: "targetPort name longer than 15",
    edit: (s) =>
      ((s.spec.ports as object[])[0] = { port: 80, protocol: "TCP", targetPort: "abcdefghijklmnop" }),
    want: ['spec.ports[0].targetPort: Invalid value: "abcdefghijklmnop": must be no more than 15 characters'],
  },
  {
    name: "targetPort name with upper case and no lower-case letter",
    edit: (s) => ((s.spec.ports as object[])[0] = { port: 80, protocol: "TCP", targetPort: "HTTP" }),
    want: [
      'spec.ports[0].targetPort: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      'spec.ports[0].targetPort: Invalid value: "HTTP": must contain at least one letter (a-z)',
    ],
  },
  {
    name: "targetPort name of digits only",
    edit: (s) => ((s.spec.ports as object[])[0] = { port: 80, protocol: "TCP", targetPort: "8080" }),
    want: ['spec.ports[0].targetPort: Invalid value: "8080": must contain at least one letter (a-z)'],
  },
  {
    name: "targetPort name with consecutive hyphens",
    edit: (s) => ((s.spec.ports as object[])[0] = { port: 80, protocol: "TCP", targetPort: "a--b" }),
    want: ['spec.ports[0].targetPort: Invalid value: "a--b": must not contain consecutive hyphens'],
  },
  {
    name: "targetPort name starting with a hyphen",
    edit: (s) => ((s.spec.ports as object[])[0] = { port: 80, protocol: "TCP", targetPort: "-http" }),
    want: ['spec.ports[0].targetPort: Invalid value: "-http": must not begin or end with a hyphen'],
  },
  {
    name: "appProtocol not a qualified name",
    edit: (s) =>
      ((s.spec.ports as object[])[0] = { port: 80, protocol: "TCP", targetPort: 80, appProtocol: "a/b/c" }),
    want: [
      `spec.ports[0].appProtocol: Invalid value: "a/b/c": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ],
  },
  // node ports
  {
    name: "nodePort on a ClusterIP Service",
    edit: (s) =>
      ((s.spec.ports as object[])[0] = { port: 80, protocol: "TCP", targetPort: 80, nodePort: 30080 }),
    want: ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
  },
  { name: "a valid NodePort Service", edit: (s) => asType(s, "NodePort"), want: [] },
  {
    name: "nodePort out of range",
    edit: (s) => {
      asType(s, "NodePort");
      (s.spec.ports as Array<Record<string, unknown>>)[0]!.nodePort = 70000;
    },
    want: [`spec.ports[0].nodePort: Invalid value: 70000: ${portRange}`],
  },
  {
    name: "duplicate nodePort for one protocol",
    edit: (s) => {
      asType(s, "NodePort");
      s.spec.ports = [
        { name: "a", port: 80, protocol: "TCP", targetPort: 80, nodePort: 30080 },
        { name: "b", port: 81, protocol: "UDP", targetPort: 81, nodePort: 30080 },
        { name: "c", port: 82, protocol: "TCP", targetPort: 82, nodePort: 30080 },
      ];
    },
    want: ["spec.ports[2].nodePort: Duplicate value: 30080"],
  },
  // type
  {
    name: "unsupported type",
    edit: (s) => (s.spec.type = "Internal"),
    want: [
      'spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    ],
  },
  { name: "a valid ExternalName Service", edit: (s) => asExternalName(s, "db.example.com"), want: [] },
  { name: "externalName with a trailing dot", edit: (s) => asExternalName(s, "db.example.com."), want: [] },
  {
    name: "externalName missing",
    edit: (s) => asExternalName(s),
    want: ["spec.externalName: Required value"],
  },
  {
    name: "externalName not a DNS name",
    edit: (s) => asExternalName(s, "db_example.com"),
    want: [`spec.externalName: Invalid value: "db_example.com": ${dns1123Subdomain}`],
  },
  {
    name: "ExternalName with cluster IPs and families",
    edit: (s) => {
      asExternalName(s, "db.example.com");
      Object.assign(s.spec, {
        clusterIP: "10.96.0.10",
        clusterIPs: ["10.96.0.10"],
        ipFamilies: ["IPv4"],
        ipFamilyPolicy: "SingleStack",
      });
    },
    want: [
      "spec.clusterIPs: Forbidden: may not be set for ExternalName services",
      "spec.ipFamilies: Forbidden: may not be set for ExternalName services",
      "spec.ipFamilyPolicy: Forbidden: may not be set for ExternalName services",
    ],
  },
  // session affinity
  {
    name: "unsupported sessionAffinity",
    edit: (s) => (s.spec.sessionAffinity = "Sticky"),
    want: ['spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"'],
  },
  {
    name: "sessionAffinity missing",
    edit: (s) => delete s.spec.sessionAffinity,
    want: ["spec.sessionAffinity: Required value"],
  },
  {
    name: "ClientIP with timeout 86400 is fine",
    edit: (s) =>
      Object.assign(s.spec, {
        sessionAffinity: "ClientIP",
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 86400 } },
      }),
    want: [],
  },
  {
    name: "ClientIP with timeout 0",
    edit: (s) =>
      Object.assign(s.spec, {
        sessionAffinity: "ClientIP",
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } },
      }),
    want: [
      "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400",
    ],
  },
  {
    name: "ClientIP with timeout 86401",
    edit: (s) =>
      Object.assign(s.spec, {
        sessionAffinity: "ClientIP",
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 86401 } },
      }),
    want: [
      "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be greater than 0 and less than 86400",
    ],
  },
  {
    name: "ClientIP without config",
    edit: (s) => (s.spec.sessionAffinity = "ClientIP"),
    want: ["spec.sessionAffinityConfig: Required value: when session affinity type is ClientIP"],
  },
  {
    name: "ClientIP without timeout",
    edit: (s) =>
      Object.assign(s.spec, { sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: {} } }),
    want: [
      "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Required value: when session affinity type is ClientIP",
    ],
  },
  {
    name: "None with a config",
    edit: (s) => (s.spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10 } }),
    want: ["spec.sessionAffinityConfig: Forbidden: must not be set when session affinity is None"],
  },
  // traffic policies
  {
    name: "externalTrafficPolicy on an internal Service",
    edit: (s) => (s.spec.externalTrafficPolicy = "Local"),
    want: [
      'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services',
    ],
  },
  {
    name: "externalTrafficPolicy on a ClusterIP Service with external IPs is fine",
    edit: (s) => Object.assign(s.spec, { externalTrafficPolicy: "Local", externalIPs: ["192.0.2.10"] }),
    want: [],
  },
  {
    name: "unsupported externalTrafficPolicy",
    edit: (s) => {
      asType(s, "NodePort");
      s.spec.externalTrafficPolicy = "Global";
    },
    want: ['spec.externalTrafficPolicy: Unsupported value: "Global": supported values: "Cluster", "Local"'],
  },
  {
    name: "externalTrafficPolicy missing on a NodePort Service",
    edit: (s) => {
      asType(s, "NodePort");
      delete s.spec.externalTrafficPolicy;
    },
    want: ["spec.externalTrafficPolicy: Required value"],
  },
  {
    name: "unsupported internalTrafficPolicy",
    edit: (s) => (s.spec.internalTrafficPolicy = "Node"),
    want: ['spec.internalTrafficPolicy: Unsupported value: "Node": supported values: "Cluster", "Local"'],
  },
  {
    name: "internalTrafficPolicy missing",
    edit: (s) => delete s.spec.internalTrafficPolicy,
    want: ["spec.internalTrafficPolicy: Required value"],
  },
  {
    name: "healthCheckNodePort without LoadBalancer and Local",
    edit: (s) => {
      asType(s, "NodePort");
      s.spec.healthCheckNodePort = 30100;
    },
    want: [
      "spec.healthCheckNodePort: Invalid value: 30100: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
    ],
  },
  {
    name: "LoadBalancer with Local needs a healthCheckNodePort",
    edit: (s) => {
      asType(s, "LoadBalancer");
      s.spec.externalTrafficPolicy = "Local";
    },
    want: ["spec.healthCheckNodePort: Required value"],
  },
  {
    name: "LoadBalancer with Local and a healthCheckNodePort",
    edit: (s) => {
      asType(s, "LoadBalancer");
      Object.assign(s.spec, { externalTrafficPolicy: "Local", healthCheckNodePort: 30100 });
    },
    want: [],
  },
  {
    name: "trafficDistribution PreferClose",
    edit: (s) => (s.spec.trafficDistribution = "PreferClose"),
    want: [],
  },
  {
    name: "unsupported trafficDistribution",
    edit: (s) => (s.spec.trafficDistribution = "Closest"),
    want: [
      'spec.trafficDistribution: Unsupported value: "Closest": supported values: "PreferClose", "PreferSameNode", "PreferSameZone"',
    ],
  },
  // load balancers
  {
    name: "source ranges on a ClusterIP Service",
    edit: (s) => (s.spec.loadBalancerSourceRanges = ["10.0.0.0/8"]),
    want: ["spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'"],
  },
  {
    name: "source ranges must be CIDRs (space padding tolerated)",
    edit: (s) => {
      asType(s, "LoadBalancer");
      s.spec.loadBalancerSourceRanges = [" 10.0.0.0/8 ", "10.0.0.0/33", "192.0.2.1"];
    },
    want: [
      'spec.LoadBalancerSourceRanges[1]: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
      'spec.LoadBalancerSourceRanges[2]: Invalid value: "192.0.2.1": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    ],
  },
  {
    name: "source-ranges annotation checked like the field",
    edit: (s) =>
      (s.metadata!.annotations = {
        "service.beta.kubernetes.io/load-balancer-source-ranges": "10.0.0.0/8,bad",
      }),
    want: [
      "metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]: Forbidden: may only be used when `type` is 'LoadBalancer'",
      'metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]: Invalid value: "bad": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    ],
  },
  {
    name: "headless LoadBalancer",
    edit: (s) => {
      asType(s, "LoadBalancer");
      Object.assign(s.spec, { clusterIP: "None", clusterIPs: ["None"] });
    },
    want: ["spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for LoadBalancer services"],
  },
  {
    name: "headless NodePort",
    edit: (s) => {
      asType(s, "NodePort");
      Object.assign(s.spec, { clusterIP: "None", clusterIPs: ["None"] });
    },
    want: ["spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services"],
  },
  {
    name: "allocateLoadBalancerNodePorts on a NodePort Service",
    edit: (s) => {
      asType(s, "NodePort");
      s.spec.allocateLoadBalancerNodePorts = false;
    },
    want: ["spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'"],
  },
  {
    name: "loadBalancerClass outside LoadBalancer",
    edit: (s) => (s.spec.loadBalancerClass = "example.com/lb"),
    want: ["spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'"],
  },
  {
    name: "load-balancer status",
    edit: (s) => {
      asType(s, "LoadBalancer");
      s.status = {
        loadBalancer: {
          ingress: [
            { ip: "192.0.2.300" },
            { hostname: "192.0.2.1" },
            { ip: "192.0.2.2", ipMode: "Direct" },
            { hostname: "lb.example.com", ipMode: "VIP" },
          ],
        },
      };
    },
    want: [
      'status.loadBalancer.ingress[0].ip: Invalid value: "192.0.2.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
      'status.loadBalancer.ingress[1].hostname: Invalid value: "192.0.2.1": must be a DNS name, not an IP address',
      'status.loadBalancer.ingress[2].ipMode: Unsupported value: "Direct": supported values: "Proxy", "VIP"',
      "status.loadBalancer.ingress[3].ipMode: Forbidden: may not be specified when `ip` is not set",
    ],
  },
  {
    name: "load-balancer ingress on a ClusterIP Service",
    edit: (s) => (s.status = { loadBalancer: { ingress: [{ ip: "192.0.2.1" }] } }),
    want: ["status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is 'LoadBalancer'"],
  },
  // IPs
  {
    name: "external IPs",
    edit: (s) => (s.spec.externalIPs = ["192.0.2.10", "not-an-ip", "0.0.0.0", "169.254.1.1", "127.0.0.2"]),
    want: [
      'spec.externalIPs[1]: Invalid value: "not-an-ip": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
      'spec.externalIPs[2]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)',
      'spec.externalIPs[3]: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
      "spec.externalTrafficPolicy: Required value",
    ],
  },
  {
    name: "clusterIPs[0] differs from clusterIP",
    edit: (s) => (s.spec.clusterIPs = ["10.96.0.11"]),
    want: ['spec.clusterIPs: Invalid value: []string{"10.96.0.11"}: first value must match `clusterIP`'],
  },
  {
    name: "clusterIPs without clusterIP",
    edit: (s) => delete s.spec.clusterIP,
    want: [
      'spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: must be empty when `clusterIP` is not specified',
    ],
  },
  {
    name: "clusterIP without clusterIPs",
    edit: (s) => delete s.spec.clusterIPs,
    want: ["spec.clusterIPs: Required value"],
  },
  {
    name: "malformed cluster IP",
    edit: (s) => Object.assign(s.spec, { clusterIP: "10.96.0.300", clusterIPs: ["10.96.0.300"] }),
    want: [
      'spec.clusterIPs[0]: Invalid value: "10.96.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ],
  },
  {
    name: "two cluster IPs of one family",
    edit: (s) =>
      Object.assign(s.spec, {
        clusterIPs: ["10.96.0.10", "10.96.0.11"],
        ipFamilies: ["IPv4"],
        ipFamilyPolicy: "RequireDualStack",
      }),
    want: [
      'spec.clusterIPs: Invalid value: []string{"10.96.0.10", "10.96.0.11"}: may specify no more than one IP for each IP family',
    ],
  },
  {
    name: "three cluster IPs",
    edit: (s) =>
      Object.assign(s.spec, {
        clusterIPs: ["10.96.0.10", "fd00::10", "10.96.0.11"],
        ipFamilies: ["IPv4", "IPv6"],
      }),
    want: [
      'spec.clusterIPs: Invalid value: []string{"10.96.0.10", "fd00::10", "10.96.0.11"}: may only hold up to 2 values',
    ],
  },
  {
    name: "dual-stack cluster IPs",
    edit: (s) =>
      Object.assign(s.spec, {
        clusterIPs: ["10.96.0.10", "fd00::10"],
        ipFamilies: ["IPv4", "IPv6"],
        ipFamilyPolicy: "PreferDualStack",
      }),
    want: [],
  },
  {
    name: "None followed by an IP",
    edit: (s) => Object.assign(s.spec, { clusterIP: "None", clusterIPs: ["None", "10.96.0.10"] }),
    want: [
      'spec.clusterIPs: Invalid value: []string{"None", "10.96.0.10"}: \'None\' must be the first and only value',
    ],
  },
  {
    name: "unsupported and duplicate IP families",
    edit: (s) => (s.spec.ipFamilies = ["IPv5", "IPv5"]),
    want: [
      'spec.ipFamilies[0]: Unsupported value: "IPv5": supported values: "IPv4", "IPv6"',
      'spec.ipFamilies[1]: Unsupported value: "IPv5": supported values: "IPv4", "IPv6"',
      'spec.ipFamilies[1]: Duplicate value: "IPv5"',
    ],
  },
  {
    name: "cluster IP of the wrong family",
    edit: (s) => (s.spec.ipFamilies = ["IPv6"]),
    want: [
      'spec.clusterIPs[0]: Invalid value: "10.96.0.10": expected an IPv6 value as indicated by `ipFamilies[0]`',
    ],
  },
  {
    name: "unsupported ipFamilyPolicy",
    edit: (s) => (s.spec.ipFamilyPolicy = "DualStack"),
    want: [
      'spec.ipFamilyPolicy: Unsupported value: "DualStack": supported values: "PreferDualStack", "RequireDualStack", "SingleStack"',
    ],
  },
  // selector
  {
    name: "selector syntax",
    edit: (s) => (s.spec.selector = { "app/x/y": "web", tier: "-front" }),
    want: [
      `spec.selector: Invalid value: "app/x/y": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
      `spec.selector: Invalid value: "-front": ${labelValue}`,
    ],
  },
];

describe("validateService", () => {
  for (const c of cases) {
    it(c.name, () => {
      const svc = base();
      c.edit(svc);
      assert.deepEqual(
        validateService(svc).map((p) => `${p.field}: ${p.message}`),
        c.want,
      );
    });
  }

  it("gives examples of valid values for the common mistakes", () => {
    const svc = base();
    svc.spec.ports = [{ port: 0, protocol: "TCP", targetPort: 80 }];
    assert.deepEqual(validateService(svc)[0], {
      field: "spec.ports[0].port",
      message: `Invalid value: 0: ${portRange}`,
      example: "80",
    });
  });
});
