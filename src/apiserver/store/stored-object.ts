import type { KubeObject } from "../registry/resource-strategy.ts";

/**
 * One object as the store holds it: the parsed object (never modified once stored: writers
 * clone first) and its JSON, serialised once so that lists and watches stream it cheaply.
 */
export class StoredObject {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly rv: number;
  readonly object: KubeObject;
  readonly json: string;

  constructor(object: KubeObject, rv: number) {
    this.namespace = object.metadata?.namespace ?? "";
    this.name = object.metadata?.name ?? "";
    this.key = objectKey(this.namespace, this.name);
    this.rv = rv;
    this.object = deepFreeze(object);
    this.json = JSON.stringify(object);
  }
}

/**
 * Freezes an object and everything in it. Stored objects are shared by lists, watches and
 * controllers; a writer that forgot to clone would otherwise change history in place (strict-mode
 * code gets a TypeError instead, which tests catch).
 */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** The store key of an object: `namespace/name` (`/name` for cluster-scoped objects). */
export function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** A change to one object, as watches deliver it. */
export interface StoreEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly rv: number;
  /** The object after the change (for DELETED: its last state, at the deletion's resourceVersion). */
  readonly object: StoredObject;
  /** The object before the change (for MODIFIED and DELETED). */
  readonly previous: StoredObject | undefined;
}
