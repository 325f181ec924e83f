import type { FieldProblem } from "../../errors.ts";
import { carryOverForUpdate } from "./carry-over-for-update.ts";
import { invalid, required } from "./field-errors.ts";
import { formatAge } from "./format-age.ts";
import { asNumber, asRecord, asString } from "./json-access.ts";
import { validateObjectMeta, validateObjectMetaUpdate } from "./metadata-validation.ts";
import type { KubeObject, ResourceStrategy } from "./resource-strategy.ts";
import { tableColumn } from "./table-columns.ts";

/**
 * core/v1 Events. kubectl describe lists a Service's events with an `involvedObject.*` field
 * selector, so those fields are selectable; the list may well be empty.
 */
export function eventStrategy(): ResourceStrategy {
  return {
    info: {
      group: "",
      version: "v1",
      resource: "events",
      singularName: "event",
      kind: "Event",
      listKind: "EventList",
      namespaced: true,
      shortNames: ["ev"],
      hasStatus: false,
      categories: [],
    },
    prepareForCreate() {},
    prepareForUpdate(obj, old) {
      carryOverForUpdate(obj, old);
    },
    validate: validateEvent,
    validateUpdate: (obj, old) => [...validateObjectMetaUpdate(obj, old), ...validateEvent(obj)],
    // Events list by time, not name: kubectl's columns start with LAST SEEN and carry no AGE.
    tableColumns: [
      tableColumn("Last Seen", "The time at which the most recent occurrence of this event was recorded."),
      tableColumn("Type", "Type of this event (Normal, Warning), new types could be added in the future."),
      tableColumn(
        "Reason",
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
      ),
      tableColumn("Object", "The object that this event is about."),
      tableColumn("Subobject", "The subobject that this event is about.", { priority: 1 }),
      tableColumn("Source", "The component reporting this event.", { priority: 1 }),
      tableColumn("Message", "A human-readable description of the status of this operation."),
      tableColumn("First Seen", "The time at which the event was first recorded.", { priority: 1 }),
      tableColumn("Count", "The number of times this event has occurred.", { priority: 1, type: "integer" }),
      tableColumn("Name", "Name must be unique within a namespace.", { priority: 1, format: "name" }),
    ],
    tableRow: eventTableRow,
    mergeKeys: { "metadata.ownerReferences": "uid" },
    fieldValue(obj, field) {
      if (field.startsWith("involvedObject.")) {
        const value = asRecord(obj.involvedObject)?.[field.slice("involvedObject.".length)];
        const known = ["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"];
        return known.includes(field.slice("involvedObject.".length)) ? (asString(value) ?? "") : undefined;
      }
      if (field === "reason" || field === "type") return asString(obj[field]) ?? "";
      if (field === "source") return asString(asRecord(obj.source)?.component) ?? "";
      if (field === "reportingComponent") return asString(obj.reportingComponent) ?? "";
      return undefined;
    },
  };
}

/**
 * A core/v1 Event, as kube-apiserver checks events sent to v1: a DNS-1123 subdomain name, and
 * an `involvedObject.namespace` that matches the Event's own (or is empty in `default`).
 */
function validateEvent(obj: KubeObject): FieldProblem[] {
  const problems = validateObjectMeta(obj, { namespaced: true, nameRule: "dns1123Subdomain" });
  const namespace = asString(obj.metadata?.namespace) ?? "";
  const involved = asRecord(obj.involvedObject);
  const involvedNamespace = asString(involved?.namespace) ?? "";
  if (involved === undefined) problems.push(required("involvedObject", "", '{kind: "Service", name: "web"}'));
  const legacy = obj.eventTime === undefined || obj.eventTime === null;
  const mismatch = legacy
    ? involvedNamespace === ""
      ? namespace !== "" && namespace !== "default"
      : involvedNamespace !== namespace
    : involvedNamespace === "" && namespace !== "default" && namespace !== "kube-system";
  if (involved !== undefined && mismatch) {
    problems.push(
      invalid("involvedObject.namespace", involvedNamespace, "does not match event.namespace", namespace),
    );
  }
  if (!legacy) {
    for (const key of ["reportingComponent", "reportingInstance", "action", "reason"]) {
      if (!asString(obj[key])) problems.push(required(key));
    }
  }
  return problems;
}

/** LAST SEEN, TYPE, REASON, OBJECT (`kind/name`), SUBOBJECT, SOURCE, MESSAGE, FIRST SEEN, COUNT, NAME. */
function eventTableRow(obj: KubeObject, now: Date): unknown[] {
  const involved = asRecord(obj.involvedObject) ?? {};
  const firstTimestamp = asString(obj.firstTimestamp);
  const firstSeen = formatAge(firstTimestamp || asString(obj.eventTime), now);
  const series = asRecord(obj.series);
  const lastTimestamp = asString(obj.lastTimestamp);
  const lastSeen =
    series !== undefined
      ? formatAge(asString(series.lastObservedTime), now)
      : lastTimestamp
        ? formatAge(lastTimestamp, now)
        : firstSeen;
  // Singleton events of the newer API carry no count.
  const count = (series !== undefined ? asNumber(series.count) : asNumber(obj.count)) || 1;
  const kind = (asString(involved.kind) ?? "").toLowerCase();
  const name = asString(involved.name) ?? "";
  const source = asRecord(obj.source) ?? {};
  const component = asString(source.component) || asString(obj.reportingComponent) || "";
  const instance = asString(source.host) || asString(obj.reportingInstance) || "";
  return [
    lastSeen,
    asString(obj.type) ?? "",
    asString(obj.reason) ?? "",
    name === "" ? kind : `${kind}/${name}`,
    asString(involved.fieldPath) ?? "",
    instance === "" ? component : `${component}, ${instance}`,
    (asString(obj.message) ?? "").trim(),
    firstSeen,
    count,
    asString(obj.metadata?.name) ?? "",
  ];
}
