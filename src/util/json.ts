// JSON values: the Json type, sorted-key compact serialization, deep equality, cloning, 64-bit-exact parsing.
import { parseJson64 } from "./json64.ts";

/**
 * Any JSON value. An integer too large for a double (a 64-bit value such as a wrapped
 * `multicastLimit` of -1, i.e. 18446744073709551615) is a `bigint` so it round-trips exactly.
 */
export type Json = null | boolean | number | bigint | string | Json[] | JsonObject;

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
  if (typeof v === "bigint") return v.toString();
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

/** Deep copy of a JSON value (`undefined` members are left out, as JSON text would). */
export function cloneJson<T extends Json>(v: T): T {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map((x) => x === undefined ? null : cloneJson(x)) as T;
  const o: JsonObject = {};
  for (const k of Object.keys(v)) {
    const x = v[k];
    if (x !== undefined) o[k] = cloneJson(x);
  }
  return o as T;
}

/**
 * Parses JSON text with 64-bit integers kept exact (see `parseJson64`); throws `SyntaxError` on
 * malformed text.
 */
export function parseJson(text: string): Json {
  return parseJson64(text) as Json;
}
