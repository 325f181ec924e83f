import type { FieldProblem } from "../../errors.ts";
import { duplicate, immutable, invalid, notSupported, required, tooMany } from "./field-errors.ts";
import { validateIPv4Address, validateIPv6Address, validateNonSpecialIP } from "./ip-rules.ts";
import { asArray, asRecord } from "./json-access.ts";
import { validateLabels, validateObjectMeta } from "./metadata-validation.ts";
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  isValidPortNum,
} from "./name-rules.ts";
import type { KubeObject } from "./resource-strategy.ts";
import { supportedProtocols } from "./service-port-validation.ts";

const supportedAddressTypes: readonly string[] = ["FQDN", "IPv4", "IPv6"];
/** Upstream's limits for one EndpointSlice. */
const maxEndpoints = 1000;
const maxAddresses = 100;
const maxPorts = 20000;
const maxTopologyLabels = 16;
const maxHints = 8;
const conditionNames = ["ready", "serving", "terminating"] as const;

/**
 * Every problem of a discovery.k8s.io/v1 EndpointSlice (upstream's `ValidateEndpointSlice`):
 * metadata, `addressType`, each endpoint's addresses (of that type), node name, hostname,
 * topology and hints, conditions (booleans), and the ports (DNS-1123 label names or empty,
 * unique, a protocol, a port number when set).
 */
export function validateEndpointSlice(obj: KubeObject): FieldProblem[] {
  const problems = validateObjectMeta(obj, { namespaced: true, nameRule: "dns1123Subdomain" });
  const addressType = obj.addressType;
  if (addressType === undefined || addressType === null || addressType === "") {
    problems.push(required("addressType", "", "IPv4"));
  } else if (typeof addressType !== "string" || !supportedAddressTypes.includes(addressType)) {
    problems.push(notSupported("addressType", addressType, supportedAddressTypes));
  }
  problems.push(
    ...validateEndpoints(asArray(obj.endpoints), typeof addressType === "string" ? addressType : ""),
  );
  problems.push(...validatePorts(asArray(obj.ports)));
  return problems;
}

/** `validateEndpointSlice` plus the one fixed field: `addressType`. */
export function validateEndpointSliceUpdate(obj: KubeObject, old: KubeObject): FieldProblem[] {
  const problems = validateEndpointSlice(obj);
  if (obj.addressType !== old.addressType) problems.push(immutable("addressType", obj.addressType));
  return problems;
}

function validateEndpoints(endpoints: readonly unknown[], addressType: string): FieldProblem[] {
  if (endpoints.length > maxEndpoints) return [tooMany("endpoints", endpoints.length, maxEndpoints)];
  const problems: FieldProblem[] = [];
  endpoints.forEach((item, i) => {
    const endpoint = asRecord(item) ?? {};
    const path = `endpoints[${i}]`;
    const addresses = asArray(endpoint.addresses);
    if (addresses.length === 0)
      problems.push(required(`${path}.addresses`, "must contain at least 1 address", '["10.1.2.3"]'));
    else if (addresses.length > maxAddresses)
      problems.push(tooMany(`${path}.addresses`, addresses.length, maxAddresses));
    addresses.forEach((address, j) => {
      const at = `${path}.addresses[${j}]`;
      const text = typeof address === "string" ? address : String(address);
      // Unknown address types were reported above; their addresses are not checked.
      if (addressType === "IPv4") {
        const problem = validateIPv4Address(at, text);
        problems.push(...(problem.length > 0 ? problem : validateNonSpecialIP(at, text)));
      } else if (addressType === "IPv6") {
        const problem = validateIPv6Address(at, text);
        problems.push(...(problem.length > 0 ? problem : validateNonSpecialIP(at, text)));
      } else if (addressType === "FQDN") {
        problems.push(...validateFullyQualifiedDomainName(at, text));
      }
    });
    if (typeof endpoint.nodeName === "string") {
      for (const msg of isDNS1123Subdomain(endpoint.nodeName))
        problems.push(invalid(`${path}.nodeName`, endpoint.nodeName, msg, "node-1"));
    }
    const topology = asRecord(endpoint.deprecatedTopology);
    if (topology !== undefined && Object.keys(topology).length > maxTopologyLabels) {
      problems.push(tooMany(`${path}.deprecatedTopology`, Object.keys(topology).length, maxTopologyLabels));
    }
    problems.push(...validateLabels(endpoint.deprecatedTopology, `${path}.deprecatedTopology`));
    if (typeof endpoint.hostname === "string") {
      for (const msg of isDNS1123Label(endpoint.hostname))
        problems.push(invalid(`${path}.hostname`, endpoint.hostname, msg, "pod-1"));
    }
    const conditions = asRecord(endpoint.conditions) ?? {};
    for (const name of conditionNames) {
      const value = conditions[name];
      if (value !== undefined && value !== null && typeof value !== "boolean") {
        problems.push(invalid(`${path}.conditions.${name}`, value, "must be a boolean", "true"));
      }
    }
    const hints = asRecord(endpoint.hints);
    if (hints !== undefined) problems.push(...validateHints(hints, `${path}.hints`));
  });
  return problems;
}

function validateHints(hints: Record<string, unknown>, path: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const kind of ["forZones", "forNodes"] as const) {
    const entries = asArray(hints[kind]);
    if (entries.length > maxHints) {
      problems.push(tooMany(`${path}.${kind}`, entries.length, maxHints));
      continue;
    }
    const seen = new Set<string>();
    entries.forEach((entry, i) => {
      const name = asRecord(entry)?.name;
      const at = `${path}.${kind}[${i}].name`;
      const text = typeof name === "string" ? name : "";
      if (seen.has(text)) problems.push(duplicate(at, text));
      seen.add(text);
      const messages = kind === "forZones" ? isValidLabelValue(text) : isDNS1123Subdomain(text);
      for (const msg of messages) problems.push(invalid(at, text, msg));
    });
  }
  return problems;
}

function validatePorts(ports: readonly unknown[]): FieldProblem[] {
  if (ports.length > maxPorts) return [tooMany("ports", ports.length, maxPorts)];
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  ports.forEach((item, i) => {
    const port = asRecord(item) ?? {};
    const path = `ports[${i}]`;
    const name = typeof port.name === "string" ? port.name : "";
    if (name !== "")
      for (const msg of isDNS1123Label(name)) problems.push(invalid(`${path}.name`, name, msg, "http"));
    if (seen.has(name)) problems.push(duplicate(`${path}.name`, name));
    seen.add(name);
    const protocol = port.protocol;
    if (protocol === undefined || protocol === null) problems.push(required(`${path}.protocol`, "", "TCP"));
    else if (typeof protocol !== "string" || !supportedProtocols.includes(protocol)) {
      problems.push(notSupported(`${path}.protocol`, protocol, supportedProtocols));
    }
    // An unset port means "all ports" to consumers; a set one must be a real port.
    if (port.port !== undefined && port.port !== null) {
      if (typeof port.port !== "number")
        problems.push(invalid(`${path}.port`, port.port, "must be an integer", "8080"));
      else
        for (const msg of isValidPortNum(port.port))
          problems.push(invalid(`${path}.port`, port.port, msg, "8080"));
    }
    if (port.appProtocol !== undefined && port.appProtocol !== null) {
      const appProtocol = String(port.appProtocol);
      for (const msg of isQualifiedName(appProtocol))
        problems.push(invalid(`${path}.appProtocol`, appProtocol, msg));
    }
  });
  return problems;
}

/** An FQDN address: a DNS-1123 subdomain (a trailing dot allowed) of at least two labels. */
function validateFullyQualifiedDomainName(path: string, value: string): FieldProblem[] {
  if (value === "") return [required(path)];
  const name = value.endsWith(".") ? value.slice(0, -1) : value;
  const subdomain = isDNS1123Subdomain(name);
  if (subdomain.length > 0) return [invalid(path, name, subdomain.join(","), "db.example.com")];
  const labels = name.split(".");
  if (labels.length < 2) {
    return [
      invalid(
        path,
        name,
        "should be a domain with at least two segments separated by dots",
        "db.example.com",
      ),
    ];
  }
  for (const label of labels) {
    const errs = isDNS1123Label(label);
    if (errs.length > 0) return [invalid(path, label, errs.join(","), "db.example.com")];
  }
  return [];
}
