import type { FieldProblem } from "../../errors.ts";
import { ipFamilyOf } from "../../model/ip.ts";
import { forbidden, invalid, notSupported } from "./field-errors.ts";
import { validateIP } from "./ip-rules.ts";
import { asArray, asRecord } from "./json-access.ts";
import { isDNS1123Subdomain } from "./name-rules.ts";
import type { KubeObject } from "./resource-strategy.ts";
import { serviceType } from "./service-spec.ts";

const supportedIPModes: readonly string[] = ["Proxy", "VIP"];

/**
 * `status.loadBalancer` (upstream's `ValidateLoadBalancerStatus`): ingress only on LoadBalancer
 * Services, each entry's `ip` an IP, `hostname` a DNS name (not an IP), `ipMode` VIP or Proxy
 * and only with an `ip`. A missing `ipMode` is accepted and means VIP (defaulting fills it).
 */
export function validateServiceStatus(obj: KubeObject): FieldProblem[] {
  const ingress = asArray(asRecord(asRecord(obj.status)?.loadBalancer)?.ingress);
  if (ingress.length === 0) return [];
  const path = "status.loadBalancer.ingress";
  if (serviceType(obj) !== "LoadBalancer")
    return [forbidden(path, "may only be used when `spec.type` is 'LoadBalancer'")];
  const problems: FieldProblem[] = [];
  ingress.forEach((item, i) => {
    const entry = asRecord(item) ?? {};
    const at = `${path}[${i}]`;
    const ip = typeof entry.ip === "string" ? entry.ip : "";
    if (ip !== "") problems.push(...validateIP(`${at}.ip`, ip));
    const ipMode = entry.ipMode;
    if (ipMode !== undefined && ipMode !== null) {
      if (ip === "") problems.push(forbidden(`${at}.ipMode`, "may not be specified when `ip` is not set"));
      else if (typeof ipMode !== "string" || !supportedIPModes.includes(ipMode)) {
        problems.push(notSupported(`${at}.ipMode`, ipMode, supportedIPModes));
      }
    }
    const hostname = typeof entry.hostname === "string" ? entry.hostname : "";
    if (hostname !== "") {
      for (const msg of isDNS1123Subdomain(hostname))
        problems.push(invalid(`${at}.hostname`, hostname, msg, "lb.example.com"));
      if (ipFamilyOf(hostname) !== undefined) {
        problems.push(
          invalid(`${at}.hostname`, hostname, "must be a DNS name, not an IP address", "lb.example.com"),
        );
      }
    }
  });
  return problems;
}
