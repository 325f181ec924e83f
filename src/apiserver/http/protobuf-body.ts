import { ApiError, badRequest } from "./api-error.ts";

/**
 * Request bodies in Kubernetes' protobuf encoding, which kubectl's typed clients send for
 * built-in kinds (`kubectl create namespace`, `kubectl create service ...`). Only the kinds those
 * commands create are decoded, from their published field numbers; responses stay JSON, which
 * every client accepts. Unset fields arrive as zero values on the wire and are dropped, as Go's
 * `omitempty` would.
 */

type FieldType =
  "string" | "int" | "bool" | "strings" | "map" | "time" | "intOrString" | Schema | { repeated: Schema };
interface Schema {
  readonly [field: number]: readonly [name: string, type: FieldType];
}

const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

const time: FieldType = "time";
const ownerReference: Schema = {
  1: ["kind", "string"],
  3: ["name", "string"],
  4: ["uid", "string"],
  5: ["apiVersion", "string"],
  6: ["controller", "bool"],
  7: ["blockOwnerDeletion", "bool"],
};
const objectMeta: Schema = {
  1: ["name", "string"],
  2: ["generateName", "string"],
  3: ["namespace", "string"],
  5: ["uid", "string"],
  6: ["resourceVersion", "string"],
  7: ["generation", "int"],
  8: ["creationTimestamp", time],
  9: ["deletionTimestamp", time],
  10: ["deletionGracePeriodSeconds", "int"],
  11: ["labels", "map"],
  12: ["annotations", "map"],
  13: ["ownerReferences", { repeated: ownerReference }],
  14: ["finalizers", "strings"],
};
const servicePort: Schema = {
  1: ["name", "string"],
  2: ["protocol", "string"],
  3: ["port", "int"],
  4: ["targetPort", "intOrString"],
  5: ["nodePort", "int"],
  6: ["appProtocol", "string"],
};
const serviceSpec: Schema = {
  1: ["ports", { repeated: servicePort }],
  2: ["selector", "map"],
  3: ["clusterIP", "string"],
  4: ["type", "string"],
  5: ["externalIPs", "strings"],
  7: ["sessionAffinity", "string"],
  8: ["loadBalancerIP", "string"],
  9: ["loadBalancerSourceRanges", "strings"],
  10: ["externalName", "string"],
  11: ["externalTrafficPolicy", "string"],
  12: ["healthCheckNodePort", "int"],
  13: ["publishNotReadyAddresses", "bool"],
  14: ["sessionAffinityConfig", { 1: ["clientIP", { 1: ["timeoutSeconds", "int"] }] }],
  17: ["ipFamilyPolicy", "string"],
  18: ["clusterIPs", "strings"],
  19: ["ipFamilies", "strings"],
  20: ["allocateLoadBalancerNodePorts", "bool"],
  21: ["loadBalancerClass", "string"],
  22: ["internalTrafficPolicy", "string"],
  23: ["trafficDistribution", "string"],
};
const kinds: Readonly<Record<string, Schema>> = {
  "v1/Service": { 1: ["metadata", objectMeta], 2: ["spec", serviceSpec] },
  "v1/Namespace": { 1: ["metadata", objectMeta], 2: ["spec", { 1: ["finalizers", "strings"] }] },
};

class Reader {
  readonly #buf: Buffer;
  pos: number;
  readonly end: number;
  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.#buf = buf;
    this.pos = start;
    this.end = end;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end || shift > 63n)
        throw badRequest("cannot decode the protobuf body: truncated varint");
      const b = this.#buf[this.pos++] ?? 0;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }
  bytes(): Reader {
    const len = Number(this.varint());
    if (this.pos + len > this.end) throw badRequest("cannot decode the protobuf body: truncated field");
    const sub = new Reader(this.#buf, this.pos, this.pos + len);
    this.pos += len;
    return sub;
  }
  text(): string {
    const sub = this.bytes();
    return this.#buf.toString("utf8", sub.pos, sub.end);
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw badRequest(`cannot decode the protobuf body: unsupported wire type ${wire}`);
  }
}

/** A 64-bit varint as a signed number (int32/int64 fields). */
function signed(v: bigint): number {
  return Number(v >= 1n << 63n ? v - (1n << 64n) : v);
}

function decode(r: Reader, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  while (r.pos < r.end) {
    const key = Number(r.varint());
    const field = schema[key >>> 3];
    const wire = key & 7;
    if (field === undefined) {
      r.skip(wire);
      continue;
    }
    const [name, type] = field;
    const set = (value: unknown): void => {
      const empty =
        value === "" ||
        value === 0 ||
        value === false ||
        (typeof value === "object" && value !== null && Object.keys(value).length === 0);
      if (!empty) out[name] = value;
    };
    if (type === "string") set(r.text());
    else if (type === "int") set(signed(r.varint()));
    else if (type === "bool") set(r.varint() !== 0n);
    else if (type === "strings") out[name] = [...((out[name] as string[] | undefined) ?? []), r.text()];
    else if (type === "map") {
      const entry = decode(r.bytes(), { 1: ["key", "string"], 2: ["value", "string"] });
      out[name] = {
        ...((out[name] as Record<string, string> | undefined) ?? {}),
        [String(entry["key"] ?? "")]: String(entry["value"] ?? ""),
      };
    } else if (type === "time") {
      const t = decode(r.bytes(), { 1: ["seconds", "int"] });
      if (t["seconds"] !== undefined)
        set(new Date(Number(t["seconds"]) * 1000).toISOString().replace(".000Z", "Z"));
    } else if (type === "intOrString") {
      const v = decode(r.bytes(), { 1: ["type", "int"], 2: ["intVal", "int"], 3: ["strVal", "string"] });
      set(v["type"] === 1 ? (v["strVal"] ?? "") : (v["intVal"] ?? 0));
    } else if ("repeated" in type) {
      out[name] = [
        ...((out[name] as unknown[] | undefined) ?? []),
        decode(r.bytes(), type.repeated as Schema),
      ];
    } else {
      set(decode(r.bytes(), type as Schema));
    }
  }
  return out;
}

/** Decodes a `application/vnd.kubernetes.protobuf` body into the object's JSON form. */
export function decodeProtobufBody(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(magic)) {
    throw badRequest("cannot decode the protobuf body: it does not start with the Kubernetes magic number");
  }
  const envelope = decode(new Reader(body, 4), {
    1: ["typeMeta", { 1: ["apiVersion", "string"], 2: ["kind", "string"] }],
    2: ["raw", "string"],
  });
  const typeMeta = (envelope["typeMeta"] ?? {}) as { apiVersion?: string; kind?: string };
  const id = `${typeMeta.apiVersion ?? ""}/${typeMeta.kind ?? ""}`;
  const schema = kinds[id];
  if (schema === undefined) {
    throw new ApiError(
      415,
      "UnsupportedMediaType",
      `protobuf bodies are accepted only for ${Object.keys(kinds).join(", ")}, not ${id}; send application/json`,
    );
  }
  // Find the raw object bytes again as a buffer (the envelope's field 2).
  const r = new Reader(body, 4);
  while (r.pos < r.end) {
    const key = Number(r.varint());
    if (key >>> 3 === 2 && (key & 7) === 2) {
      const raw = r.bytes();
      return { apiVersion: typeMeta.apiVersion, kind: typeMeta.kind, ...decode(raw, schema) };
    }
    r.skip(key & 7);
  }
  throw badRequest("cannot decode the protobuf body: no object in it");
}
