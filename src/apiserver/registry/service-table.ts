import { formatAge } from "./format-age.ts";
import { asArray, asNumber, asRecord, asString } from "./json-access.ts";
import { creationTimestampOf, nameOf } from "./object-meta.ts";
import type { KubeObject, TableColumn } from "./resource-strategy.ts";
import { ageColumn, nameColumn, tableColumn } from "./table-columns.ts";

/** `kubectl get services` columns, as kube-apiserver serves them (SELECTOR only with `-o wide`). */
export const serviceTableColumns: readonly TableColumn[] = [
  nameColumn,
  tableColumn("Type", "type determines how the Service is exposed."),
  tableColumn("Cluster-IP", "clusterIP is the IP address of the service."),
  tableColumn("External-IP", "externalIPs or load-balancer ingress addresses of the service."),
  tableColumn("Port(s)", "The list of ports that are exposed by this service."),
  ageColumn,
  tableColumn(
    "Selector",
    "Route service traffic to pods with label keys and values matching this selector.",
    {
      priority: 1,
    },
  ),
];

/** One `kubectl get services` row: NAME, TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S), AGE, SELECTOR. */
export function serviceTableRow(obj: KubeObject, now: Date): unknown[] {
  const spec = asRecord(obj.spec) ?? {};
  const clusterIPs = asArray(spec.clusterIPs).filter((ip) => typeof ip === "string");
  const clusterIP = asString(spec.clusterIP);
  // kubectl shows clusterIPs[0]; a headless Service therefore shows "None" as a real server does.
  const internalIP = clusterIPs[0] ?? (clusterIP !== undefined && clusterIP !== "" ? clusterIP : "<none>");
  const ports = servicePortsString(asArray(spec.ports));
  return [
    nameOf(obj),
    asString(spec.type) ?? "",
    internalIP,
    serviceExternalIP(obj),
    ports === "" ? "<none>" : ports,
    formatAge(creationTimestampOf(obj), now),
    formatSelector(asRecord(spec.selector)),
  ];
}

/** `80/TCP,443:30443/TCP`: port, nodePort when set, protocol. */
export function servicePortsString(ports: readonly unknown[]): string {
  return ports
    .map((p) => {
      const port = asRecord(p) ?? {};
      const nodePort = asNumber(port.nodePort) ?? 0;
      const protocol = asString(port.protocol) ?? "";
      const number = asNumber(port.port) ?? 0;
      return nodePort > 0 ? `${number}:${nodePort}/${protocol}` : `${number}/${protocol}`;
    })
    .join(",");
}

/** EXTERNAL-IP: external IPs, load-balancer ingress (or `<pending>`), or the ExternalName. */
export function serviceExternalIP(obj: KubeObject): string {
  const spec = asRecord(obj.spec) ?? {};
  const externalIPs = asArray(spec.externalIPs).filter((ip): ip is string => typeof ip === "string");
  switch (asString(spec.type)) {
    case "ClusterIP":
    case "NodePort":
      return externalIPs.length > 0 ? externalIPs.join(",") : "<none>";
    case "LoadBalancer": {
      const ingress = loadBalancerIngressAddresses(obj);
      const all = [...ingress, ...externalIPs];
      if (all.length > 0) return all.join(",");
      return "<pending>";
    }
    case "ExternalName":
      return asString(spec.externalName) ?? "";
    default:
      return "<unknown>";
  }
}

/** Sorted, de-duplicated ingress IPs (or hostnames when an entry has no IP). */
function loadBalancerIngressAddresses(obj: KubeObject): string[] {
  const status = asRecord(obj.status) ?? {};
  const ingress = asArray(asRecord(status.loadBalancer)?.ingress);
  const addresses = new Set<string>();
  for (const entry of ingress) {
    const record = asRecord(entry) ?? {};
    const ip = asString(record.ip) ?? "";
    const hostname = asString(record.hostname) ?? "";
    if (ip !== "") addresses.add(ip);
    else if (hostname !== "") addresses.add(hostname);
  }
  return [...addresses].sort();
}

/** A label map as `k=v,k2=v2` sorted by key, or `<none>`, like kubectl's `labels.FormatLabels`. */
export function formatSelector(selector: Record<string, unknown> | undefined): string {
  const keys = Object.keys(selector ?? {}).sort();
  return keys.length === 0 ? "<none>" : keys.map((k) => `${k}=${String(selector?.[k])}`).join(",");
}
