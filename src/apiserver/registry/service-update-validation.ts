import type { FieldProblem } from "../../errors.ts";
import { forbidden, invalid } from "./field-errors.ts";
import { validateObjectMetaUpdate } from "./metadata-validation.ts";
import type { KubeObject } from "./resource-strategy.ts";
import { validateServiceClusterIPsUpdate } from "./service-cluster-ip-validation.ts";
import { needsHealthCheckNodePort, serviceSpec, serviceType } from "./service-spec.ts";
import { validateService } from "./service-validation.ts";

/**
 * Every problem of a Service update (upstream's `ValidateServiceUpdate`): fixed metadata, cluster
 * IPs and IP families that may not change once set (except to, from or on ExternalName), a
 * LoadBalancer's `loadBalancerClass` and health-check node port, then all of `validateService`.
 */
export function validateServiceUpdate(obj: KubeObject, old: KubeObject): FieldProblem[] {
  const problems = validateObjectMetaUpdate(obj, old);
  problems.push(...validateServiceClusterIPsUpdate(obj, old));
  if (serviceType(obj) === "LoadBalancer" && serviceType(old) === "LoadBalancer") {
    const before = serviceSpec(old).loadBalancerClass ?? null;
    const after = serviceSpec(obj).loadBalancerClass ?? null;
    if (before !== after) problems.push(invalid("spec.loadBalancerClass", after, "may not change once set"));
  }
  if (needsHealthCheckNodePort(old) && needsHealthCheckNodePort(obj)) {
    if ((serviceSpec(old).healthCheckNodePort ?? 0) !== (serviceSpec(obj).healthCheckNodePort ?? 0)) {
      problems.push(forbidden("spec.healthCheckNodePort", "field is immutable"));
    }
  }
  problems.push(...validateService(obj));
  return problems;
}
