import type { FieldProblem } from "../../errors.ts";
import { duplicate, forbidden, GoLiteral, invalid, notSupported, required } from "./field-errors.ts";
import { validateCIDR, validateIP, validateNonSpecialIP } from "./ip-rules.ts";
import { asArray, asNumber, asRecord, asString } from "./json-access.ts";
import { validateLabels, validateObjectMeta } from "./metadata-validation.ts";
import { isDNS1123Subdomain, isQualifiedName } from "./name-rules.ts";
import type { KubeObject } from "./resource-strategy.ts";
import {
  validateExternalNameHasNoClusterIPs,
  validateServiceClusterIPs,
} from "./service-cluster-ip-validation.ts";
import { validateServicePort } from "./service-port-validation.ts";
import { validateServiceStatus } from "./service-status-validation.ts";
import {
  externallyAccessible,
  isHeadless,
  needsHealthCheckNodePort,
  nodePortOf,
  servicePorts,
  serviceSpec,
  serviceType,
} from "./service-spec.ts";

const supportedTypes: readonly string[] = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const supportedAffinities: readonly string[] = ["ClientIP", "None"];
const supportedTrafficPolicies: readonly string[] = ["Cluster", "Local"];
const supportedTrafficDistributions: readonly string[] = ["PreferClose", "PreferSameNode", "PreferSameZone"];
/** Upstream's cap on ClientIP affinity: one day. */
const maxClientIPAffinitySeconds = 86400;
const annotationSourceRanges = "service.beta.kubernetes.io/load-balancer-source-ranges";

/**
 * Every problem of a Service, in the order and wording of kube-apiserver's `ValidateService`.
 * Runs after defaulting and allocation, so allocated fields (cluster IPs, node ports, the
 * health-check node port, load-balancer ingress) are present and checked for form only.
 */
export function validateService(obj: KubeObject): FieldProblem[] {
  const problems = validateObjectMeta(obj, { namespaced: true, nameRule: "dns1035Label" });
  const spec = serviceSpec(obj);
  const type = serviceType(obj);
  const ports = servicePorts(obj);
  const clusterIPs = asArray(spec.clusterIPs);

  if (ports.length === 0 && !isHeadless(obj) && type !== "ExternalName") {
    problems.push(required("spec.ports", "", "[{port: 80}]"));
  }
  if ((type === "LoadBalancer" || type === "NodePort") && isHeadless(obj)) {
    problems.push(
      invalid("spec.clusterIPs[0]", clusterIPs[0], `may not be set to 'None' for ${type} services`),
    );
  }
  if (type === "ExternalName") {
    problems.push(...validateExternalNameHasNoClusterIPs(obj));
    // A CNAME target may end in a dot to mark it fully qualified.
    const externalName = (asString(spec.externalName) ?? "").replace(/\.$/, "");
    if (externalName === "") problems.push(required("spec.externalName", "", "example.com"));
    else {
      for (const msg of isDNS1123Subdomain(externalName)) {
        problems.push(invalid("spec.externalName", externalName, msg, "example.com"));
      }
    }
  }

  const seenNames = new Set<string>();
  ports.forEach((port, i) => {
    problems.push(
      ...validateServicePort(port, `spec.ports[${i}]`, { requireName: ports.length > 1, seenNames }),
    );
  });
  if (spec.selector !== undefined && spec.selector !== null)
    problems.push(...validateLabels(spec.selector, "spec.selector"));
  problems.push(...validateSessionAffinity(spec));
  problems.push(...validateServiceClusterIPs(obj));

  asArray(spec.externalIPs).forEach((ip, i) => {
    const path = `spec.externalIPs[${i}]`;
    if (typeof ip !== "string")
      return problems.push(invalid(path, ip, "must be a valid IP address", "192.0.2.10"));
    const ipProblems = validateIP(path, ip);
    problems.push(...(ipProblems.length > 0 ? ipProblems : validateNonSpecialIP(path, ip)));
  });

  if (type === "") problems.push(required("spec.type", "", "ClusterIP"));
  else if (!supportedTypes.includes(type))
    problems.push(notSupported("spec.type", spec.type, supportedTypes));

  problems.push(...validateNodePorts(obj));
  problems.push(...validateUniquePorts(ports));
  problems.push(...validateSourceRanges(obj));
  problems.push(...validateLoadBalancerFields(obj));
  problems.push(...validateTrafficPolicies(obj));
  problems.push(...validateServiceStatus(obj));
  return problems;
}

function validateSessionAffinity(spec: Record<string, unknown>): FieldProblem[] {
  const affinity = spec.sessionAffinity;
  if (affinity === undefined || affinity === "") return [required("spec.sessionAffinity", "", "None")];
  if (typeof affinity !== "string" || !supportedAffinities.includes(affinity)) {
    return [notSupported("spec.sessionAffinity", affinity, supportedAffinities)];
  }
  const path = "spec.sessionAffinityConfig";
  if (affinity === "None") {
    return spec.sessionAffinityConfig === undefined || spec.sessionAffinityConfig === null
      ? []
      : [forbidden(path, "must not be set when session affinity is None")];
  }
  const detail = "when session affinity type is ClientIP";
  const config = asRecord(spec.sessionAffinityConfig);
  if (config === undefined) return [required(path, detail)];
  const clientIP = asRecord(config.clientIP);
  if (clientIP === undefined) return [required(`${path}.clientIP`, detail)];
  const timeout = clientIP.timeoutSeconds;
  if (timeout === undefined || timeout === null)
    return [required(`${path}.clientIP.timeoutSeconds`, detail, "10800")];
  if (
    typeof timeout !== "number" ||
    !Number.isInteger(timeout) ||
    timeout <= 0 ||
    timeout > maxClientIPAffinitySeconds
  ) {
    return [
      invalid(
        `${path}.clientIP.timeoutSeconds`,
        timeout,
        `must be greater than 0 and less than ${maxClientIPAffinitySeconds}`,
        "10800",
      ),
    ];
  }
  return [];
}

/** Node ports: none on ClusterIP Services, each 0-65535, and unique per protocol. */
function validateNodePorts(obj: KubeObject): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const ports = servicePorts(obj);
  ports.forEach((port, i) => {
    const path = `spec.ports[${i}].nodePort`;
    const nodePort = port.nodePort;
    if (nodePort === undefined || nodePort === null || nodePort === 0) return;
    if (typeof nodePort !== "number" || !Number.isInteger(nodePort) || nodePort < 0 || nodePort > 65535) {
      problems.push(invalid(path, nodePort, "must be between 1 and 65535, inclusive", "30080"));
    }
    if (serviceType(obj) === "ClusterIP")
      problems.push(forbidden(path, "may not be used when `type` is 'ClusterIP'"));
  });
  const seen = new Set<string>();
  ports.forEach((port, i) => {
    const nodePort = nodePortOf(port);
    if (nodePort === 0) return;
    const key = `${String(port.protocol)}/${nodePort}`;
    if (seen.has(key)) problems.push(duplicate(`spec.ports[${i}].nodePort`, nodePort));
    seen.add(key);
  });
  return problems;
}

/** No two ports with the same port number and protocol. */
function validateUniquePorts(ports: readonly Record<string, unknown>[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  ports.forEach((port, i) => {
    const protocol = asString(port.protocol) ?? "";
    const number = asNumber(port.port) ?? 0;
    const key = `${protocol}/${number}`;
    if (seen.has(key)) {
      // Upstream prints the Go struct it used as the set key; print the same line.
      const literal = `core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol)}, AppProtocol:(*string)(nil), Port:${number}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`;
      problems.push(duplicate(`spec.ports[${i}]`, new GoLiteral(literal)));
    }
    seen.add(key);
  });
  return problems;
}

/** `loadBalancerSourceRanges` (or its legacy annotation): CIDRs, and only on LoadBalancers. */
function validateSourceRanges(obj: KubeObject): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const ranges = asArray(serviceSpec(obj).loadBalancerSourceRanges);
  const isLoadBalancer = serviceType(obj) === "LoadBalancer";
  // Upstream's field path has this capital L; kubectl users see it so.
  const path = "spec.LoadBalancerSourceRanges";
  if (ranges.length > 0) {
    if (!isLoadBalancer) problems.push(forbidden(path, "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((range, i) => {
      // Space-padded values are tolerated for compatibility with the old annotation.
      problems.push(
        ...validateCIDR(`${path}[${i}]`, typeof range === "string" ? range.trim() : String(range)),
      );
    });
    return problems;
  }
  const annotation = asRecord(obj.metadata?.annotations)?.[annotationSourceRanges];
  if (typeof annotation !== "string") return problems;
  const annotationPath = `metadata.annotations[${annotationSourceRanges}]`;
  if (!isLoadBalancer)
    problems.push(forbidden(annotationPath, "may only be used when `type` is 'LoadBalancer'"));
  const value = annotation.trim();
  if (value !== "") {
    for (const range of value.split(",")) problems.push(...validateCIDR(annotationPath, range.trim()));
  }
  return problems;
}

/** `allocateLoadBalancerNodePorts` and `loadBalancerClass` belong to LoadBalancer Services only. */
function validateLoadBalancerFields(obj: KubeObject): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const spec = serviceSpec(obj);
  const isLoadBalancer = serviceType(obj) === "LoadBalancer";
  const allocate = spec.allocateLoadBalancerNodePorts;
  if (allocate !== undefined && allocate !== null && !isLoadBalancer) {
    problems.push(
      forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'"),
    );
  }
  if (isLoadBalancer && (allocate === undefined || allocate === null)) {
    problems.push(required("spec.allocateLoadBalancerNodePorts", "", "true"));
  }
  const lbClass = spec.loadBalancerClass;
  if (lbClass !== undefined && lbClass !== null) {
    if (!isLoadBalancer) {
      problems.push(forbidden("spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'"));
    } else if (typeof lbClass !== "string") {
      problems.push(
        invalid("spec.loadBalancerClass", lbClass, "must be a string", "example.com/internal-vip"),
      );
    } else {
      for (const msg of isQualifiedName(lbClass)) {
        problems.push(invalid("spec.loadBalancerClass", lbClass, msg, "example.com/internal-vip"));
      }
    }
  }
  return problems;
}

/** External and internal traffic policies, the health-check node port, and trafficDistribution. */
function validateTrafficPolicies(obj: KubeObject): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const spec = serviceSpec(obj);
  const etp = spec.externalTrafficPolicy;
  if (!externallyAccessible(obj)) {
    if (etp !== undefined && etp !== null && etp !== "") {
      problems.push(
        invalid("spec.externalTrafficPolicy", etp, "may only be set for externally-accessible services"),
      );
    }
  } else if (etp === undefined || etp === null || etp === "") {
    problems.push(required("spec.externalTrafficPolicy", "", "Cluster"));
  } else if (typeof etp !== "string" || !supportedTrafficPolicies.includes(etp)) {
    problems.push(notSupported("spec.externalTrafficPolicy", etp, supportedTrafficPolicies));
  }

  const hcnp = spec.healthCheckNodePort ?? 0;
  if (!needsHealthCheckNodePort(obj)) {
    if (hcnp !== 0) {
      problems.push(
        invalid(
          "spec.healthCheckNodePort",
          hcnp,
          "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
        ),
      );
    }
  } else if (hcnp === 0) {
    problems.push(required("spec.healthCheckNodePort", "", "30000"));
  } else if (typeof hcnp !== "number" || !Number.isInteger(hcnp) || hcnp < 1 || hcnp > 65535) {
    problems.push(
      invalid("spec.healthCheckNodePort", hcnp, "must be between 1 and 65535, inclusive", "30000"),
    );
  }

  const itp = spec.internalTrafficPolicy;
  if (itp === undefined || itp === null) {
    // Not required on ExternalName, for compatibility with objects stored before the field existed.
    if (["NodePort", "LoadBalancer", "ClusterIP"].includes(serviceType(obj))) {
      problems.push(required("spec.internalTrafficPolicy", "", "Cluster"));
    }
  } else if (typeof itp !== "string" || !supportedTrafficPolicies.includes(itp)) {
    problems.push(notSupported("spec.internalTrafficPolicy", itp, supportedTrafficPolicies));
  }

  const distribution = spec.trafficDistribution;
  if (distribution !== undefined && distribution !== null) {
    if (typeof distribution !== "string" || !supportedTrafficDistributions.includes(distribution)) {
      problems.push(notSupported("spec.trafficDistribution", distribution, supportedTrafficDistributions));
    }
  }
  return problems;
}
