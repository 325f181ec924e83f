import type { FieldProblem } from "../../errors.ts";
import { forbidden, immutable, invalid, required, tooLong } from "./field-errors.ts";
import { asRecord } from "./json-access.ts";
import {
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
} from "./name-rules.ts";
import type { KubeObject } from "./resource-strategy.ts";

/** Which syntax a resource's names follow. */
export type NameRule = "dns1123Label" | "dns1123Subdomain" | "dns1035Label";

const nameRules: Record<NameRule, { check: (v: string) => string[]; example: string }> = {
  dns1123Label: { check: isDNS1123Label, example: "my-name" },
  dns1123Subdomain: { check: isDNS1123Subdomain, example: "my-name" },
  dns1035Label: { check: isDNS1035Label, example: "my-name" },
};

/** Upstream caps the annotations of one object at 256 KiB in total. */
const totalAnnotationSizeLimit = 256 * 1024;

/**
 * `metadata` of a new object, as upstream's `ValidateObjectMeta`: name (or generateName) in the
 * resource's syntax, namespace required and a DNS-1123 label for namespaced resources and
 * forbidden otherwise, label and annotation syntax, a non-negative generation.
 */
export function validateObjectMeta(
  obj: KubeObject,
  options: { namespaced: boolean; nameRule: NameRule },
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const meta = asRecord(obj.metadata);
  if (meta === undefined) return [required("metadata.name", "name or generateName is required", "my-name")];
  const rule = nameRules[options.nameRule];
  const generateName = meta.generateName;
  if (typeof generateName === "string" && generateName !== "") {
    // A generated name gets a random suffix, so a trailing '-' is fine in the prefix.
    const masked = generateName.endsWith("-") ? `${generateName.slice(0, -1)}a` : generateName;
    for (const msg of rule.check(masked)) problems.push(invalid("metadata.generateName", generateName, msg));
  }
  const name = meta.name;
  if (name === undefined || name === "") {
    problems.push(required("metadata.name", "name or generateName is required", rule.example));
  } else if (typeof name !== "string") {
    problems.push(invalid("metadata.name", name, "must be a string", rule.example));
  } else {
    for (const msg of rule.check(name)) problems.push(invalid("metadata.name", name, msg, rule.example));
  }
  const namespace = meta.namespace;
  if (options.namespaced) {
    if (namespace === undefined || namespace === "")
      problems.push(required("metadata.namespace", "", "default"));
    else if (typeof namespace !== "string")
      problems.push(invalid("metadata.namespace", namespace, "must be a string"));
    else {
      for (const msg of isDNS1123Label(namespace))
        problems.push(invalid("metadata.namespace", namespace, msg, "default"));
    }
  } else if (namespace !== undefined && namespace !== "") {
    problems.push(forbidden("metadata.namespace", "not allowed on this type"));
  }
  const generation = meta.generation;
  if (typeof generation === "number" && generation < 0) {
    problems.push(invalid("metadata.generation", generation, "must be greater than or equal to 0"));
  }
  problems.push(...validateLabels(meta.labels, "metadata.labels"));
  problems.push(...validateAnnotations(meta.annotations, "metadata.annotations"));
  return problems;
}

/**
 * What an update may not change in `metadata` (upstream's `ValidateObjectMetaUpdate`): name,
 * namespace, uid, creationTimestamp, deletion fields; generation never goes down. The
 * resourceVersion check is the server's. Labels and annotations are checked by `validateObjectMeta`.
 */
export function validateObjectMetaUpdate(obj: KubeObject, old: KubeObject): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const meta = asRecord(obj.metadata) ?? {};
  const oldMeta = asRecord(old.metadata) ?? {};
  const fixed = [
    "name",
    "namespace",
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
  ];
  for (const key of fixed) {
    const now = meta[key] === "" ? undefined : meta[key];
    const before = oldMeta[key] === "" ? undefined : oldMeta[key];
    if (now !== before) problems.push(immutable(`metadata.${key}`, now ?? ""));
  }
  const generation = meta.generation;
  const oldGeneration = oldMeta.generation;
  if (typeof generation === "number" && typeof oldGeneration === "number" && generation < oldGeneration) {
    problems.push(invalid("metadata.generation", generation, "must not be decremented"));
  }
  return problems;
}

/**
 * A label map (metadata labels, Service selectors): keys are qualified names, values label values.
 * Problems name the map itself, as upstream does (`metadata.labels`, `spec.selector`).
 */
export function validateLabels(labels: unknown, field: string): FieldProblem[] {
  if (labels === undefined || labels === null) return [];
  const map = asRecord(labels);
  if (map === undefined) return [invalid(field, labels, "must be a map of string keys to string values")];
  const problems: FieldProblem[] = [];
  for (const [key, value] of Object.entries(map)) {
    for (const msg of isQualifiedName(key)) problems.push(invalid(field, key, msg, "app.kubernetes.io/name"));
    if (typeof value !== "string") {
      problems.push(invalid(field, value, "must be a string"));
      continue;
    }
    for (const msg of isValidLabelValue(value)) problems.push(invalid(field, value, msg, "my-value"));
  }
  return problems;
}

/** Annotation keys are qualified names (compared lower-cased); all values together at most 256 KiB. */
export function validateAnnotations(annotations: unknown, field: string): FieldProblem[] {
  if (annotations === undefined || annotations === null) return [];
  const map = asRecord(annotations);
  if (map === undefined)
    return [invalid(field, annotations, "must be a map of string keys to string values")];
  const problems: FieldProblem[] = [];
  let total = 0;
  for (const [key, value] of Object.entries(map)) {
    for (const msg of isQualifiedName(key.toLowerCase()))
      problems.push(invalid(field, key, msg, "example.com/note"));
    if (typeof value !== "string") problems.push(invalid(`${field}.${key}`, value, "must be a string"));
    total += Buffer.byteLength(key) + (typeof value === "string" ? Buffer.byteLength(value) : 0);
  }
  if (total > totalAnnotationSizeLimit) problems.push(tooLong(field, totalAnnotationSizeLimit));
  return problems;
}
