import type { FieldProblem } from "../../errors.ts";

/** A stored Kubernetes object as plain JSON (what the API server reads and writes). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    ownerReferences?: Array<Record<string, unknown>>;
    managedFields?: unknown[];
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** How a resource is served: its names in discovery and URLs. */
export interface ResourceInfo {
  /** API group; "" for the core group. */
  readonly group: string;
  readonly version: string;
  /** Plural resource name in URLs, e.g. `services`. */
  readonly resource: string;
  readonly singularName: string;
  readonly kind: string;
  readonly listKind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  /** True when the resource has a `/status` subresource. */
  readonly hasStatus: boolean;
  readonly categories: readonly string[];
}

/** One column of a `meta.k8s.io/v1` Table (what `kubectl get` prints). */
export interface TableColumn {
  readonly name: string;
  readonly type: "string" | "integer" | "number" | "boolean" | "date";
  readonly format: string;
  readonly description: string;
  /** 0 shows by default; 1 only with `-o wide`. */
  readonly priority: number;
}

/**
 * Per-resource behaviour of the embedded API server, like kube-apiserver's REST strategies:
 * defaulting, validation, what an update may change, and how `kubectl get` shows the object.
 * Pure functions of their inputs (allocation of IPs and ports is done by the server around them).
 */
export interface ResourceStrategy {
  readonly info: ResourceInfo;
  /** Fills defaults on create (e.g. Service `protocol: TCP`, `targetPort = port`, `sessionAffinity: None`). */
  prepareForCreate(obj: KubeObject): void;
  /**
   * Fills defaults on update and carries over what the main resource may not change: on a main
   * update, `status` is kept from `old`; on a `/status` update (`subresource === "status"`),
   * everything but `status` is kept from `old`.
   */
  prepareForUpdate(obj: KubeObject, old: KubeObject, subresource?: "status"): void;
  /** Every problem of a new object, each with its field path (e.g. `spec.ports[0].port`). */
  validate(obj: KubeObject): FieldProblem[];
  /** Every problem of an update: `validate` plus immutability rules (e.g. `spec.clusterIP`). */
  validateUpdate(obj: KubeObject, old: KubeObject): FieldProblem[];
  /** Table columns for `kubectl get`, and one row of cells per object (NAME first, AGE last). */
  readonly tableColumns: readonly TableColumn[];
  tableRow(obj: KubeObject, now: Date): unknown[];
  /**
   * Strategic-merge-patch list merge keys: JSON path of a list (dot-separated, no indices) → the
   * field that identifies its items, e.g. `spec.ports` → `port`, `spec.containers` → `name`.
   */
  readonly mergeKeys: Readonly<Record<string, string>>;
  /** Field selectors the resource supports beyond `metadata.name`/`metadata.namespace`. */
  fieldValue?(obj: KubeObject, field: string): string | undefined;
}
