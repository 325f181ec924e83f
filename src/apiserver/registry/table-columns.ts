import type { TableColumn } from "./resource-strategy.ts";

/**
 * Builds one Table column. Names use kube-apiserver's spelling ("Cluster-IP", "Port(s)"):
 * kubectl upper-cases them itself, and clients that read the Table see what a real server sends.
 */
export function tableColumn(
  name: string,
  description: string,
  options: { type?: TableColumn["type"]; format?: string; priority?: number } = {},
): TableColumn {
  return {
    name,
    type: options.type ?? "string",
    format: options.format ?? "",
    description,
    priority: options.priority ?? 0,
  };
}

/** The NAME column every resource starts with. */
export const nameColumn: TableColumn = tableColumn(
  "Name",
  "Name must be unique within a namespace. Cannot be updated.",
  { format: "name" },
);

/** The AGE column (time since `metadata.creationTimestamp`). */
export const ageColumn: TableColumn = tableColumn(
  "Age",
  "CreationTimestamp is a timestamp representing the server time when this object was created.",
);
