import { formatAge } from "./format-age.ts";
import { asArray, asNumber, asRecord, asString } from "./json-access.ts";
import { creationTimestampOf, nameOf } from "./object-meta.ts";
import type { KubeObject, TableColumn } from "./resource-strategy.ts";
import { ageColumn, nameColumn, tableColumn } from "./table-columns.ts";

/** How many ports and addresses a row lists before `+ N more...`, as kubectl does. */
const listedAtMost = 3;

/** `kubectl get endpointslices` columns, as kube-apiserver serves them. */
export const endpointSliceTableColumns: readonly TableColumn[] = [
  nameColumn,
  tableColumn("AddressType", "The IP protocol for this slice"),
  tableColumn("Ports", "The list of ports on this slice"),
  tableColumn("Endpoints", "The list of endpoints on this slice"),
  ageColumn,
];

/** One row: NAME, ADDRESSTYPE, PORTS (`80,443` or `<unset>`), ENDPOINTS (first three addresses), AGE. */
export function endpointSliceTableRow(obj: KubeObject, now: Date): unknown[] {
  const ports = asArray(obj.ports).map((p) => {
    const port = asRecord(p) ?? {};
    const number = asNumber(port.port);
    if (number !== undefined) return String(number);
    return asString(port.name) ?? "*";
  });
  const addresses = asArray(obj.endpoints).flatMap((e) =>
    asArray(asRecord(e)?.addresses).filter((a): a is string => typeof a === "string"),
  );
  return [
    nameOf(obj),
    asString(obj.addressType) ?? "",
    listWithMore(ports),
    listWithMore(addresses),
    formatAge(creationTimestampOf(obj), now),
  ];
}

/** `a,b,c + 2 more...`, or `<unset>` for an empty list. */
function listWithMore(items: readonly string[]): string {
  if (items.length === 0) return "<unset>";
  const shown = items.slice(0, listedAtMost).join(",");
  return items.length > listedAtMost ? `${shown} + ${items.length - listedAtMost} more...` : shown;
}
