// Controller rule JSON (spec §8.1): validation of POSTed rules and their canonical re-rendering.
import { InetAddress } from "../vl1/inet_address.ts";
import type { Json, JsonObject } from "../util/json.ts";
import { isJsonObject } from "../util/json.ts";
import { coerceBool, coerceU64, isScalar, jsonTypeName } from "./coerce.ts";
import { RULE_TYPE_IDS } from "../vl2/rules/rule_encoding.ts";

/** The default network rule list: accept everything (as `initNetwork` writes it). */
export function defaultRules(): JsonObject[] {
  return [{ not: false, or: false, type: "ACTION_ACCEPT" }];
}

/** Result of checking one rule: the canonical rule, `undefined` if silently dropped, or an error. */
export type RuleCheck = { ok: true; rule: JsonObject | undefined } | { ok: false; error: string };

/** Result of checking a rule list. */
export type RulesCheck = { ok: true; rules: JsonObject[] } | { ok: false; error: string };

/** Thrown internally to carry a field error out of nested checks. */
class FieldError {
  constructor(readonly message: string) {}
}

function fail(path: string, msg: string): never {
  throw new FieldError(`${path}: ${msg}`);
}

/**
 * An integer rule field as the reference reads it: any scalar coerced like `jsonInt` (numeric
 * strings, booleans), then cut to the field's width (`mask`, e.g. 0xffff: 70000 → 4464);
 * missing → `dflt`. An object, array or null is an error.
 */
function uint(o: JsonObject, key: string, path: string, mask: number, dflt = 0): number {
  const v = o[key];
  if (v === undefined) return dflt;
  if (!isScalar(v)) fail(`${path}.${key}`, `expected an integer, not ${jsonTypeName(v)}`);
  return Number(coerceU64(v) & BigInt(mask));
}

/** A boolean rule flag (`not`, `or`) coerced like `jsonBool`; missing or null → false. */
function bool(o: JsonObject, key: string, path: string): boolean {
  const v = o[key];
  if (v === undefined || v === null) return false;
  if (!isScalar(v)) fail(`${path}.${key}`, `expected a boolean, not ${jsonTypeName(v)}`);
  return coerceBool(v);
}

function hexAddress(o: JsonObject, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== "string" || !/^[0-9a-fA-F]{1,10}$/.test(v)) {
    fail(`${path}.${key}`, "expected a 10-hex-digit ZeroTier address");
  }
  return v.toLowerCase().padStart(10, "0");
}

function macString(o: JsonObject, key: string, path: string): string {
  const v = o[key];
  const hex = typeof v === "string" ? v.replace(/[:\-.]/g, "") : "";
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) fail(`${path}.${key}`, "expected a MAC address");
  return hex.toLowerCase().match(/../g)!.join(":");
}

function cidr(o: JsonObject, key: string, path: string, family: 4 | 6): string {
  const v = o[key];
  const a = typeof v === "string" ? InetAddress.parse(v) : undefined;
  if (!a || a.family !== family || a.port > (family === 4 ? 32 : 128) || !String(v).includes("/")) {
    fail(`${path}.${key}`, `expected an IPv${family} CIDR (address/bits)`);
  }
  return a.toString();
}

function characteristicsMask(o: JsonObject, path: string): string {
  const v = o.mask;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) {
    return v.toString(16).padStart(16, "0");
  }
  if (typeof v === "bigint" && v >= 0n && v < 1n << 64n) return v.toString(16).padStart(16, "0");
  if (typeof v === "string" && /^(0x)?[0-9a-fA-F]{1,16}$/.test(v)) {
    return v.replace(/^0x/, "").toLowerCase().padStart(16, "0");
  }
  fail(`${path}.mask`, "expected a 64-bit hex string or a non-negative integer");
}

/** Checks one rule and returns its canonical JSON form (actions carry no `not`/`or`). */
function checkRule(v: Json | undefined, path: string): JsonObject | undefined {
  if (!isJsonObject(v)) fail(path, "expected a rule object");
  const type = v.type;
  if (typeof type !== "string") fail(`${path}.type`, "expected a rule type string");
  const id = RULE_TYPE_IDS[type];
  if (id === undefined) fail(`${path}.type`, `unknown rule type ${JSON.stringify(type)}`);
  const r: JsonObject = { type };
  if (id <= 15) {
    if (id === 2 || id === 3 || id === 4) {
      r.address = hexAddress(v, "address", path);
      r.flags = uint(v, "flags", path, 0xffffffff, 0);
      if (id !== 4) r.length = uint(v, "length", path, 0xffff, 0);
    }
    return r;
  }
  r.not = bool(v, "not", path);
  r.or = bool(v, "or", path);
  switch (id) {
    case 24:
    case 25:
      r.zt = hexAddress(v, "zt", path);
      break;
    case 26:
      r.vlanId = uint(v, "vlanId", path, 0xffff);
      break;
    case 27:
      r.vlanPcp = uint(v, "vlanPcp", path, 0xff);
      break;
    case 28:
      r.vlanDei = uint(v, "vlanDei", path, 0xff);
      break;
    case 29:
    case 30:
      r.mac = macString(v, "mac", path);
      break;
    case 31:
    case 32:
      r.ip = cidr(v, "ip", path, 4);
      break;
    case 33:
    case 34:
      r.ip = cidr(v, "ip", path, 6);
      break;
    case 35:
      r.mask = uint(v, "mask", path, 0xff);
      r.start = uint(v, "start", path, 0xff);
      r.end = uint(v, "end", path, 0xff); // the reference's default here is 0, not start
      break;
    case 36:
      r.ipProtocol = uint(v, "ipProtocol", path, 0xff);
      break;
    case 37:
      r.etherType = uint(v, "etherType", path, 0xffff);
      break;
    case 38:
      r.icmpType = uint(v, "icmpType", path, 0xff);
      r.icmpCode = v.icmpCode === undefined || v.icmpCode === null
        ? null
        : uint(v, "icmpCode", path, 0xff);
      break;
    case 39:
    case 40:
    case 42:
      r.start = uint(v, "start", path, 0xffff);
      r.end = uint(v, "end", path, 0xffff, r.start);
      break;
    case 41:
      r.mask = characteristicsMask(v, path);
      break;
    case 43:
      r.probability = uint(v, "probability", path, 0xffffffff);
      break;
    case 51:
      // QUIRK (spec §8.1): the 1.14 controller silently drops INTEGER_RANGE rules.
      return undefined;
    default:
      r.id = uint(v, "id", path, 0xffffffff);
      r.value = uint(v, "value", path, 0xffffffff);
  }
  return r;
}

/** Validates one rule JSON object; `path` names it in error messages (e.g. `rules[3]`). */
export function parseRuleJson(v: unknown, path: string): RuleCheck {
  try {
    return { ok: true, rule: checkRule(v as Json, path) };
  } catch (e) {
    if (e instanceof FieldError) return { ok: false, error: e.message };
    throw e;
  }
}

/** Validates a rule list (at most `max` rules); dropped rules are left out. */
export function parseRulesJson(v: unknown, path: string, max = 1024): RulesCheck {
  if (!Array.isArray(v)) return { ok: false, error: `${path}: expected an array of rules` };
  if (v.length > max) return { ok: false, error: `${path}: more than ${max} rules` };
  const rules: JsonObject[] = [];
  for (let i = 0; i < v.length; i++) {
    const c = parseRuleJson(v[i], `${path}[${i}]`);
    if (!c.ok) return c;
    if (c.rule) rules.push(c.rule);
  }
  return { ok: true, rules };
}

/** Rules from a stored record, keeping only those that validate (for building configs). */
export function storedRules(v: Json | undefined): JsonObject[] {
  if (!Array.isArray(v)) return [];
  const out: JsonObject[] = [];
  for (let i = 0; i < v.length; i++) {
    const c = parseRuleJson(v[i], `rules[${i}]`);
    if (c.ok && c.rule) out.push(c.rule);
  }
  return out;
}
