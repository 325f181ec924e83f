import { formatAge } from "./format-age.ts";
import { asArray, asNumber, asRecord, asString } from "./json-access.ts";
import { creationTimestampOf, nameOf } from "./object-meta.ts";
import type { KubeObject, TableColumn } from "./resource-strategy.ts";
import { ageColumn, nameColumn, tableColumn } from "./table-columns.ts";

/** `kubectl get pods` columns, as kube-apiserver serves them (the last four with `-o wide`). */
export const podTableColumns: readonly TableColumn[] = [
  nameColumn,
  tableColumn("Ready", "The aggregate readiness state of this pod for accepting traffic."),
  tableColumn("Status", "The aggregate status of the containers in this pod."),
  tableColumn(
    "Restarts",
    "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
  ),
  ageColumn,
  tableColumn("IP", "IP address allocated to the pod. Routable at least within the cluster.", {
    priority: 1,
  }),
  tableColumn("Node", "NodeName is a request to schedule this pod onto a specific node.", { priority: 1 }),
  tableColumn(
    "Nominated Node",
    "nominatedNodeName is set only when this pod preempts other pods on the node.",
    { priority: 1 },
  ),
  tableColumn("Readiness Gates", "If specified, all readiness gates will be evaluated for pod readiness.", {
    priority: 1,
  }),
];

type Rec = Record<string, unknown>;

/**
 * One row: NAME, READY (`ready/total`), STATUS (phase, or the reason of the container that
 * explains it, `Init:x/y` while initialising, `Terminating` once deleted), RESTARTS (with the
 * time since the last one), AGE, IP, NODE, NOMINATED NODE, READINESS GATES — as kubectl prints.
 */
export function podTableRow(obj: KubeObject, now: Date): unknown[] {
  const spec = asRecord(obj.spec) ?? {};
  const status = asRecord(obj.status) ?? {};
  const containers = asArray(spec.containers);
  const initContainers = asArray(spec.initContainers);
  const conditions = asArray(status.conditions).map((c) => asRecord(c) ?? {});
  let reason = asString(status.reason) || asString(status.phase) || "";
  if (conditions.some((c) => c.type === "PodScheduled" && c.reason === "SchedulingGated"))
    reason = "SchedulingGated";

  let restarts = 0;
  let readyContainers = 0;
  let lastRestart: string | undefined;
  const noteRestart = (container: Rec): void => {
    restarts += asNumber(container.restartCount) ?? 0;
    const finishedAt = asString(asRecord(asRecord(container.lastState)?.terminated)?.finishedAt);
    if (
      finishedAt !== undefined &&
      (lastRestart === undefined || Date.parse(finishedAt) > Date.parse(lastRestart))
    ) {
      lastRestart = finishedAt;
    }
  };

  let initializing = false;
  const initStatuses = asArray(status.initContainerStatuses).map((c) => asRecord(c) ?? {});
  for (const [i, container] of initStatuses.entries()) {
    noteRestart(container);
    const state = asRecord(container.state) ?? {};
    const terminated = asRecord(state.terminated);
    const waiting = asRecord(state.waiting);
    if (terminated !== undefined && (asNumber(terminated.exitCode) ?? 0) === 0) continue;
    initializing = true;
    if (terminated !== undefined) reason = `Init:${terminatedReason(terminated)}`;
    else if (waiting !== undefined && asString(waiting.reason) && waiting.reason !== "PodInitializing") {
      reason = `Init:${String(waiting.reason)}`;
    } else reason = `Init:${i}/${initContainers.length}`;
    break;
  }

  const initialized = conditions.some((c) => c.type === "Initialized" && c.status === "True");
  if (!initializing || initialized) {
    let hasRunning = false;
    const statuses = asArray(status.containerStatuses).map((c) => asRecord(c) ?? {});
    for (let i = statuses.length - 1; i >= 0; i--) {
      const container = statuses[i] ?? {};
      noteRestart(container);
      const state = asRecord(container.state) ?? {};
      const waiting = asRecord(state.waiting);
      const terminated = asRecord(state.terminated);
      if (waiting !== undefined && asString(waiting.reason)) reason = String(waiting.reason);
      else if (terminated !== undefined) reason = terminatedReason(terminated);
      else if (container.ready === true && asRecord(state.running) !== undefined) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === "Completed" && hasRunning) {
      reason = conditions.some((c) => c.type === "Ready" && c.status === "True") ? "Running" : "NotReady";
    }
  }

  const deleted = typeof obj.metadata?.deletionTimestamp === "string";
  if (deleted && status.reason === "NodeLost") reason = "Unknown";
  else if (deleted && status.phase !== "Succeeded" && status.phase !== "Failed") reason = "Terminating";

  const restartsText =
    restarts !== 0 && lastRestart !== undefined
      ? `${restarts} (${formatAge(lastRestart, now)} ago)`
      : String(restarts);
  return [
    nameOf(obj),
    `${readyContainers}/${containers.length}`,
    reason,
    restartsText,
    formatAge(creationTimestampOf(obj), now),
    asString(asRecord(asArray(status.podIPs)[0])?.ip) || asString(status.podIP) || "<none>",
    asString(spec.nodeName) || "<none>",
    asString(status.nominatedNodeName) || "<none>",
    readinessGates(spec, conditions),
  ];
}

function terminatedReason(terminated: Rec): string {
  const reason = asString(terminated.reason);
  if (reason) return reason;
  const signal = asNumber(terminated.signal) ?? 0;
  return signal !== 0 ? `Signal:${signal}` : `ExitCode:${asNumber(terminated.exitCode) ?? 0}`;
}

/** `true/total` over `spec.readinessGates`, or `<none>`. */
function readinessGates(spec: Rec, conditions: readonly Rec[]): string {
  const gates = asArray(spec.readinessGates).map((g) => asRecord(g)?.conditionType);
  if (gates.length === 0) return "<none>";
  const passed = gates.filter((type) => conditions.find((c) => c.type === type)?.status === "True").length;
  return `${passed}/${gates.length}`;
}
