// Scalar coercions of controller POST fields, with the rules ZeroTier One 1.14's controller uses.
//
// The reference reads every scalar of a POST body leniently (booleans from numbers and strings,
// integers from booleans and from the numeric prefix of a string, strings from numbers). These
// functions give the same results (facts checked against its behaviour, not ported from its
// code). A JSON object, array or null where a scalar belongs is not coerced here:
// callers answer 400 instead (a deliberate deviation; the reference silently uses a default).
import type { Json } from "../util/json.ts";

/** A JSON scalar a coercion accepts. */
export type JsonScalar = boolean | number | bigint | string;

const U64 = 64;
const U64_MAX = (1n << 64n) - 1n;

/** True for a value the coercions accept (boolean, number, bigint, string). */
export function isScalar(v: Json | undefined): v is JsonScalar {
  const t = typeof v;
  return t === "boolean" || t === "number" || t === "bigint" || t === "string";
}

/**
 * A JSON number as the unsigned 64-bit integer a C++ cast gives: fractions are truncated toward
 * zero and negative values wrap modulo 2^64 (-1 → 18446744073709551615). Non-finite numbers
 * give 0.
 */
function numberToU64(v: number | bigint): bigint {
  if (typeof v === "bigint") return BigInt.asUintN(U64, v);
  if (!Number.isFinite(v)) return 0n;
  return BigInt.asUintN(U64, BigInt(Math.trunc(v)));
}

/**
 * The C library's `strtoull(s, NULL, 10)`: leading white space, an optional sign, then the
 * longest run of decimal digits ("64abc" → 64, "abc" → 0, " +7" → 7). A minus sign negates the
 * value modulo 2^64 ("-1" → 18446744073709551615); a value beyond 2^64 - 1 saturates there.
 */
export function strtoull10(s: string): bigint {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]*)/.exec(s)!;
  if (m[2] === "") return 0n;
  const n = BigInt(m[2]);
  if (n > U64_MAX) return U64_MAX;
  return m[1] === "-" ? BigInt.asUintN(U64, -n) : n;
}

/**
 * A scalar as a boolean (the reference's `jsonBool`): booleans as they are; numbers are true
 * when their integer part is not zero (negative numbers included); strings are true when they
 * start with `t`, `T` or `1` ("true", "True", "1", "1abc"), false otherwise ("false", "0", "").
 */
export function coerceBool(v: JsonScalar): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "string") return v.length > 0 && (v[0] === "t" || v[0] === "T" || v[0] === "1");
  return numberToU64(v) !== 0n;
}

/**
 * A scalar as an unsigned 64-bit integer (the reference's `jsonInt`): numbers cast as in C
 * (`numberToU64`), strings through `strtoull10`, booleans as 1 or 0.
 */
export function coerceU64(v: JsonScalar): bigint {
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (typeof v === "string") return strtoull10(v);
  return numberToU64(v);
}

/**
 * A scalar as a string (the reference's `jsonString`): strings as they are, numbers as the
 * decimal of their unsigned 64-bit cast (so 5.7 → "5", -1 → "18446744073709551615"), booleans
 * as "1" or "0".
 */
export function coerceString(v: JsonScalar): string {
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "1" : "0";
  return numberToU64(v).toString();
}

/** A 64-bit unsigned value as a JSON number when it is exact as a double, else as a bigint. */
export function u64Json(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** The low 32 bits of a coerced integer, as the reference's `(unsigned int)` casts take them. */
export function low32(v: bigint): number {
  return Number(v & 0xffff_ffffn);
}

/** Describes the JSON type of a value for error messages ("an object", "null", ...). */
export function jsonTypeName(v: Json | undefined): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  return typeof v;
}
