import type { FieldProblem } from "../../errors.ts";
import { duplicate, invalid, notSupported, required } from "./field-errors.ts";
import { isDNS1123Label, isQualifiedName, isValidPortName, isValidPortNum } from "./name-rules.ts";

/** Protocols a Service port may use, sorted as upstream lists them in messages. */
export const supportedProtocols: readonly string[] = ["SCTP", "TCP", "UDP"];

/**
 * One entry of `spec.ports` (upstream's `validateServicePort`): a name (required, when the
 * Service has more than one port, a DNS-1123 label and unique), the port number, the protocol,
 * the target port (a number or an IANA service name) and the appProtocol.
 */
export function validateServicePort(
  port: Record<string, unknown>,
  path: string,
  options: { requireName: boolean; seenNames: Set<string> },
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const name = port.name;
  if (name !== undefined && typeof name !== "string") {
    problems.push(invalid(`${path}.name`, name, "must be a string", "http"));
  } else if (name === undefined || name === "") {
    if (options.requireName) problems.push(required(`${path}.name`, "", "http"));
  } else {
    for (const msg of isDNS1123Label(name)) problems.push(invalid(`${path}.name`, name, msg, "http"));
    if (options.seenNames.has(name)) problems.push(duplicate(`${path}.name`, name));
    else options.seenNames.add(name);
  }

  problems.push(...validatePortNumber(port.port, `${path}.port`));

  const protocol = port.protocol;
  if (protocol === undefined || protocol === "") problems.push(required(`${path}.protocol`, "", "TCP"));
  else if (typeof protocol !== "string" || !supportedProtocols.includes(protocol)) {
    problems.push(notSupported(`${path}.protocol`, protocol, supportedProtocols));
  }

  problems.push(...validatePortNumOrName(port.targetPort, `${path}.targetPort`));

  if (port.appProtocol !== undefined && port.appProtocol !== null) {
    if (typeof port.appProtocol !== "string") {
      problems.push(invalid(`${path}.appProtocol`, port.appProtocol, "must be a string", "http"));
    } else {
      for (const msg of isQualifiedName(port.appProtocol)) {
        problems.push(invalid(`${path}.appProtocol`, port.appProtocol, msg, "kubernetes.io/h2c"));
      }
    }
  }
  return problems;
}

/** A port number field: an integer 1-65535. */
export function validatePortNumber(value: unknown, path: string): FieldProblem[] {
  // An omitted port reads as 0, as it does in upstream's typed objects.
  const port = value ?? 0;
  if (typeof port !== "number") return [invalid(path, port, "must be an integer", "80")];
  return isValidPortNum(port).map((msg) => invalid(path, port, msg, "80"));
}

/** A target port: a port number 1-65535, or an IANA service name such as `http` (upstream's `ValidatePortNumOrName`). */
export function validatePortNumOrName(value: unknown, path: string): FieldProblem[] {
  if (value === undefined || value === null) return validatePortNumOrName(0, path);
  if (typeof value === "number") return isValidPortNum(value).map((msg) => invalid(path, value, msg, "8080"));
  if (typeof value === "string")
    return isValidPortName(value).map((msg) => invalid(path, value, msg, "http"));
  return [invalid(path, value, "must be a port number or a port name", "8080")];
}
