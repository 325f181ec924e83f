import type { FieldProblem } from "../../errors.ts";
import { cidrFamilyOf } from "../../model/ip.ts";
import { forbidden, invalid } from "./field-errors.ts";
import { validateCIDR, validateIP } from "./ip-rules.ts";
import { asArray, asRecord, asString } from "./json-access.ts";
import { validateObjectMeta, validateObjectMetaUpdate } from "./metadata-validation.ts";
import type { KubeObject } from "./resource-strategy.ts";

/**
 * A Node: metadata (a DNS-1123 subdomain name, no namespace), `spec.podCIDRs` valid CIDRs with at
 * most one per family, and — because kproxy reads them — InternalIP/ExternalIP addresses that are
 * IPs.
 */
export function validateNode(obj: KubeObject): FieldProblem[] {
  const problems = validateObjectMeta(obj, { namespaced: false, nameRule: "dns1123Subdomain" });
  const spec = asRecord(obj.spec) ?? {};
  const cidrs = asArray(spec.podCIDRs).map((c) => (typeof c === "string" ? c : String(c)));
  cidrs.forEach((cidr, i) => problems.push(...validateCIDR(`spec.podCIDRs[${i}]`, cidr)));
  if (cidrs.length > 1) {
    const families = new Set(cidrs.map(cidrFamilyOf));
    if (cidrs.length > 2 || !(families.has("IPv4") && families.has("IPv6"))) {
      problems.push(invalid("spec.podCIDRs", cidrs, "may specify no more than one CIDR for each IP family"));
    }
  }
  if (
    typeof spec.podCIDR === "string" &&
    spec.podCIDR !== "" &&
    cidrs.length > 0 &&
    cidrs[0] !== spec.podCIDR
  ) {
    problems.push(invalid("spec.podCIDR", spec.podCIDR, "must match `spec.podCIDRs[0]`"));
  }
  asArray(asRecord(obj.status)?.addresses).forEach((item, i) => {
    const address = asRecord(item) ?? {};
    if (address.type === "InternalIP" || address.type === "ExternalIP") {
      problems.push(...validateIP(`status.addresses[${i}].address`, asString(address.address) ?? ""));
    }
  });
  return problems;
}

/**
 * `validateNode` plus the update rules: `spec.podCIDRs` and `spec.providerID` may be set once
 * (from empty) but never changed.
 */
export function validateNodeUpdate(obj: KubeObject, old: KubeObject): FieldProblem[] {
  const problems = validateObjectMetaUpdate(obj, old);
  const spec = asRecord(obj.spec) ?? {};
  const oldSpec = asRecord(old.spec) ?? {};
  const before = asArray(oldSpec.podCIDRs);
  const after = asArray(spec.podCIDRs);
  const podCIDRMessage = 'node updates may not change podCIDR except from "" to valid';
  if (before.length > 0) {
    if (before.length !== after.length) problems.push(forbidden("spec.podCIDRs", podCIDRMessage));
    else
      before.forEach(
        (cidr, i) => cidr !== after[i] && problems.push(forbidden("spec.podCIDRs", podCIDRMessage)),
      );
  }
  const providerID = asString(oldSpec.providerID) ?? "";
  if (providerID !== "" && providerID !== (asString(spec.providerID) ?? "")) {
    problems.push(
      forbidden("spec.providerID", 'node updates may not change providerID except from "" to valid'),
    );
  }
  problems.push(...validateNode(obj));
  return problems;
}
