import type { FieldProblem } from "../../errors.ts";
import { ipFamilyOf } from "../../model/ip.ts";
import {
  duplicate,
  forbidden,
  GoLiteral,
  goStringSlice,
  invalid,
  notSupported,
  required,
} from "./field-errors.ts";
import { validateIP } from "./ip-rules.ts";
import { asArray, asString } from "./json-access.ts";
import type { KubeObject } from "./resource-strategy.ts";
import { clusterIPsOf, isHeadless, serviceSpec, serviceType } from "./service-spec.ts";

const supportedFamilies: readonly string[] = ["IPv4", "IPv6"];
const supportedFamilyPolicies: readonly string[] = ["PreferDualStack", "RequireDualStack", "SingleStack"];

/**
 * `clusterIP`, `clusterIPs`, `ipFamilies` and `ipFamilyPolicy` of one Service (upstream's
 * `ValidateServiceClusterIPsRelatedFields`): the two IP fields agree, every IP is valid (or the
 * single value "None"), at most one IP per family, and each IP matches its listed family.
 * ExternalName Services may set none of them (checked by the caller with their type rules).
 */
export function validateServiceClusterIPs(obj: KubeObject): FieldProblem[] {
  if (serviceType(obj) === "ExternalName") return [];
  const problems: FieldProblem[] = [];
  const spec = serviceSpec(obj);
  const clusterIP = asString(spec.clusterIP) ?? "";
  const clusterIPs = clusterIPsOf(obj);
  if (clusterIP !== "") {
    if (clusterIPs.length === 0) problems.push(required("spec.clusterIPs", "", `["${clusterIP}"]`));
    else if (clusterIPs[0] !== clusterIP) {
      problems.push(invalid("spec.clusterIPs", clusterIPs, "first value must match `clusterIP`"));
    }
  } else if (clusterIPs.length !== 0) {
    problems.push(invalid("spec.clusterIPs", clusterIPs, "must be empty when `clusterIP` is not specified"));
  }

  const families = asArray(spec.ipFamilies);
  const seen = new Set<unknown>();
  families.forEach((family, i) => {
    if (typeof family !== "string" || !supportedFamilies.includes(family)) {
      problems.push(notSupported(`spec.ipFamilies[${i}]`, family, supportedFamilies));
    }
    if (seen.has(family)) problems.push(duplicate(`spec.ipFamilies[${i}]`, family));
    seen.add(family);
  });
  const policy = spec.ipFamilyPolicy;
  if (
    policy !== undefined &&
    policy !== null &&
    (typeof policy !== "string" || !supportedFamilyPolicies.includes(policy))
  ) {
    problems.push(notSupported("spec.ipFamilyPolicy", policy, supportedFamilyPolicies));
  }

  let hasInvalidIPs = false;
  clusterIPs.forEach((ip, i) => {
    if (i === 0 && ip === "None") {
      if (clusterIPs.length > 1) {
        hasInvalidIPs = true;
        problems.push(invalid("spec.clusterIPs", clusterIPs, "'None' must be the first and only value"));
      }
      return;
    }
    const ipProblems = validateIP(`spec.clusterIPs[${i}]`, ip);
    if (ipProblems.length > 0) hasInvalidIPs = true;
    problems.push(...ipProblems);
  });
  if (clusterIPs.length > 2)
    problems.push(invalid("spec.clusterIPs", clusterIPs, "may only hold up to 2 values"));
  // Invalid IPs would only make the family checks below confusing.
  if (hasInvalidIPs) return problems;

  const ipFamiliesSeen = new Set(clusterIPs.map(ipFamilyOf));
  // As upstream: several IPs must include both families (a third IP is reported above).
  if (clusterIPs.length > 1 && !(ipFamiliesSeen.has("IPv4") && ipFamiliesSeen.has("IPv6"))) {
    problems.push(
      invalid("spec.clusterIPs", clusterIPs, "may specify no more than one IP for each IP family"),
    );
  }
  if (!isHeadless(obj)) {
    clusterIPs.forEach((ip, i) => {
      const family = families[i];
      if (family === "IPv4" && ipFamilyOf(ip) === "IPv6") {
        problems.push(
          invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``),
        );
      }
      if (family === "IPv6" && ipFamilyOf(ip) !== "IPv6") {
        problems.push(
          invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``),
        );
      }
    });
  }
  return problems;
}

/**
 * What an update may do to cluster IPs and families (upstream's upgrade/downgrade rules): the
 * primary IP and family never change once set; a secondary may be added, or released only with
 * `ipFamilyPolicy: SingleStack`. Changes to, from or on ExternalName (and between headless
 * Services) are exempt: those IPs are released or never existed.
 */
export function validateServiceClusterIPsUpdate(obj: KubeObject, old: KubeObject): FieldProblem[] {
  if (serviceType(obj) === "ExternalName" || serviceType(old) === "ExternalName") return [];
  return [...validateClusterIPsChange(obj, old), ...validateIPFamiliesChange(obj, old)];
}

function validateClusterIPsChange(obj: KubeObject, old: KubeObject): FieldProblem[] {
  if (isHeadless(obj) && isHeadless(old)) return [];
  const problems: FieldProblem[] = [];
  const before = clusterIPsOf(old);
  const after = clusterIPsOf(obj);
  if (before.length === after.length) {
    before.forEach((ip, i) => {
      if (ip !== after[i]) problems.push(invalid(`spec.clusterIPs[${i}]`, after, "may not change once set"));
    });
  } else if (before.length > after.length) {
    if (after.length === 0) {
      problems.push(
        invalid("spec.clusterIPs[0]", new GoLiteral("[]string(nil)"), "primary clusterIP can not be unset"),
      );
    }
    if (before.length > 0 && after.length > 0 && after[0] !== before[0]) {
      problems.push(invalid("spec.clusterIPs[0]", after, "may not change once set"));
    }
    if (after.length === 1 && serviceSpec(obj).ipFamilyPolicy !== "SingleStack") {
      problems.push(
        invalid(
          "spec.ipFamilyPolicy",
          serviceSpec(obj).ipFamilyPolicy,
          "must be set to 'SingleStack' when releasing the secondary clusterIP",
        ),
      );
    }
  } else if (before.length > 0 && after[0] !== before[0]) {
    problems.push(invalid("spec.clusterIPs[0]", after, "may not change once set"));
  }
  return problems;
}

function validateIPFamiliesChange(obj: KubeObject, old: KubeObject): FieldProblem[] {
  // Headless Services may change families, and so may a Service turning headful or headless.
  if (isHeadless(obj) || isHeadless(old)) return [];
  const problems: FieldProblem[] = [];
  const before = asArray(serviceSpec(old).ipFamilies);
  const after = asArray(serviceSpec(obj).ipFamilies);
  if (before.length === after.length) {
    if (before.some((family, i) => family !== after[i])) {
      problems.push(
        invalid("spec.ipFamilies[0]", goStringSlice("core.IPFamily", after), "may not change once set"),
      );
    }
  } else if (before.length > after.length) {
    if (clusterIPsOf(obj).length === 0) {
      problems.push(
        invalid(
          "spec.ipFamilies[0]",
          goStringSlice("core.IPFamily", after),
          "primary ipFamily can not be unset",
        ),
      );
    }
    // Upstream shows the cluster IPs as the bad value here; so do we, to print the same line.
    if (after.length > 0 && after[0] !== before[0]) {
      problems.push(invalid("spec.ipFamilies[0]", clusterIPsOf(obj), "may not change once set"));
    }
    if (after.length === 1 && serviceSpec(obj).ipFamilyPolicy !== "SingleStack") {
      problems.push(
        invalid(
          "spec.ipFamilyPolicy",
          serviceSpec(obj).ipFamilyPolicy,
          "must be set to 'SingleStack' when releasing the secondary ipFamily",
        ),
      );
    }
  } else if (before.length > 0 && after.length > 0 && after[0] !== before[0]) {
    problems.push(invalid("spec.ipFamilies[0]", clusterIPsOf(obj), "may not change once set"));
  }
  return problems;
}

/** ExternalName Services have no cluster IPs, families or family policy. */
export function validateExternalNameHasNoClusterIPs(obj: KubeObject): FieldProblem[] {
  const spec = serviceSpec(obj);
  const problems: FieldProblem[] = [];
  if (clusterIPsOf(obj).length > 0)
    problems.push(forbidden("spec.clusterIPs", "may not be set for ExternalName services"));
  if (asArray(spec.ipFamilies).length > 0)
    problems.push(forbidden("spec.ipFamilies", "may not be set for ExternalName services"));
  if (spec.ipFamilyPolicy !== undefined && spec.ipFamilyPolicy !== null) {
    problems.push(forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services"));
  }
  return problems;
}
