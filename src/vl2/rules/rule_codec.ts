// Rule conversions: wire RawRule <-> typed Rule (byte-exact), controller JSON <-> typed, and RDL-like text.
import { encodeRuleJson } from "./rule_encoding.ts";
import type { JsonObject } from "../../util/json.ts";
import { InetAddress } from "../../vl1/inet_address.ts";
import type { RawRule } from "../credentials/capability.ts";
import { macToString } from "../mac.ts";
import {
  CHARACTERISTIC_BITS,
  ETHERTYPE_NAMES,
  IP_PROTOCOL_NAMES,
} from "../rules_compiler/names.ts";
import {
  type Rule,
  RULE_ACTION_MAX_ID,
  RULE_FLAG_NOT,
  RULE_FLAG_OR,
  RuleId,
  ruleId,
  type TagRuleKind,
} from "./rule_types.ts";

const TAG_KINDS: readonly TagRuleKind[] = [
  "tagsDifference",
  "tagsAnd",
  "tagsOr",
  "tagsXor",
  "tagsEqual",
  "tagSender",
  "tagReceiver",
];

/** Canonical value length of each known id (spec §8.2); undefined = unknown id. */
function valueLength(id: number): number | undefined {
  switch (id) {
    case RuleId.DROP:
    case RuleId.ACCEPT:
    case RuleId.BREAK:
    case RuleId.PRIORITY:
      return 0;
    case RuleId.TEE:
    case RuleId.WATCH:
    case RuleId.REDIRECT:
      return 14;
    case RuleId.ZT_SOURCE:
    case RuleId.ZT_DEST:
      return 5;
    case RuleId.VLAN_ID:
    case RuleId.ETHERTYPE:
      return 2;
    case RuleId.VLAN_PCP:
    case RuleId.VLAN_DEI:
    case RuleId.IP_PROTOCOL:
      return 1;
    case RuleId.MAC_SOURCE:
    case RuleId.MAC_DEST:
      return 6;
    case RuleId.IPV4_SOURCE:
    case RuleId.IPV4_DEST:
      return 5;
    case RuleId.IPV6_SOURCE:
    case RuleId.IPV6_DEST:
      return 17;
    case RuleId.IP_TOS:
    case RuleId.ICMP:
      return 3;
    case RuleId.SOURCE_PORT_RANGE:
    case RuleId.DEST_PORT_RANGE:
    case RuleId.FRAME_SIZE_RANGE:
    case RuleId.RANDOM:
      return 4;
    case RuleId.CHARACTERISTICS:
    case RuleId.TAGS_DIFFERENCE:
    case RuleId.TAGS_BITWISE_AND:
    case RuleId.TAGS_BITWISE_OR:
    case RuleId.TAGS_BITWISE_XOR:
    case RuleId.TAGS_EQUAL:
    case RuleId.TAG_SENDER:
    case RuleId.TAG_RECEIVER:
      return 8;
    case RuleId.INTEGER_RANGE:
      return 19;
    default:
      return undefined;
  }
}

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function u40(b: Uint8Array, o: number): number {
  return b[o] * 0x1_0000_0000 + u32(b, o + 1);
}

function u64(b: Uint8Array, o: number): bigint {
  return (BigInt(u32(b, o)) << 32n) | BigInt(u32(b, o + 4));
}

function put(out: Uint8Array, o: number, v: number | bigint, n: number): void {
  let x = BigInt(v);
  for (let i = n - 1; i >= 0; i--) {
    out[o + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

/** Decodes fields from `v` (at least the canonical length). */
function decodeFields(id: number, not: boolean, or: boolean, v: Uint8Array): Rule {
  const f = { not, or };
  switch (id) {
    case RuleId.DROP:
      return { kind: "drop", ...f };
    case RuleId.ACCEPT:
      return { kind: "accept", ...f };
    case RuleId.BREAK:
      return { kind: "break", ...f };
    case RuleId.PRIORITY:
      return { kind: "priority", bucket: 0, ...f };
    case RuleId.TEE:
    case RuleId.WATCH:
    case RuleId.REDIRECT:
      return {
        kind: id === RuleId.TEE ? "tee" : id === RuleId.WATCH ? "watch" : "redirect",
        address: u40(v, 3),
        flags: u32(v, 8),
        length: u16(v, 12),
        ...f,
      };
    case RuleId.ZT_SOURCE:
    case RuleId.ZT_DEST:
      return { kind: id === RuleId.ZT_SOURCE ? "ztSource" : "ztDest", address: u40(v, 0), ...f };
    case RuleId.VLAN_ID:
      return { kind: "vlanId", value: u16(v, 0), ...f };
    case RuleId.VLAN_PCP:
    case RuleId.VLAN_DEI:
      return { kind: id === RuleId.VLAN_PCP ? "vlanPcp" : "vlanDei", value: v[0], ...f };
    case RuleId.MAC_SOURCE:
    case RuleId.MAC_DEST:
      return {
        kind: id === RuleId.MAC_SOURCE ? "macSource" : "macDest",
        mac: u16(v, 0) * 0x1_0000_0000 + u32(v, 2),
        ...f,
      };
    case RuleId.IPV4_SOURCE:
    case RuleId.IPV4_DEST:
      return {
        kind: id === RuleId.IPV4_SOURCE ? "ipv4Source" : "ipv4Dest",
        ip: v.slice(0, 4),
        bits: v[4],
        ...f,
      };
    case RuleId.IPV6_SOURCE:
    case RuleId.IPV6_DEST:
      return {
        kind: id === RuleId.IPV6_SOURCE ? "ipv6Source" : "ipv6Dest",
        ip: v.slice(0, 16),
        bits: v[16],
        ...f,
      };
    case RuleId.IP_TOS:
      return { kind: "ipTos", mask: v[0], start: v[1], end: v[2], ...f };
    case RuleId.IP_PROTOCOL:
      return { kind: "ipProtocol", protocol: v[0], ...f };
    case RuleId.ETHERTYPE:
      return { kind: "etherType", etherType: u16(v, 0), ...f };
    case RuleId.ICMP:
      return { kind: "icmp", icmpType: v[0], icmpCode: (v[2] & 1) !== 0 ? v[1] : null, ...f };
    case RuleId.SOURCE_PORT_RANGE:
    case RuleId.DEST_PORT_RANGE:
    case RuleId.FRAME_SIZE_RANGE:
      return {
        kind: id === RuleId.SOURCE_PORT_RANGE
          ? "sourcePort"
          : id === RuleId.DEST_PORT_RANGE
          ? "destPort"
          : "frameSize",
        start: u16(v, 0),
        end: u16(v, 2),
        ...f,
      };
    case RuleId.CHARACTERISTICS:
      return { kind: "characteristics", mask: u64(v, 0), ...f };
    case RuleId.RANDOM:
      return { kind: "random", probability: u32(v, 0), ...f };
    case RuleId.INTEGER_RANGE:
      return {
        kind: "integerRange",
        start: u64(v, 0),
        end: u64(v, 8),
        idx: u16(v, 16),
        littleEndian: (v[18] & 0x80) !== 0,
        bits: (v[18] & 63) + 1,
        ...f,
      };
    default:
      // 44..50: tag matches (the only remaining known ids).
      return {
        kind: TAG_KINDS[id - RuleId.TAGS_DIFFERENCE],
        tagId: u32(v, 0),
        value: u32(v, 4),
        ...f,
      };
  }
}

/** Canonical value bytes of a typed rule (ignores `wireValue`). */
function encodeFields(r: Rule): Uint8Array {
  const id = ruleId(r);
  if (r.kind === "unknown") return r.value;
  const v = new Uint8Array(valueLength(id) ?? 0);
  switch (r.kind) {
    case "drop":
    case "accept":
    case "break":
    case "priority":
      break;
    case "tee":
    case "watch":
    case "redirect":
      put(v, 0, r.address, 8);
      put(v, 8, r.flags >>> 0, 4);
      put(v, 12, r.length, 2);
      break;
    case "ztSource":
    case "ztDest":
      put(v, 0, r.address, 5);
      break;
    case "vlanId":
      put(v, 0, r.value, 2);
      break;
    case "vlanPcp":
    case "vlanDei":
      v[0] = r.value;
      break;
    case "macSource":
    case "macDest":
      put(v, 0, r.mac, 6);
      break;
    case "ipv4Source":
    case "ipv4Dest":
    case "ipv6Source":
    case "ipv6Dest":
      v.set(r.ip.subarray(0, v.length - 1));
      v[v.length - 1] = r.bits;
      break;
    case "ipTos":
      v[0] = r.mask;
      v[1] = r.start;
      v[2] = r.end;
      break;
    case "ipProtocol":
      v[0] = r.protocol;
      break;
    case "etherType":
      put(v, 0, r.etherType, 2);
      break;
    case "icmp":
      v[0] = r.icmpType;
      if (r.icmpCode !== null) {
        v[1] = r.icmpCode;
        v[2] = 1;
      }
      break;
    case "sourcePort":
    case "destPort":
    case "frameSize":
      put(v, 0, r.start, 2);
      put(v, 2, r.end, 2);
      break;
    case "characteristics":
      put(v, 0, BigInt.asUintN(64, r.mask), 8);
      break;
    case "random":
      put(v, 0, r.probability >>> 0, 4);
      break;
    case "integerRange":
      put(v, 0, BigInt.asUintN(64, r.start), 8);
      put(v, 8, BigInt.asUintN(64, r.end), 8);
      put(v, 16, r.idx, 2);
      v[18] = (r.littleEndian ? 0x80 : 0) | ((r.bits - 1) & 63);
      break;
    default:
      put(v, 0, r.tagId >>> 0, 4);
      put(v, 4, r.value >>> 0, 4);
  }
  return v;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Decodes one wire rule. Unknown ids, and known ids whose value is shorter than their canonical
 * length, become `kind: "unknown"`. Never throws; {@link encodeRule} gives the same bytes back.
 */
export function decodeRule(raw: RawRule): Rule {
  const id = raw.type & 0x3f;
  const not = (raw.type & RULE_FLAG_NOT) !== 0;
  const or = (raw.type & RULE_FLAG_OR) !== 0;
  const need = valueLength(id);
  if (need === undefined || raw.value.length < need) {
    return { kind: "unknown", id, value: raw.value.slice(), not, or };
  }
  const r = decodeFields(id, not, or, raw.value);
  if (!sameBytes(encodeFields(r), raw.value)) r.wireValue = raw.value.slice();
  return r;
}

/** Encodes one typed rule to its wire form (uses `wireValue` verbatim when present). */
export function encodeRule(r: Rule): RawRule {
  const type = ruleId(r) | (r.not ? RULE_FLAG_NOT : 0) | (r.or ? RULE_FLAG_OR : 0);
  return { type, value: r.wireValue ? r.wireValue.slice() : encodeFields(r) };
}

/** Decodes a rule list. */
export function decodeRules(raws: readonly RawRule[]): Rule[] {
  return raws.map(decodeRule);
}

/** Encodes a rule list. */
export function encodeRules(rules: readonly Rule[]): RawRule[] {
  return rules.map(encodeRule);
}

/**
 * Typed rule from controller / compiler rule JSON (spec §8.1), via the controller's own
 * JSON -> wire encoder. Undefined for what the wire cannot carry (INTEGER_RANGE, unknown types).
 */
export function ruleFromJson(json: JsonObject): Rule | undefined {
  const raw = encodeRuleJson(json);
  return raw && decodeRule(raw);
}

/** Typed rules from a JSON rule list, skipping rules the controller would drop. */
export function rulesFromJson(json: readonly JsonObject[]): Rule[] {
  const out: Rule[] = [];
  for (const j of json) {
    const r = ruleFromJson(j);
    if (r) out.push(r);
  }
  return out;
}

/** Controller JSON `type` name of each id (spec §8.1). */
const JSON_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: "ACTION_DROP",
  1: "ACTION_ACCEPT",
  2: "ACTION_TEE",
  3: "ACTION_WATCH",
  4: "ACTION_REDIRECT",
  5: "ACTION_BREAK",
  6: "ACTION_PRIORITY",
  24: "MATCH_SOURCE_ZEROTIER_ADDRESS",
  25: "MATCH_DEST_ZEROTIER_ADDRESS",
  26: "MATCH_VLAN_ID",
  27: "MATCH_VLAN_PCP",
  28: "MATCH_VLAN_DEI",
  29: "MATCH_MAC_SOURCE",
  30: "MATCH_MAC_DEST",
  31: "MATCH_IPV4_SOURCE",
  32: "MATCH_IPV4_DEST",
  33: "MATCH_IPV6_SOURCE",
  34: "MATCH_IPV6_DEST",
  35: "MATCH_IP_TOS",
  36: "MATCH_IP_PROTOCOL",
  37: "MATCH_ETHERTYPE",
  38: "MATCH_ICMP",
  39: "MATCH_IP_SOURCE_PORT_RANGE",
  40: "MATCH_IP_DEST_PORT_RANGE",
  41: "MATCH_CHARACTERISTICS",
  42: "MATCH_FRAME_SIZE_RANGE",
  43: "MATCH_RANDOM",
  44: "MATCH_TAGS_DIFFERENCE",
  45: "MATCH_TAGS_BITWISE_AND",
  46: "MATCH_TAGS_BITWISE_OR",
  47: "MATCH_TAGS_BITWISE_XOR",
  48: "MATCH_TAGS_EQUAL",
  49: "MATCH_TAG_SENDER",
  50: "MATCH_TAG_RECEIVER",
  51: "MATCH_INTEGER_RANGE",
};

const hex40 = (a: number) => a.toString(16).padStart(10, "0");
const hex64 = (v: bigint) => BigInt.asUintN(64, v).toString(16).padStart(16, "0");

/**
 * Controller JSON of a typed rule, in the canonical key order (`type`, then `not`/`or` for
 * matches, then fields). Undefined for `unknown` rules.
 */
export function ruleToJson(r: Rule): JsonObject | undefined {
  if (r.kind === "unknown") return undefined;
  const type = JSON_TYPE_NAMES[ruleId(r)];
  switch (r.kind) {
    case "drop":
    case "accept":
    case "break":
    case "priority":
      return { type };
    case "tee":
    case "watch":
      return { type, address: hex40(r.address), flags: r.flags, length: r.length };
    case "redirect":
      return { type, address: hex40(r.address), flags: r.flags };
  }
  const o: JsonObject = { type, not: r.not, or: r.or };
  switch (r.kind) {
    case "ztSource":
    case "ztDest":
      o.zt = hex40(r.address);
      break;
    case "vlanId":
      o.vlanId = r.value;
      break;
    case "vlanPcp":
      o.vlanPcp = r.value;
      break;
    case "vlanDei":
      o.vlanDei = r.value;
      break;
    case "macSource":
    case "macDest":
      o.mac = macToString(r.mac);
      break;
    case "ipv4Source":
    case "ipv4Dest":
    case "ipv6Source":
    case "ipv6Dest":
      o.ip = ipText(r.ip, r.bits);
      break;
    case "ipTos":
      o.mask = r.mask;
      o.start = r.start;
      o.end = r.end;
      break;
    case "ipProtocol":
      o.ipProtocol = r.protocol;
      break;
    case "etherType":
      o.etherType = r.etherType;
      break;
    case "icmp":
      o.icmpType = r.icmpType;
      o.icmpCode = r.icmpCode;
      break;
    case "sourcePort":
    case "destPort":
    case "frameSize":
      o.start = r.start;
      o.end = r.end;
      break;
    case "characteristics":
      o.mask = hex64(r.mask);
      break;
    case "random":
      o.probability = r.probability;
      break;
    case "integerRange":
      o.start = hex64(r.start);
      o.end = hex64(r.end);
      o.idx = r.idx;
      o.little = r.littleEndian;
      o.bits = r.bits;
      break;
    default:
      o.id = r.tagId;
      o.value = r.value;
  }
  return o;
}

function ipText(ip: Uint8Array, bits: number): string {
  return new InetAddress(ip, bits).toString();
}

function invert(m: Readonly<Record<string, number>>): Map<number, string> {
  const out = new Map<number, string>();
  for (const [k, v] of Object.entries(m)) if (!out.has(v)) out.set(v, k);
  return out;
}

const ETHERTYPE_BY_VALUE = invert(ETHERTYPE_NAMES);
const PROTOCOL_BY_VALUE = invert(IP_PROTOCOL_NAMES);
const CHR_BY_BIT = invert(CHARACTERISTIC_BITS);

const range = (a: number, b: number) => (a === b ? `${a}` : `${a}-${b}`);

/** RDL-like one-line text of a rule (`not ethertype ipv4`, `tee 0 1234567890`, `accept`). */
export function ruleToText(r: Rule): string {
  const pre = `${r.or ? "or " : ""}${r.not ? "not " : ""}`;
  switch (r.kind) {
    case "drop":
    case "accept":
    case "break":
    case "priority":
      return r.kind;
    case "tee":
    case "watch":
      return `${r.kind} ${r.length} ${hex40(r.address)}`;
    case "redirect":
      return `redirect ${hex40(r.address)}`;
    case "ztSource":
      return `${pre}ztsrc ${hex40(r.address)}`;
    case "ztDest":
      return `${pre}ztdest ${hex40(r.address)}`;
    case "vlanId":
      return `${pre}vlan ${r.value}`;
    case "vlanPcp":
      return `${pre}vlanpcp ${r.value}`;
    case "vlanDei":
      return `${pre}vlandei ${r.value}`;
    case "macSource":
      return `${pre}macsrc ${macToString(r.mac)}`;
    case "macDest":
      return `${pre}macdest ${macToString(r.mac)}`;
    case "ipv4Source":
    case "ipv6Source":
      return `${pre}ipsrc ${ipText(r.ip, r.bits)}`;
    case "ipv4Dest":
    case "ipv6Dest":
      return `${pre}ipdest ${ipText(r.ip, r.bits)}`;
    case "ipTos":
      return `${pre}iptos 0x${r.mask.toString(16)} ${range(r.start, r.end)}`;
    case "ipProtocol":
      return `${pre}ipprotocol ${PROTOCOL_BY_VALUE.get(r.protocol) ?? r.protocol}`;
    case "etherType":
      return `${pre}ethertype ${
        ETHERTYPE_BY_VALUE.get(r.etherType) ?? `0x${r.etherType.toString(16).padStart(4, "0")}`
      }`;
    case "icmp":
      return `${pre}icmp ${r.icmpType} ${r.icmpCode ?? -1}`;
    case "sourcePort":
      return `${pre}sport ${range(r.start, r.end)}`;
    case "destPort":
      return `${pre}dport ${range(r.start, r.end)}`;
    case "frameSize":
      return `${pre}framesize ${range(r.start, r.end)}`;
    case "characteristics": {
      const names: string[] = [];
      for (let b = 63; b >= 0; b--) {
        if ((r.mask >> BigInt(b)) & 1n) names.push(CHR_BY_BIT.get(b) ?? `${b}`);
      }
      return `${pre}chr ${names.join(",") || "0"}`;
    }
    case "random":
      return `${pre}random ${(r.probability / 0xffffffff).toFixed(6)}`;
    case "integerRange":
      return `${pre}integer ${r.littleEndian ? "le" : "be"}${r.bits}@${r.idx} ${r.start}-${r.end}`;
    case "unknown":
      return `${pre}${r.id <= RULE_ACTION_MAX_ID ? "action" : "match"}#${r.id} ${
        Array.from(r.value, (x) => x.toString(16).padStart(2, "0")).join("")
      }`.trimEnd();
    default: {
      const kw: Record<TagRuleKind, string> = {
        tagsDifference: "tdiff",
        tagsAnd: "tand",
        tagsOr: "tor",
        tagsXor: "txor",
        tagsEqual: "teq",
        tagSender: "tseq",
        tagReceiver: "treq",
      };
      return `${pre}${kw[r.kind]} ${r.tagId} ${r.value}`;
    }
  }
}
