import { isDeepStrictEqual } from "node:util";
import type { FieldProblem } from "../../errors.ts";
import { duplicate, forbidden, invalid, notSupported, required } from "./field-errors.ts";
import { validateIP } from "./ip-rules.ts";
import { asArray, asRecord } from "./json-access.ts";
import { validateObjectMeta, validateObjectMetaUpdate } from "./metadata-validation.ts";
import { isDNS1123Label, isDNS1123Subdomain, isValidPortName, isValidPortNum } from "./name-rules.ts";
import type { KubeObject } from "./resource-strategy.ts";
import { supportedProtocols } from "./service-port-validation.ts";

const restartPolicies: readonly string[] = ["Always", "Never", "OnFailure"];
const dnsPolicies: readonly string[] = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"];

/**
 * The parts of a Pod that the embedded server's users (the EndpointSlice controller, kubectl)
 * rely on, checked as kube-apiserver checks them: metadata, containers (names, images, ports),
 * restart and DNS policies, the node name, and the IPs in `status`.
 */
export function validatePod(obj: KubeObject): FieldProblem[] {
  const problems = validateObjectMeta(obj, { namespaced: true, nameRule: "dns1123Subdomain" });
  const spec = asRecord(obj.spec) ?? {};
  const containers = asArray(spec.containers);
  if (containers.length === 0)
    problems.push(required("spec.containers", "", '[{name: "app", image: "nginx"}]'));
  const containerNames = new Set<string>();
  const portNames = new Set<string>();
  for (const listName of ["initContainers", "containers"] as const) {
    asArray(spec[listName]).forEach((item, i) => {
      problems.push(
        ...validateContainer(asRecord(item) ?? {}, `spec.${listName}[${i}]`, { containerNames, portNames }),
      );
    });
  }
  if (spec.restartPolicy !== undefined && !restartPolicies.includes(String(spec.restartPolicy))) {
    problems.push(notSupported("spec.restartPolicy", spec.restartPolicy, restartPolicies));
  }
  if (spec.dnsPolicy !== undefined && !dnsPolicies.includes(String(spec.dnsPolicy))) {
    problems.push(notSupported("spec.dnsPolicy", spec.dnsPolicy, dnsPolicies));
  }
  if (typeof spec.nodeName === "string" && spec.nodeName !== "") {
    for (const msg of isDNS1123Subdomain(spec.nodeName))
      problems.push(invalid("spec.nodeName", spec.nodeName, msg, "node-1"));
  }
  problems.push(...validatePodStatusIPs(obj));
  return problems;
}

/**
 * `validatePod` plus kube-apiserver's update rule: a Pod's spec is fixed except container
 * images, `activeDeadlineSeconds`, added tolerations and the grace period. One exception stands
 * in for the binding subresource, which kproxy does not serve: an unscheduled Pod may be given a
 * `spec.nodeName`.
 */
export function validatePodUpdate(obj: KubeObject, old: KubeObject): FieldProblem[] {
  const problems = validateObjectMetaUpdate(obj, old);
  const spec = structuredClone(asRecord(obj.spec) ?? {});
  const oldSpec = asRecord(old.spec) ?? {};
  for (const listName of ["containers", "initContainers"]) {
    asArray(spec[listName]).forEach((item, i) => {
      const container = asRecord(item);
      const before = asRecord(asArray(oldSpec[listName])[i]);
      if (container !== undefined && before !== undefined) container.image = before.image;
    });
  }
  for (const key of ["activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"]) {
    if (oldSpec[key] === undefined) delete spec[key];
    else spec[key] = oldSpec[key];
  }
  if ((oldSpec.nodeName === undefined || oldSpec.nodeName === "") && spec.nodeName !== undefined) {
    if (oldSpec.nodeName === undefined) delete spec.nodeName;
    else spec.nodeName = oldSpec.nodeName;
  }
  const changed = Object.keys({ ...spec, ...oldSpec }).filter(
    (key) => !isDeepStrictEqual(spec[key], oldSpec[key]),
  );
  if (changed.length > 0) {
    problems.push(
      forbidden(
        "spec",
        "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`," +
          "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations)," +
          "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n" +
          `changed: ${changed.map((key) => `spec.${key}`).join(", ")}`,
      ),
    );
  }
  problems.push(...validatePod(obj));
  return problems;
}

function validateContainer(
  container: Record<string, unknown>,
  path: string,
  seen: { containerNames: Set<string>; portNames: Set<string> },
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const name = typeof container.name === "string" ? container.name : "";
  if (name === "") problems.push(required(`${path}.name`, "", "app"));
  else {
    for (const msg of isDNS1123Label(name)) problems.push(invalid(`${path}.name`, name, msg, "app"));
    if (seen.containerNames.has(name)) problems.push(duplicate(`${path}.name`, name));
    seen.containerNames.add(name);
  }
  if (typeof container.image !== "string" || container.image.trim() === "") {
    problems.push(required(`${path}.image`, "", "nginx:1.27"));
  }
  asArray(container.ports).forEach((item, i) => {
    const port = asRecord(item) ?? {};
    const at = `${path}.ports[${i}]`;
    const portName = typeof port.name === "string" ? port.name : "";
    if (portName !== "") {
      for (const msg of isValidPortName(portName))
        problems.push(invalid(`${at}.name`, portName, msg, "http"));
      if (seen.portNames.has(portName)) problems.push(duplicate(`${at}.name`, portName));
      seen.portNames.add(portName);
    }
    const containerPort = port.containerPort ?? 0;
    if (typeof containerPort !== "number")
      problems.push(invalid(`${at}.containerPort`, containerPort, "must be an integer", "8080"));
    else
      for (const msg of isValidPortNum(containerPort))
        problems.push(invalid(`${at}.containerPort`, containerPort, msg, "8080"));
    if (port.hostPort !== undefined && port.hostPort !== 0) {
      const hostPort = port.hostPort;
      if (typeof hostPort !== "number")
        problems.push(invalid(`${at}.hostPort`, hostPort, "must be an integer", "8080"));
      else
        for (const msg of isValidPortNum(hostPort))
          problems.push(invalid(`${at}.hostPort`, hostPort, msg, "8080"));
    }
    if (port.protocol === undefined || port.protocol === "")
      problems.push(required(`${at}.protocol`, "", "TCP"));
    else if (!supportedProtocols.includes(String(port.protocol))) {
      problems.push(notSupported(`${at}.protocol`, port.protocol, supportedProtocols));
    }
  });
  return problems;
}

/** `status.podIP(s)`: valid IPs, at most one per family, `podIP` equal to the first. */
function validatePodStatusIPs(obj: KubeObject): FieldProblem[] {
  const status = asRecord(obj.status);
  if (status === undefined) return [];
  const problems: FieldProblem[] = [];
  const ips = asArray(status.podIPs).map((entry) => asRecord(entry)?.ip);
  ips.forEach((ip, i) =>
    problems.push(...validateIP(`status.podIPs[${i}].ip`, typeof ip === "string" ? ip : "")),
  );
  if (ips.length > 2)
    problems.push(invalid("status.podIPs", ips, "may specify no more than one IP for each IP family"));
  if (typeof status.podIP === "string" && status.podIP !== "" && ips.length > 0 && ips[0] !== status.podIP) {
    problems.push(invalid("status.podIP", status.podIP, "must match `status.podIPs[0].ip`"));
  }
  return problems;
}
