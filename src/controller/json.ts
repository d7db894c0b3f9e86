// JSON values for controller records: sorted-key compact serialization, deep equality, cloning.

/** Any JSON value. */
export type Json = null | boolean | number | string | Json[] | JsonObject;

/** A JSON object (network or member record, rule, ...). */
export type JsonObject = { [key: string]: Json };

/** True for a plain JSON object (not null, not an array). */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Compact JSON with object keys sorted by code unit (the order nlohmann::json's std::map gives
 * for ASCII keys), the form the reference uses for HTTP answers and database files.
 */
export function canonicalJson(v: Json): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return "[" + v.map(canonicalJson).join(",") + "]";
  const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0
  );
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonicalJson(v[k])).join(",") + "}";
}

/** Deep equality of two JSON values (key order ignored). */
export function jsonEqual(a: Json, b: Json): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** Deep copy of a JSON value. */
export function cloneJson<T extends Json>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
