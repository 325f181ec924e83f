import { formatAge } from "./format-age.ts";
import { asArray, asRecord, asString } from "./json-access.ts";
import { creationTimestampOf, nameOf } from "./object-meta.ts";
import type { KubeObject, TableColumn } from "./resource-strategy.ts";
import { ageColumn, nameColumn, tableColumn } from "./table-columns.ts";

/** `kubectl get nodes` columns, as kube-apiserver serves them (the last five with `-o wide`). */
export const nodeTableColumns: readonly TableColumn[] = [
  nameColumn,
  tableColumn("Status", "The status of the node"),
  tableColumn("Roles", "The roles of the node"),
  ageColumn,
  tableColumn("Version", "Kubelet Version reported by the node."),
  tableColumn("Internal-IP", "List of addresses reachable to the node.", { priority: 1 }),
  tableColumn("External-IP", "List of addresses reachable to the node.", { priority: 1 }),
  tableColumn(
    "OS-Image",
    "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
    { priority: 1 },
  ),
  tableColumn(
    "Kernel-Version",
    "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
    { priority: 1 },
  ),
  tableColumn(
    "Container-Runtime",
    "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
    { priority: 1 },
  ),
];

const rolePrefix = "node-role.kubernetes.io/";
const legacyRoleLabel = "kubernetes.io/role";

/**
 * One row: NAME, STATUS (`Ready`/`NotReady`/`Unknown`, `,SchedulingDisabled` when cordoned),
 * ROLES (from `node-role.kubernetes.io/*` labels), AGE, VERSION, then the wide columns.
 */
export function nodeTableRow(obj: KubeObject, now: Date): unknown[] {
  const spec = asRecord(obj.spec) ?? {};
  const status = asRecord(obj.status) ?? {};
  const ready = asArray(status.conditions)
    .map((c) => asRecord(c) ?? {})
    .find((c) => c.type === "Ready");
  const states = [ready === undefined ? "Unknown" : ready.status === "True" ? "Ready" : "NotReady"];
  if (spec.unschedulable === true) states.push("SchedulingDisabled");
  const nodeInfo = asRecord(status.nodeInfo) ?? {};
  const addresses = asArray(status.addresses).map((a) => asRecord(a) ?? {});
  const addressOf = (type: string): string =>
    asString(addresses.find((a) => a.type === type)?.address) ?? "<none>";
  const orUnknown = (value: unknown): string => asString(value) || "<unknown>";
  return [
    nameOf(obj),
    states.join(","),
    nodeRoles(obj).join(",") || "<none>",
    formatAge(creationTimestampOf(obj), now),
    asString(nodeInfo.kubeletVersion) ?? "",
    addressOf("InternalIP"),
    addressOf("ExternalIP"),
    orUnknown(nodeInfo.osImage),
    orUnknown(nodeInfo.kernelVersion),
    orUnknown(nodeInfo.containerRuntimeVersion),
  ];
}

/** Sorted roles from `node-role.kubernetes.io/<role>` keys and the legacy `kubernetes.io/role` value. */
function nodeRoles(obj: KubeObject): string[] {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(obj.metadata?.labels ?? {})) {
    if (key.startsWith(rolePrefix) && key.length > rolePrefix.length) roles.add(key.slice(rolePrefix.length));
    else if (key === legacyRoleLabel && value !== "") roles.add(value);
  }
  return [...roles].sort();
}
